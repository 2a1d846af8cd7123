package dev.engram.engine;

/**
 * A linear map of many rows, the other heavy product of a training step besides the attention:
 * <pre>
 *   Y = X·Wᵀ   (X: rows×k, W: n×k, Y: rows×n);   given ∂Y:  ∂W = ∂Yᵀ·X,  ∂X = ∂Y·W
 * </pre>
 * ({@link Backend#project}, {@link Backend#projectBackward}). Engines read, never write, the arrays.
 *
 * @param rows    ≥ 1
 * @param inputs  k ≥ 1
 * @param outputs n ≥ 1
 * @param x       rows×k, row-major, finite
 * @param w       n×k, row-major, finite
 */
public record Projection(int rows, int inputs, int outputs, double[] x, double[] w) {
    public Projection {
        if (rows < 1 || inputs < 1 || outputs < 1) {
            throw new IllegalArgumentException("a projection needs rows, inputs and outputs >= 1, got " + rows + ", "
                    + inputs + ", " + outputs);
        }
        Attention.checked("x", x, (long) rows * inputs);
        Attention.checked("w", w, (long) outputs * inputs);
    }

    /**
     * ∂W (n×k) and, when asked for, ∂X (rows×k, else null).
     *
     * @param weights ∂W
     * @param inputs  ∂X or null
     */
    public record Gradient(double[] weights, double[] inputs) {
    }
}
