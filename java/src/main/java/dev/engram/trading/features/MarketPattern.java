package dev.engram.trading.features;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.Interval;

import java.util.List;

/**
 * The market pattern of the associative-memory text, computed causally and streaming: push bars one at a time
 * ({@link #update}); after the warm-up each push gives the pattern at that bar from that bar and earlier ones only,
 * in O(1) (amortised) time.
 * <p>
 * With L the lookback (20 … 60), r_t = c_t/c_{t−1} − 1 the simple return and all windows ending at t (inclusive):
 * <ol start="0">
 * <li>{@code return_mean}: mean of the last L returns;</li>
 * <li>{@code return_std}: their sample standard deviation (divisor L − 1);</li>
 * <li>{@code return_skew}: adjusted Fisher–Pearson skewness G1 ({@link RollingMoments#skewness});</li>
 * <li>{@code return_kurt}: bias-corrected excess kurtosis G2 ({@link RollingMoments#kurtosis});</li>
 * <li>{@code trend_5}: c_t/c_{t−5} − 1 (the text's {@code close[-1]/close[-5]} spans 4 bars; here the name is the
 * span);</li>
 * <li>{@code trend_20}: c_t/c_{t−20} − 1;</li>
 * <li>{@code volatility}: return_std · √(bars per year), the bars per year from the interval (8766 for hourly bars
 * traded 24/7, not the text's 252; {@link Interval#barsPerYear()}, or the value given);</li>
 * <li>{@code volatility_change}: std of the last 5 returns / std of the last 20;</li>
 * <li>{@code volume_ratio}: v_t / mean of the last L volumes;</li>
 * <li>{@code atr_ratio}: (h_t − l_t) / ATR, ATR the mean over the last L bars of the true range
 * max(h − l, |h − c_prev|, |l − c_prev|);</li>
 * <li>{@code close_position}: (c_t − min low) / (max high − min low) over the last L bars.</li>
 * </ol>
 * Degenerate windows have defined values, never NaN or infinity: a constant return window gives std, skew, kurtosis 0;
 * 0/0 ratios (volatility change with a 20-bar std of 0, volume ratio with zero volume, range ratio with zero true
 * range) give 1 (no change from the usual); a zero high–low range gives close position ½.
 * <p>
 * Warm-up: the first pattern is at bar index max(L, 20) (that many returns are needed).
 */
public final class MarketPattern {
    /** Feature names, in output order. */
    public static final List<String> NAMES = List.of("return_mean", "return_std", "return_skew", "return_kurt",
            "trend_5", "trend_20", "volatility", "volatility_change", "volume_ratio", "atr_ratio", "close_position");
    public static final int DIM = 11;

    private final int lookback;
    private final double annualisation;
    private final RollingMoments returns;
    private final RollingMoments returns5 = new RollingMoments(5);
    private final RollingMoments returns20 = new RollingMoments(20);
    private final RollingMoments volumes;
    private final RollingMoments trueRanges;
    private final RollingMoments closes = new RollingMoments(21);
    private final RollingExtremum highs;
    private final RollingExtremum lows;
    private long bars;
    private double prevClose = Double.NaN;

    /**
     * @param lookback    L, 20 … 60
     * @param barsPerYear for the volatility's annualisation (e.g. {@link Interval#barsPerYear()}; 252 for daily
     *                    stock bars)
     */
    public MarketPattern(int lookback, double barsPerYear) {
        if (lookback < 20 || lookback > 60) {
            throw new IllegalArgumentException("lookback must be in 20..60, got " + lookback);
        }
        if (!(barsPerYear > 0) || !Double.isFinite(barsPerYear)) {
            throw new IllegalArgumentException("barsPerYear must be finite and > 0, got " + barsPerYear);
        }
        this.lookback = lookback;
        this.annualisation = Math.sqrt(barsPerYear);
        this.returns = new RollingMoments(lookback);
        this.volumes = new RollingMoments(lookback);
        this.trueRanges = new RollingMoments(lookback);
        this.highs = new RollingExtremum(lookback, true);
        this.lows = new RollingExtremum(lookback, false);
    }

    public int lookback() {
        return lookback;
    }

    /** Index of the first bar with a pattern: max(L, 20). */
    public int warmUp() {
        return Math.max(lookback, 20);
    }

    /**
     * Pushes the next bar (bars in time order; the values are assumed valid, as {@link BarSeries} guarantees) and,
     * once warmed up, writes the pattern at this bar into {@code out} (length ≥ {@link #DIM}).
     *
     * @return true when {@code out} holds a pattern, false during the warm-up (out untouched)
     */
    public boolean update(double high, double low, double close, double volume, double[] out) {
        if (!Double.isNaN(prevClose)) {
            double r = close / prevClose - 1;
            returns.push(r);
            returns5.push(r);
            returns20.push(r);
            trueRanges.push(Math.max(high - low, Math.max(Math.abs(high - prevClose), Math.abs(low - prevClose))));
        }
        volumes.push(volume);
        closes.push(close);
        highs.push(high);
        lows.push(low);
        prevClose = close;
        long t = bars++;
        if (t < warmUp()) {
            return false;
        }
        double std = returns.std();
        out[0] = returns.mean();
        out[1] = std;
        out[2] = returns.skewness();
        out[3] = returns.kurtosis();
        out[4] = close / closes.get(5) - 1;
        out[5] = close / closes.get(20) - 1;
        out[6] = std * annualisation;
        out[7] = ratioOrOne(returns5.std(), returns20.std());
        out[8] = ratioOrOne(volume, volumes.mean());
        out[9] = ratioOrOne(high - low, trueRanges.mean());
        double hi = highs.get();
        double lo = lows.get();
        out[10] = hi > lo ? (close - lo) / (hi - lo) : 0.5;
        return true;
    }

    /** a/b, or 1 when b is 0 (then a is 0 too in every use here). */
    static double ratioOrOne(double a, double b) {
        return b > 0 ? a / b : 1.0;
    }

    /** The patterns of a whole series, rows from bar {@link #warmUp()} on (annualised with the series' interval). */
    public static FeatureMatrix of(BarSeries s, int lookback) {
        return of(s, lookback, s.interval().barsPerYear());
    }

    public static FeatureMatrix of(BarSeries s, int lookback, double barsPerYear) {
        MarketPattern mp = new MarketPattern(lookback, barsPerYear);
        int rows = Math.max(0, s.size() - mp.warmUp());
        long[] times = new long[rows];
        double[] values = new double[rows * DIM];
        double[] row = new double[DIM];
        int r = 0;
        for (int i = 0; i < s.size(); i++) {
            if (mp.update(s.high(i), s.low(i), s.close(i), s.volume(i), row)) {
                times[r] = s.startMs(i);
                System.arraycopy(row, 0, values, r * DIM, DIM);
                r++;
            }
        }
        return new FeatureMatrix(NAMES, times, values);
    }
}
