package dev.engram.trading.backtest;

import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.Interval;

import java.util.SplittableRandom;
import java.util.function.IntToDoubleFunction;

/** Bar series for the backtest tests: seeded geometric random walks and series from a price function. */
public final class Walks {
    public static final long T0 = 1_704_067_200_000L; // 2024-01-01T00:00Z

    private Walks() {
    }

    /**
     * A driftless geometric random walk of hourly bars (log returns N(0, σ²), σ = 1%), open = previous close,
     * a seeded random range and volume: no bar carries information about the next.
     */
    public static BarSeries randomWalk(String symbol, long seed, int n, long startMs) {
        SplittableRandom rnd = new SplittableRandom(seed);
        BarSeries.Builder b = new BarSeries.Builder(symbol, Interval.H1);
        double price = 100;
        for (int i = 0; i < n; i++) {
            double o = price;
            price *= Math.exp(0.01 * gaussian(rnd));
            double c = price;
            double h = Math.max(o, c) * (1 + 0.005 * Math.abs(gaussian(rnd)));
            double l = Math.min(o, c) * (1 - 0.005 * Math.abs(gaussian(rnd)));
            b.add(Bar.of(startMs + i * Interval.H1.nominalMillis(), o, h, l, c, 1000 * Math.exp(0.5 * gaussian(rnd))));
        }
        return b.build();
    }

    public static BarSeries randomWalk(String symbol, long seed, int n) {
        return randomWalk(symbol, seed, n, T0);
    }

    /** Hourly bars with open = close = price(i) (high/low 0.1% around them), volume 1000. */
    public static BarSeries ofPrices(String symbol, int n, IntToDoubleFunction open, IntToDoubleFunction close) {
        BarSeries.Builder b = new BarSeries.Builder(symbol, Interval.H1);
        for (int i = 0; i < n; i++) {
            double o = open.applyAsDouble(i);
            double c = close.applyAsDouble(i);
            b.add(Bar.of(T0 + i * Interval.H1.nominalMillis(), o, Math.max(o, c) * 1.001, Math.min(o, c) * 0.999, c,
                    1000));
        }
        return b.build();
    }

    static double gaussian(SplittableRandom rnd) {
        // Box–Muller: SplittableRandom has no nextGaussian before JDK 17's RandomGenerator default, keep it explicit
        double u = rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u)) * Math.cos(2 * Math.PI * v);
    }
}
