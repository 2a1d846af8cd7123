package dev.engram.trading.backtest;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.features.MarketPattern;
import dev.engram.trading.features.RollingZScore;

import java.util.Arrays;

/**
 * The normalised market pattern of every bar of a series, aligned with the bar index: row i is the 11-feature
 * {@link MarketPattern} at bar i (lookback L), z-scored with the mean and standard deviation of the previous
 * {@code zWindow} patterns and scaled to unit length ({@link RollingZScore}). Row i is computed from bars 0..i only
 * (both steps are streaming and causal), so it may be used at bar i's close. Rows before {@link #first()} do not
 * exist (warm-up); every later row is a unit vector or, when no feature moved, zero.
 */
public final class MarketFeatures {
    /** Default lookback L of the market pattern. */
    public static final int DEFAULT_LOOKBACK = 20;
    /** Default number of past patterns the z-score uses. */
    public static final int DEFAULT_Z_WINDOW = 50;

    private final int dim;
    private final int first;
    private final float[] rows;
    private final int size;

    private MarketFeatures(int dim, int first, float[] rows, int size) {
        this.dim = dim;
        this.first = first;
        this.rows = rows;
        this.size = size;
    }

    /** Features with the default lookback (20) and z-score window (50): the first row is at bar 70. */
    public static MarketFeatures of(BarSeries s, double barsPerYear) {
        return of(s, DEFAULT_LOOKBACK, DEFAULT_Z_WINDOW, barsPerYear);
    }

    /**
     * @param lookback    L of the market pattern, 20 … 60
     * @param zWindow     past patterns per z-score statistic, ≥ 2
     * @param barsPerYear annualisation of the volatility feature
     */
    public static MarketFeatures of(BarSeries s, int lookback, int zWindow, double barsPerYear) {
        MarketPattern pattern = new MarketPattern(lookback, barsPerYear);
        RollingZScore z = new RollingZScore(MarketPattern.DIM, zWindow);
        int d = MarketPattern.DIM;
        int first = pattern.warmUp() + zWindow;
        float[] rows = new float[Math.max(0, s.size() - first) * d];
        double[] raw = new double[d];
        double[] norm = new double[d];
        for (int i = 0; i < s.size(); i++) {
            if (pattern.update(s.high(i), s.low(i), s.close(i), s.volume(i), raw) && z.update(raw, norm)) {
                for (int c = 0; c < d; c++) {
                    rows[(i - first) * d + c] = (float) norm[c];
                }
            }
        }
        return new MarketFeatures(d, first, rows, s.size());
    }

    /** Feature width d. */
    public int dim() {
        return dim;
    }

    /** Index of the first bar with a feature row. */
    public int first() {
        return first;
    }

    /** Number of bars of the series. */
    public int bars() {
        return size;
    }

    /** Whether bar i has a feature row. */
    public boolean has(int i) {
        return i >= first && i < size;
    }

    /** Row of bar i (a copy); bar i must have one. */
    public float[] row(int i) {
        if (!has(i)) {
            throw new IllegalArgumentException("bar " + i + " has no feature row (rows exist for bars " + first + ".."
                    + (size - 1) + ")");
        }
        return Arrays.copyOfRange(rows, (i - first) * dim, (i - first + 1) * dim);
    }

    /** Copies row i into out[off, off + d). */
    void copyRow(int i, float[] out, int off) {
        System.arraycopy(rows, (i - first) * dim, out, off, dim);
    }
}
