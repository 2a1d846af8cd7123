package dev.engram.trading.features;

import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.Interval;

import java.util.Random;

/** Seeded random hourly bar series for the feature tests, with flat stretches and zero-volume stretches. */
final class RandomBars {
    static final long T0 = 1_704_067_200_000L; // 2024-01-01T00:00Z

    private RandomBars() {
    }

    /**
     * @param degenerate include a flat stretch (constant price, zero range, zero volume) of 80 bars in the middle
     */
    static BarSeries series(String symbol, long seed, int n, boolean degenerate) {
        Random rnd = new Random(seed);
        BarSeries.Builder b = new BarSeries.Builder(symbol, Interval.H1);
        double price = 50 + 100 * rnd.nextDouble();
        double vol = 0.01;
        for (int i = 0; i < n; i++) {
            long t = T0 + i * Interval.H1.nominalMillis();
            boolean flat = degenerate && i >= n / 2 && i < n / 2 + 80;
            if (flat) {
                b.add(new Bar(t, price, price, price, price, 0, 0));
                continue;
            }
            vol = Math.min(0.05, Math.max(0.001, vol * Math.exp(0.1 * rnd.nextGaussian())));
            double o = price;
            price *= Math.exp(vol * rnd.nextGaussian());
            double c = price;
            double h = Math.max(o, c) * (1 + vol * Math.abs(rnd.nextGaussian()));
            double l = Math.min(o, c) * Math.exp(-vol * 0.5 * Math.abs(rnd.nextGaussian()));
            double v = rnd.nextInt(10) == 0 ? 0 : 1000 * Math.exp(rnd.nextGaussian());
            b.add(new Bar(t, o, h, l, c, v, v * c));
        }
        return b.build();
    }

    /** A copy where every bar after index {@code t} is replaced by an absurd one (prices ×1000, volume ×10⁶). */
    static BarSeries plantFuture(BarSeries s, int t) {
        BarSeries.Builder b = new BarSeries.Builder(s.symbol(), s.interval());
        for (int i = 0; i < s.size(); i++) {
            Bar x = s.bar(i);
            if (i > t) {
                double f = i % 2 == 0 ? 1000 : 1e-3;
                x = new Bar(x.startMs(), x.open() * f, x.high() * f * 3, x.low() * f / 3, x.close() * f,
                        x.volume() * 1e6 + 1, x.turnover() * 1e9 + 1);
            }
            b.add(x, s.liquidation(i) * (i > t ? 1e6 : 1));
        }
        return b.build();
    }
}
