package dev.engram.engine;

import java.util.SplittableRandom;

/**
 * Seeded models of every ensemble kind with n = 2 (m = 2 where a model takes inputs u(t)), small enough to integrate
 * on any engine in moments: what the cross-checks between engines integrate (the native and JCuda integration tests,
 * and {@code engram gpu-check} on a lent GPU machine, where no test framework runs).
 */
public final class SampleModels {
    private SampleModels() {
    }

    /** Glorot weights with biases in [−0.2, 0.2], so every bias path is exercised. */
    public static MlpWeights net(long seed, int... widths) {
        MlpWeights g = MlpWeights.glorot(widths, seed);
        float[][] b = g.biases();
        SplittableRandom rnd = new SplittableRandom(seed ^ 0x5DEECE66DL);
        for (float[] layer : b) {
            for (int i = 0; i < layer.length; i++) {
                layer[i] = (float) (0.4 * rnd.nextDouble() - 0.2);
            }
        }
        return new MlpWeights(widths, g.weights(), b);
    }

    /** A rows × m table of inputs, uniform in [−1, 1]. */
    public static float[] table(int rows, int m, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] u = new float[rows * m];
        for (int i = 0; i < u.length; i++) {
            u[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return u;
    }

    /**
     * A model of {@code kind} (hnn, separable, dissipative, port, port-no-u, baseline, baseline-u) for {@code steps}
     * steps.
     */
    public static EnsembleModel model(String kind, int steps, long seed) {
        return switch (kind) {
            case "hnn" -> new EnsembleModel.Hamiltonian(net(seed, 4, 12, 12, 1));
            case "separable" -> new EnsembleModel.Separable(net(seed, 2, 10, 10, 1), net(seed + 1, 2, 10, 10, 1));
            case "dissipative" -> new EnsembleModel.Dissipative(net(seed, 4, 12, 12, 1), net(seed + 1, 4, 6, 2));
            case "port" -> new EnsembleModel.PortHamiltonian(net(seed, 4, 12, 12, 1), net(seed + 1, 4, 6, 2),
                    net(seed + 2, 2, 5, 4), table(steps, 2, seed + 3));
            case "port-no-u" -> new EnsembleModel.PortHamiltonian(net(seed, 4, 12, 12, 1), net(seed + 1, 4, 6, 2),
                    net(seed + 2, 2, 4), null);
            case "baseline" -> new EnsembleModel.Derivative(net(seed, 4, 12, 12, 4));
            case "baseline-u" -> new EnsembleModel.Derivative(net(seed, 6, 12, 4), table(steps, 2, seed + 3));
            default -> throw new IllegalArgumentException("unknown sample model kind '" + kind + "'");
        };
    }
}
