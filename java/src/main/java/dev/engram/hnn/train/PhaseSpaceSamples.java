package dev.engram.hnn.train;

import java.util.Objects;

/**
 * Training or test data for the derivative (HNN) loss: N samples of a state (q, p), optional external inputs u and
 * the target time derivatives (dq/dt, dp/dt). All arrays row-major, one row per sample.
 *
 * @param dof    n ≥ 1
 * @param inputs m ≥ 0
 * @param q      N×n
 * @param p      N×n
 * @param u      N×m (length 0 when m = 0)
 * @param dqdt   N×n targets
 * @param dpdt   N×n targets
 */
public record PhaseSpaceSamples(int dof, int inputs, double[] q, double[] p, double[] u, double[] dqdt, double[] dpdt) {
    public PhaseSpaceSamples {
        if (dof < 1) {
            throw new IllegalArgumentException("dof must be >= 1, got " + dof);
        }
        if (inputs < 0) {
            throw new IllegalArgumentException("inputs must be >= 0, got " + inputs);
        }
        Objects.requireNonNull(q, "q");
        Objects.requireNonNull(p, "p");
        Objects.requireNonNull(u, "u");
        Objects.requireNonNull(dqdt, "dqdt");
        Objects.requireNonNull(dpdt, "dpdt");
        if (q.length % dof != 0) {
            throw new IllegalArgumentException("q has length " + q.length + ", not a multiple of dof = " + dof);
        }
        int n = q.length / dof;
        if (n == 0) {
            throw new IllegalArgumentException("the data set is empty (no samples)");
        }
        requireLength("p", p, n * dof, n);
        requireLength("dqdt", dqdt, n * dof, n);
        requireLength("dpdt", dpdt, n * dof, n);
        requireLength("u", u, n * inputs, n);
        requireFinite("q", q, dof);
        requireFinite("p", p, dof);
        requireFinite("u", u, inputs);
        requireFinite("dqdt", dqdt, dof);
        requireFinite("dpdt", dpdt, dof);
    }

    /** Samples with no external inputs. */
    public static PhaseSpaceSamples of(int dof, double[] q, double[] p, double[] dqdt, double[] dpdt) {
        return new PhaseSpaceSamples(dof, 0, q, p, new double[0], dqdt, dpdt);
    }

    /** N, the number of samples. */
    public int size() {
        return q.length / dof;
    }

    /** The samples at {@code index} (copied), in that order. */
    public PhaseSpaceSamples subset(int[] index) {
        int n = dof;
        double[] sq = new double[index.length * n];
        double[] sp = new double[index.length * n];
        double[] su = new double[index.length * inputs];
        double[] sdq = new double[index.length * n];
        double[] sdp = new double[index.length * n];
        for (int r = 0; r < index.length; r++) {
            int i = index[r];
            if (i < 0 || i >= size()) {
                throw new IllegalArgumentException("index[" + r + "] = " + i + " outside 0.." + (size() - 1));
            }
            System.arraycopy(q, i * n, sq, r * n, n);
            System.arraycopy(p, i * n, sp, r * n, n);
            System.arraycopy(dqdt, i * n, sdq, r * n, n);
            System.arraycopy(dpdt, i * n, sdp, r * n, n);
            System.arraycopy(u, i * inputs, su, r * inputs, inputs);
        }
        return new PhaseSpaceSamples(dof, inputs, sq, sp, su, sdq, sdp);
    }

    private static void requireLength(String name, double[] v, int expected, int samples) {
        if (v.length != expected) {
            throw new IllegalArgumentException(name + " has length " + v.length + ", expected " + expected + " ("
                    + samples + " samples)");
        }
    }

    private static void requireFinite(String name, double[] v, int width) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException(name + " of sample " + (i / width) + " (component " + (i % width)
                        + ") is " + v[i]);
            }
        }
    }
}
