package dev.engram.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * The weights of a tanh multilayer perceptron as plain float32 data for engines:
 * <pre>
 *   a_0 = x,   a_l = tanh(W_l·a_{l−1} + b_l)  for l = 1 … L,   y = W_{L+1}·a_L + b_{L+1}  (linear output)
 * </pre>
 * {@code widths = [in, h_1, …, h_L, out]}; layer l (0-based, {@code l < layers()}) maps {@code widths[l]} to
 * {@code widths[l+1]} with {@code weights[l]} row-major {@code widths[l+1] × widths[l]} and {@code biases[l]} of
 * length {@code widths[l+1]}. The last layer is linear, all others tanh. Immutable: the arrays are copied in and
 * handed out as copies.
 */
public record MlpWeights(int[] widths, float[][] weights, float[][] biases) {
    public MlpWeights {
        Objects.requireNonNull(widths, "widths");
        if (widths.length < 2) {
            throw new IllegalArgumentException("widths needs at least [in, out], got " + Arrays.toString(widths));
        }
        for (int i = 0; i < widths.length; i++) {
            if (widths[i] < 1) {
                throw new IllegalArgumentException("widths[" + i + "] must be >= 1, got " + widths[i]);
            }
        }
        int layers = widths.length - 1;
        if (weights.length != layers || biases.length != layers) {
            throw new IllegalArgumentException("widths " + Arrays.toString(widths) + " need " + layers
                    + " weight matrices and bias vectors, got " + weights.length + " and " + biases.length);
        }
        widths = widths.clone();
        float[][] w = new float[layers][];
        float[][] b = new float[layers][];
        for (int l = 0; l < layers; l++) {
            if (weights[l].length != widths[l + 1] * widths[l]) {
                throw new IllegalArgumentException("weights[" + l + "] has " + weights[l].length + " entries, expected "
                        + widths[l + 1] + "×" + widths[l]);
            }
            if (biases[l].length != widths[l + 1]) {
                throw new IllegalArgumentException("biases[" + l + "] has " + biases[l].length + " entries, expected "
                        + widths[l + 1]);
            }
            for (int i = 0; i < weights[l].length; i++) {
                if (!Float.isFinite(weights[l][i])) {
                    throw new IllegalArgumentException("weights[" + l + "][" + i + "] is " + weights[l][i]);
                }
            }
            for (int i = 0; i < biases[l].length; i++) {
                if (!Float.isFinite(biases[l][i])) {
                    throw new IllegalArgumentException("biases[" + l + "][" + i + "] is " + biases[l][i]);
                }
            }
            w[l] = weights[l].clone();
            b[l] = biases[l].clone();
        }
        weights = w;
        biases = b;
    }

    /**
     * Glorot-uniform weights (U(±√(6/(fan_in + fan_out)))) and zero biases, from a seed: for benchmarks, tests and
     * as a training starting point.
     */
    public static MlpWeights glorot(int[] widths, long seed) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        float[][] w = new float[widths.length - 1][];
        float[][] b = new float[widths.length - 1][];
        for (int l = 0; l + 1 < widths.length; l++) {
            w[l] = new float[widths[l + 1] * widths[l]];
            b[l] = new float[widths[l + 1]];
            double limit = Math.sqrt(6.0 / (widths[l] + widths[l + 1]));
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] = (float) ((rnd.nextDouble() * 2 - 1) * limit);
            }
        }
        return new MlpWeights(widths, w, b);
    }

    /** The widths (a copy). */
    @Override
    public int[] widths() {
        return widths.clone();
    }

    /** The weight matrices, row-major (a deep copy: this record stays immutable). */
    @Override
    public float[][] weights() {
        return deepCopy(weights);
    }

    /** The bias vectors (a deep copy). */
    @Override
    public float[][] biases() {
        return deepCopy(biases);
    }

    private static float[][] deepCopy(float[][] a) {
        float[][] c = new float[a.length][];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i].clone();
        }
        return c;
    }

    /** Number of affine layers (hidden layers + the linear output). */
    public int layers() {
        return widths.length - 1;
    }

    public int inputWidth() {
        return widths[0];
    }

    public int outputWidth() {
        return widths[widths.length - 1];
    }

    /** W_l[i][j], row i (output unit), column j (input unit). */
    public float weight(int layer, int i, int j) {
        return weights[layer][i * widths[layer] + j];
    }

    public float bias(int layer, int i) {
        return biases[layer][i];
    }
}
