package dev.engram.trading.backtest;

import dev.engram.trading.data.BarSeries;

/**
 * One symbol's bars with their causal feature rows: what the backtester hands out, one {@link MarketView} at a
 * time, and what the walk-forward labels with realised outcomes.
 *
 * @param series   the bars
 * @param features the feature row of every bar from {@link MarketFeatures#first()} on
 */
public record MarketData(BarSeries series, MarketFeatures features) {
    public MarketData {
        if (series == null || features == null) {
            throw new IllegalArgumentException("series and features must not be null");
        }
        if (features.bars() != series.size()) {
            throw new IllegalArgumentException("features cover " + features.bars() + " bars but the series "
                    + series.symbol() + " has " + series.size());
        }
    }

    /** The series with the default features ({@link MarketFeatures#of(BarSeries, double)}). */
    public static MarketData of(BarSeries series, double barsPerYear) {
        return new MarketData(series, MarketFeatures.of(series, barsPerYear));
    }

    public String symbol() {
        return series.symbol();
    }

    public int size() {
        return series.size();
    }

    /** The data as known at bar t's close: bars and feature rows 0..t, nothing later. */
    public MarketView viewAt(int t) {
        return new MarketView(this, t);
    }

    /**
     * The forward return over h bars of the pattern at bar i: {@code c_{i+h}/c_i − 1}, known at bar i+h's close.
     * (Across a gap in the data the horizon spans more time: the series' next h bars.)
     */
    public double forwardReturn(int i, int h) {
        return series.close(i + h) / series.close(i) - 1;
    }
}
