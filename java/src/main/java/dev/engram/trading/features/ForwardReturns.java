package dev.engram.trading.features;

import dev.engram.trading.data.BarSeries;

/**
 * Labels: the forward return over h bars, y_t = c_{t+h}/c_t − 1, known only at the close of bar t + h
 * ({@link #knownAtMs}). Kept apart from the features (no feature class reads this one), and a store of (pattern,
 * outcome) pairs may use y_t only from {@code knownAtMs[t]} on. h counts bars, so across a gap it spans more time.
 *
 * @param times     bar starts t = 0 … T − h − 1 (the last h bars have no label yet)
 * @param values    y_t
 * @param knownAtMs the close of bar t + h: when y_t becomes known
 */
public record ForwardReturns(int horizon, long[] times, double[] values, long[] knownAtMs) {
    public ForwardReturns {
        times = times.clone();
        values = values.clone();
        knownAtMs = knownAtMs.clone();
    }

    public static ForwardReturns of(BarSeries s, int horizon) {
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be >= 1 bar, got " + horizon);
        }
        int n = Math.max(0, s.size() - horizon);
        long[] t = new long[n];
        double[] y = new double[n];
        long[] known = new long[n];
        for (int i = 0; i < n; i++) {
            t[i] = s.startMs(i);
            y[i] = s.close(i + horizon) / s.close(i) - 1;
            known[i] = s.interval().next(s.startMs(i + horizon));
        }
        return new ForwardReturns(horizon, t, y, known);
    }

    public int size() {
        return times.length;
    }

    @Override
    public long[] times() {
        return times.clone();
    }

    @Override
    public double[] values() {
        return values.clone();
    }

    @Override
    public long[] knownAtMs() {
        return knownAtMs.clone();
    }
}
