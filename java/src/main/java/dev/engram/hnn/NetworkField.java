package dev.engram.hnn;

import dev.engram.engine.EnsembleModel;

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

    /** The networks' weights in float32 as the engines' description of this kind; inputs null or steps×m. */
    abstract EnsembleModel ensembleModel(float[] inputs);
}
