package dev.engram.engine;

/**
 * Gradients of a scalar loss L through an {@link Attention}, given ∂L/∂o; with ∂a_bi = ∂o_b·v_i and
 * ∂s_bi = a_bi·(∂a_bi − ∂o_b·o_b) (the gradient with respect to the scaled score β·s_bi):
 * <pre>
 *   ∂q_b = β·Σ_i ∂s_bi·k_i,   ∂k_i = β·Σ_b ∂s_bi·q_b,   ∂v_i = Σ_b a_bi·∂o_b,   ∂β = Σ_b Σ_i ∂s_bi·s_bi
 * </pre>
 * summed over the heads for β, per head for the rest.
 *
 * @param queries H×B×dk
 * @param keys    H×M×dk
 * @param values  H×M×dv
 * @param beta    ∂L/∂β
 */
public record AttentionGradient(double[] queries, double[] keys, double[] values, double beta) {
}
