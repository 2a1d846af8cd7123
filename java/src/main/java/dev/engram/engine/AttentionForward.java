package dev.engram.engine;

/**
 * The forward pass of an {@link Attention}: the outputs and, per query, what its backward pass needs to recompute
 * every attention weight tile by tile, so the H×B×M weights are never stored:
 * <pre>
 *   a_bi = e^(β·(s_bi − max_b) − logSumExp_b)
 * </pre>
 * The maximum is kept unscaled (a raw score) and the log-normaliser relative to it, so both stay of order 1 at any β:
 * the log-sum-exp of the scaled scores is {@code β·max_b + logSumExp_b}, with {@code 0 ≤ logSumExp_b ≤ log M}.
 *
 * @param output    H×B×dv: o_b = Σ_i a_bi·v_i
 * @param max       H×B: max_i s_bi
 * @param logSumExp H×B: log Σ_i e^(β·(s_bi − max_b))
 * @param entropy   H×B: −Σ_i a_bi·log a_bi, in [0, log M]
 */
public record AttentionForward(double[] output, double[] max, double[] logSumExp, double[] entropy) {
}
