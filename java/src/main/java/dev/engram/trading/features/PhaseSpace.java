package dev.engram.trading.features;

import java.util.Arrays;
import java.util.List;

/**
 * A trajectory in phase space: at the bar starting at {@code times[t]}, coordinates q_t and momenta p_t (n each),
 * computed from that bar and earlier ones. Immutable.
 *
 * @param names n coordinate names (the momenta are named after them)
 * @param times T bar starts, UTC ms, increasing
 * @param q     T×n, row-major
 * @param p     T×n, row-major
 */
public record PhaseSpace(List<String> names, long[] times, double[] q, double[] p) {
    public PhaseSpace {
        names = List.copyOf(names);
        int n = names.size();
        if (n < 1 || q.length != times.length * n || p.length != q.length) {
            throw new IllegalArgumentException("phase space with " + n + " degrees of freedom and " + times.length
                    + " rows needs q and p of " + times.length * n + " entries, got " + q.length + " and " + p.length);
        }
        times = times.clone();
        q = q.clone();
        p = p.clone();
    }

    /** Degrees of freedom n. */
    public int dof() {
        return names.size();
    }

    public int rows() {
        return times.length;
    }

    @Override
    public long[] times() {
        return times.clone();
    }

    @Override
    public double[] q() {
        return q.clone();
    }

    @Override
    public double[] p() {
        return p.clone();
    }

    public double q(int row, int i) {
        return q[row * dof() + i];
    }

    public double p(int row, int i) {
        return p[row * dof() + i];
    }

    /** The rows at the given times (each must be present). */
    PhaseSpace at(long[] keep) {
        int n = dof();
        double[] qq = new double[keep.length * n];
        double[] pp = new double[keep.length * n];
        for (int r = 0; r < keep.length; r++) {
            int i = Arrays.binarySearch(times, keep[r]);
            if (i < 0) {
                throw new IllegalArgumentException("no row at " + keep[r]);
            }
            System.arraycopy(q, i * n, qq, r * n, n);
            System.arraycopy(p, i * n, pp, r * n, n);
        }
        return new PhaseSpace(names, keep, qq, pp);
    }
}
