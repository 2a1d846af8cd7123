package dev.engram.hnn;

import dev.engram.engine.EnsembleModel;
import dev.engram.engine.TrainingModel;

import java.util.Map;

/**
 * What every model shares: n degrees of freedom, m external inputs, θ as one flat vector and the networks laid out
 * over slices of it.
 */
abstract sealed class NetworkField implements LearnedField
        permits HamiltonianMlpField, SeparableHamiltonianNetwork, DerivativeNetwork {
    final int n;
    final int m;
    final double[] theta;
    final Map<String, Mlp> nets;
    private final String kind;

    NetworkField(int n, int m, double[] theta, Map<String, Mlp> nets, String kind) {
        this.n = n;
        this.m = m;
        this.theta = theta;
        this.nets = nets;
        this.kind = kind;
    }

    @Override
    public final int dof() {
        return n;
    }

    @Override
    public final int inputCount() {
        return m;
    }

    @Override
    public final String kind() {
        return kind;
    }

    @Override
    public final double[] parameters() {
        return theta;
    }

    @Override
    public final Map<String, Mlp> networks() {
        return nets;
    }

    @Override
    public final EnsembleModel toEnsembleModel(float[] inputs) {
        if (inputs != null && m == 0) {
            throw new IllegalArgumentException("a '" + kind + "' model takes no inputs (m = 0); pass no input table");
        }
        return ensembleModel(inputs);
    }

    @Override
    public final TrainingModel toTrainingModel() {
        TrainingModel.Kind k = TrainingModel.Kind.of(kind);
        String[] names = k.networks();
        int[][] widths = new int[names.length][];
        for (int i = 0; i < names.length; i++) {
            widths[i] = nets.get(names[i]).widths();
        }
        TrainingModel t = new TrainingModel(k, n, m, widths);
        for (int i = 0; i < names.length; i++) {
            if (t.offset(i) != nets.get(names[i]).offset()) {
                throw new IllegalStateException("network " + names[i] + " of a '" + kind + "' model starts at "
                        + nets.get(names[i]).offset() + " in theta, the engines expect " + t.offset(i));
            }
        }
        return t;
    }

    /** The networks' weights in float32 as the engines' description of this kind; inputs null or steps×m. */
    abstract EnsembleModel ensembleModel(float[] inputs);
}
