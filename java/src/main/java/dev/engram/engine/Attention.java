package dev.engram.engine;

import java.util.Objects;

/**
 * One multi-head softmax attention of a training step, the retrieval of the engines with the inputs a gradient
 * needs: for every head h, query b and stored row i,
 * <pre>
 *   s_bi = q_b·k_i,   a_bi = e^(β·s_bi) / Σ_j e^(β·s_bj),   o_b = Σ_i a_bi·v_i
 * </pre>
 * ({@link Backend#attend}), and for an upstream gradient ∂L/∂o the gradients with respect to q, k, v and β
 * ({@link Backend#attendBackward}). Heads are independent problems of the same shape. Engines read, never write,
 * the arrays.
 *
 * @param heads    H ≥ 1
 * @param batch    B ≥ 1 queries per head
 * @param memory   M ≥ 1 stored rows per head
 * @param keyDim   dk ≥ 1
 * @param valueDim dv ≥ 1
 * @param queries  H×B×dk, row-major, finite
 * @param keys     H×M×dk, row-major, finite
 * @param values   H×M×dv, row-major, finite
 * @param beta     β &gt; 0, finite (any scale: β·s of 10^9 is fine, see {@link AttentionForward})
 */
public record Attention(int heads, int batch, int memory, int keyDim, int valueDim, double[] queries, double[] keys,
                        double[] values, double beta) {
    public Attention {
        positive("heads", heads);
        positive("batch", batch);
        positive("memory", memory);
        positive("keyDim", keyDim);
        positive("valueDim", valueDim);
        if (!(beta > 0) || !Double.isFinite(beta)) {
            throw new IllegalArgumentException("beta must be a finite number > 0, got " + beta);
        }
        checked("queries", queries, (long) heads * batch * keyDim);
        checked("keys", keys, (long) heads * memory * keyDim);
        checked("values", values, (long) heads * memory * valueDim);
    }

    private static void positive(String name, int v) {
        if (v < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + v);
        }
    }

    /** Checks that {@code a} has {@code length} finite values; for engines (one-line message naming the argument). */
    public static void checkFinite(String name, double[] a, long length) {
        checked(name, a, length);
    }

    static void checked(String name, double[] a, long length) {
        Objects.requireNonNull(a, name);
        if (a.length != length) {
            throw new IllegalArgumentException(name + " has length " + a.length + ", expected " + length);
        }
        // x − x is 0 for a finite x and NaN otherwise; four independent sums keep the check at memory speed
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int i = 0;
        for (; i + 4 <= a.length; i += 4) {
            s0 += a[i] - a[i];
            s1 += a[i + 1] - a[i + 1];
            s2 += a[i + 2] - a[i + 2];
            s3 += a[i + 3] - a[i + 3];
        }
        for (; i < a.length; i++) {
            s0 += a[i] - a[i];
        }
        if (s0 + s1 + s2 + s3 == 0) {
            return;
        }
        for (i = 0; i < a.length; i++) {
            if (!Double.isFinite(a[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] is " + a[i] + "; every value must be finite");
            }
        }
    }

    /**
     * Checks a backward call's other arguments against this problem; for engines.
     *
     * @param forward        what the same engine's {@link Backend#attend} returned for this problem
     * @param outputGradient ∂L/∂o, H×B×dv, finite
     */
    public void checkBackward(AttentionForward forward, double[] outputGradient) {
        Objects.requireNonNull(forward, "forward");
        int hb = heads * batch;
        if (forward.output().length != hb * valueDim || forward.max().length != hb
                || forward.logSumExp().length != hb || forward.entropy().length != hb) {
            throw new IllegalArgumentException("forward has output " + forward.output().length + ", max "
                    + forward.max().length + " values; this attention needs " + hb * valueDim + " and " + hb
                    + " (H×B×dv and H×B): pass what attend returned for it");
        }
        checked("outputGradient", outputGradient, (long) hb * valueDim);
    }
}
