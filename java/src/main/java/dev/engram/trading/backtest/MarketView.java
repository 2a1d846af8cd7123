package dev.engram.trading.backtest;

import dev.engram.trading.data.Bar;

/**
 * The market as a strategy sees it at the close of its decision bar t ({@link #now()}): bars and feature rows
 * 0..t. Asking for anything after t throws {@link LookAheadException}; there is no other way in, so a strategy
 * cannot read the future by construction.
 */
public final class MarketView {
    private final MarketData data;
    private final int now;

    MarketView(MarketData data, int now) {
        if (now < 0 || now >= data.size()) {
            throw new IllegalArgumentException("decision bar " + now + " is outside the series " + data.symbol()
                    + " of " + data.size() + " bars");
        }
        this.data = data;
        this.now = now;
    }

    /** The decision bar t. */
    public int now() {
        return now;
    }

    public String symbol() {
        return data.symbol();
    }

    /** Bars visible: t + 1. */
    public int size() {
        return now + 1;
    }

    private int check(String what, int i) {
        if (i > now) {
            throw new LookAheadException(what, i, now);
        }
        if (i < 0) {
            throw new IndexOutOfBoundsException(what + " of bar " + i + ": bar indices start at 0");
        }
        return i;
    }

    public Bar bar(int i) {
        return data.series().bar(check("bar", i));
    }

    public long startMs(int i) {
        return data.series().startMs(check("start time", i));
    }

    public double open(int i) {
        return data.series().open(check("open", i));
    }

    public double high(int i) {
        return data.series().high(check("high", i));
    }

    public double low(int i) {
        return data.series().low(check("low", i));
    }

    public double close(int i) {
        return data.series().close(check("close", i));
    }

    public double volume(int i) {
        return data.series().volume(check("volume", i));
    }

    /** Closes of bars 0..t (a copy). */
    public double[] closes() {
        double[] c = new double[now + 1];
        for (int i = 0; i <= now; i++) {
            c[i] = data.series().close(i);
        }
        return c;
    }

    /** Whether bar i (≤ t) has a feature row. */
    public boolean hasFeatures(int i) {
        return data.features().has(check("features", i));
    }

    /** The feature row of bar i ≤ t (a copy). */
    public float[] features(int i) {
        return data.features().row(check("features", i));
    }

    /** The interval's length in ms (from the series). */
    public long intervalMillis() {
        return data.series().interval().nominalMillis();
    }
}
