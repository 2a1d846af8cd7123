package dev.engram.engine;

import java.util.Objects;

/**
 * Training data for the derivative (HNN) loss, as plain arrays for engines: N samples of a state (q, p), external
 * inputs u and the target time derivatives. All row-major, one row per sample; engines read, never write, them.
 *
 * @param dof    n ≥ 1
 * @param inputs m ≥ 0
 * @param q      N×n
 * @param p      N×n
 * @param u      N×m (length 0 when m = 0)
 * @param dqdt   N×n targets dq/dt
 * @param dpdt   N×n targets dp/dt
 */
public record TrainingSamples(int dof, int inputs, double[] q, double[] p, double[] u, double[] dqdt, double[] dpdt) {
    public TrainingSamples {
        if (dof < 1) {
            throw new IllegalArgumentException("dof must be >= 1, got " + dof);
        }
        if (inputs < 0) {
            throw new IllegalArgumentException("inputs must be >= 0, got " + inputs);
        }
        Objects.requireNonNull(q, "q");
        int n = q.length / dof;
        if (n == 0 || q.length % dof != 0) {
            throw new IllegalArgumentException("q has length " + q.length + ", expected N×n with N >= 1, n = " + dof);
        }
        require("p", p, (long) n * dof);
        require("u", u, (long) n * inputs);
        require("dqdt", dqdt, (long) n * dof);
        require("dpdt", dpdt, (long) n * dof);
    }

    private static void require(String name, double[] a, long length) {
        Objects.requireNonNull(a, name);
        if (a.length != length) {
            throw new IllegalArgumentException(name + " has length " + a.length + ", expected " + length);
        }
    }

    /** N, the number of samples. */
    public int size() {
        return q.length / dof;
    }
}
