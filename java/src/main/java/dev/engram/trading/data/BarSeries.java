package dev.engram.trading.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An immutable series of bars of one symbol and interval, validated on entry: every bar is valid ({@link Bar#check})
 * and bar starts strictly increase by at least one interval (bars never overlap). Missing intervals are allowed and
 * reported by {@link #gaps()}; they are never filled unless {@link #fillGaps()} is called.
 * <p>
 * Optional columns: turnover (quote volume) and liquidation volume; each is present for all bars or for none.
 */
public final class BarSeries {
    private final String symbol;
    private final Interval interval;
    private final long[] start;
    private final double[] open;
    private final double[] high;
    private final double[] low;
    private final double[] close;
    private final double[] volume;
    private final double[] turnover;
    private final double[] liquidation;

    private BarSeries(String symbol, Interval interval, long[] start, double[] open, double[] high, double[] low,
                      double[] close, double[] volume, double[] turnover, double[] liquidation) {
        this.symbol = symbol;
        this.interval = interval;
        this.start = start;
        this.open = open;
        this.high = high;
        this.low = low;
        this.close = close;
        this.volume = volume;
        this.turnover = turnover;
        this.liquidation = liquidation;
    }

    /**
     * A series from bars in increasing time order. Turnover is kept when every bar has it, dropped when none has it.
     *
     * @throws IllegalArgumentException naming the bar when times do not increase by at least one interval or only
     *                                  some bars have turnover
     */
    public static BarSeries of(String symbol, Interval interval, List<Bar> bars) {
        Builder b = new Builder(symbol, interval);
        for (Bar bar : bars) {
            b.add(bar);
        }
        return b.build();
    }

    /** An empty series. */
    public static BarSeries empty(String symbol, Interval interval) {
        return new Builder(symbol, interval).build();
    }

    public String symbol() {
        return symbol;
    }

    public Interval interval() {
        return interval;
    }

    public int size() {
        return start.length;
    }

    public boolean isEmpty() {
        return start.length == 0;
    }

    public Bar bar(int i) {
        return new Bar(start[i], open[i], high[i], low[i], close[i], volume[i],
                turnover == null ? Double.NaN : turnover[i]);
    }

    public List<Bar> bars() {
        List<Bar> list = new ArrayList<>(size());
        for (int i = 0; i < size(); i++) {
            list.add(bar(i));
        }
        return list;
    }

    public long startMs(int i) {
        return start[i];
    }

    public double open(int i) {
        return open[i];
    }

    public double high(int i) {
        return high[i];
    }

    public double low(int i) {
        return low[i];
    }

    public double close(int i) {
        return close[i];
    }

    public double volume(int i) {
        return volume[i];
    }

    /** Turnover of bar i, NaN when the series has none. */
    public double turnover(int i) {
        return turnover == null ? Double.NaN : turnover[i];
    }

    /** Liquidation volume of bar i, NaN when the series has none. */
    public double liquidation(int i) {
        return liquidation == null ? Double.NaN : liquidation[i];
    }

    public boolean hasTurnover() {
        return turnover != null;
    }

    public boolean hasLiquidation() {
        return liquidation != null;
    }

    /** Copies of the columns. */
    public long[] startTimes() {
        return start.clone();
    }

    public double[] closes() {
        return close.clone();
    }

    public double[] volumes() {
        return volume.clone();
    }

    /** First bar start, or throws when empty. */
    public long firstMs() {
        requireNonEmpty();
        return start[0];
    }

    /** Last bar start, or throws when empty. */
    public long lastMs() {
        requireNonEmpty();
        return start[start.length - 1];
    }

    /** The index of the bar starting at {@code ms}, or a negative insertion point as {@link Arrays#binarySearch}. */
    public int indexOf(long ms) {
        return Arrays.binarySearch(start, ms);
    }

    /** Bars with start in [fromMs, toMs). */
    public BarSeries between(long fromMs, long toMs) {
        int a = lowerBound(fromMs);
        int b = lowerBound(toMs);
        return slice(a, Math.max(a, b));
    }

    /** Bars with index in [from, to). */
    public BarSeries slice(int from, int to) {
        Objects.checkFromToIndex(from, to, size());
        return new BarSeries(symbol, interval, Arrays.copyOfRange(start, from, to), Arrays.copyOfRange(open, from, to),
                Arrays.copyOfRange(high, from, to), Arrays.copyOfRange(low, from, to),
                Arrays.copyOfRange(close, from, to), Arrays.copyOfRange(volume, from, to),
                turnover == null ? null : Arrays.copyOfRange(turnover, from, to),
                liquidation == null ? null : Arrays.copyOfRange(liquidation, from, to));
    }

    /**
     * The union of this series and {@code newer} (same symbol and interval): where both have a bar at the same start,
     * the bar of {@code newer} is kept. Used to extend a cache and to de-duplicate overlapping pages.
     */
    public BarSeries merge(BarSeries newer) {
        if (newer.interval != interval) {
            throw new IllegalArgumentException("cannot merge interval " + newer.interval + " into " + interval);
        }
        Builder b = new Builder(symbol, interval);
        if (!isEmpty() && !newer.isEmpty() && (hasTurnover() != newer.hasTurnover()
                || hasLiquidation() != newer.hasLiquidation())) {
            throw new IllegalArgumentException("cannot merge " + symbol + " series with different optional columns"
                    + " (turnover " + hasTurnover() + " vs " + newer.hasTurnover() + ", liquidation "
                    + hasLiquidation() + " vs " + newer.hasLiquidation() + ")");
        }
        int i = 0;
        int j = 0;
        while (i < size() || j < newer.size()) {
            if (j >= newer.size() || i < size() && start[i] < newer.start[j]) {
                b.addFrom(this, i++);
            } else {
                if (i < size() && start[i] == newer.start[j]) {
                    i++;
                }
                b.addFrom(newer, j++);
            }
        }
        return b.build();
    }

    /** Missing intervals between consecutive bars, in time order. */
    public List<Gap> gaps() {
        List<Gap> gaps = new ArrayList<>();
        for (int i = 1; i < size(); i++) {
            long expected = interval.next(start[i - 1]);
            if (start[i] > expected) {
                gaps.add(new Gap(start[i - 1], start[i], missingBetween(start[i - 1], start[i])));
            }
        }
        return gaps;
    }

    /** The number of missing bars over all gaps. */
    public long missingBars() {
        long n = 0;
        for (Gap g : gaps()) {
            n += g.missing();
        }
        return n;
    }

    /**
     * A copy with every gap filled by flat bars at the previous close (open = high = low = close, volume, turnover and
     * liquidation 0). Only on request: such bars are invented and can bias volatility and volume features.
     */
    public BarSeries fillGaps() {
        Builder b = new Builder(symbol, interval);
        b.turnover = hasTurnover();
        b.liquidation = hasLiquidation();
        for (int i = 0; i < size(); i++) {
            if (i > 0) {
                for (long t = interval.next(start[i - 1]); t < start[i]; t = interval.next(t)) {
                    double c = close[i - 1];
                    b.addRaw(t, c, c, c, c, 0, hasTurnover() ? 0 : Double.NaN, hasLiquidation() ? 0 : Double.NaN);
                }
            }
            b.addFrom(this, i);
        }
        return b.build();
    }

    /** A copy with the liquidation-volume column set (one value per bar, finite and ≥ 0). */
    public BarSeries withLiquidation(double[] values) {
        if (values.length != size()) {
            throw new IllegalArgumentException("liquidation has " + values.length + " values for " + size() + " bars");
        }
        for (int i = 0; i < values.length; i++) {
            if (!(values[i] >= 0) || !Double.isFinite(values[i])) {
                throw new IllegalArgumentException("liquidation volume " + values[i] + " at bar " + start[i]
                        + " is not a finite number >= 0");
            }
        }
        return new BarSeries(symbol, interval, start, open, high, low, close, volume, turnover, values.clone());
    }

    private long missingBetween(long a, long b) {
        if (interval == Interval.MONTH) {
            long n = 0;
            for (long t = interval.next(a); t < b; t = interval.next(t)) {
                n++;
            }
            return n;
        }
        long ms = interval.nominalMillis();
        return (b - a + ms - 1) / ms - 1;
    }

    private int lowerBound(long ms) {
        int i = Arrays.binarySearch(start, ms);
        return i >= 0 ? i : -i - 1;
    }

    private void requireNonEmpty() {
        if (isEmpty()) {
            throw new IllegalStateException("the series " + symbol + " " + interval + " is empty");
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BarSeries s && symbol.equals(s.symbol) && interval == s.interval
                && Arrays.equals(start, s.start) && Arrays.equals(open, s.open) && Arrays.equals(high, s.high)
                && Arrays.equals(low, s.low) && Arrays.equals(close, s.close) && Arrays.equals(volume, s.volume)
                && Arrays.equals(turnover, s.turnover) && Arrays.equals(liquidation, s.liquidation);
    }

    @Override
    public int hashCode() {
        return Objects.hash(symbol, interval, Arrays.hashCode(start), Arrays.hashCode(close));
    }

    @Override
    public String toString() {
        return "BarSeries[" + symbol + " " + interval + ", " + size() + " bars"
                + (isEmpty() ? "" : ", " + start[0] + " .. " + start[size() - 1]) + "]";
    }

    /**
     * Builds a series bar by bar in increasing time order. The first bar decides whether turnover and liquidation are
     * present; later bars must agree.
     */
    public static final class Builder {
        private final String symbol;
        private final Interval interval;
        private long[] start = new long[64];
        private double[] open = new double[64];
        private double[] high = new double[64];
        private double[] low = new double[64];
        private double[] close = new double[64];
        private double[] volume = new double[64];
        private double[] turn = new double[64];
        private double[] liq = new double[64];
        private int n;
        private Boolean turnover;
        private Boolean liquidation;

        public Builder(String symbol, Interval interval) {
            if (symbol == null || symbol.isBlank()) {
                throw new IllegalArgumentException("symbol must not be blank");
            }
            this.symbol = symbol;
            this.interval = Objects.requireNonNull(interval, "interval");
        }

        public Builder add(Bar bar) {
            return add(bar, Double.NaN);
        }

        /** Adds a bar with its liquidation volume (NaN: the series has no liquidation column). */
        public Builder add(Bar bar, double liquidationVolume) {
            return addRaw(bar.startMs(), bar.open(), bar.high(), bar.low(), bar.close(), bar.volume(), bar.turnover(),
                    liquidationVolume);
        }

        /** The start of the last bar added; Long.MIN_VALUE when none. */
        public long lastStart() {
            return n == 0 ? Long.MIN_VALUE : start[n - 1];
        }

        public int size() {
            return n;
        }

        private void addFrom(BarSeries s, int i) {
            addRaw(s.start[i], s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i], s.turnover(i),
                    s.liquidation(i));
        }

        private Builder addRaw(long t, double o, double h, double l, double c, double v, double to, double lq) {
            Bar.Violation bad = Bar.check(o, h, l, c, v, to);
            if (bad != null) {
                throw new IllegalArgumentException(symbol + " bar at " + t + ": " + bad.message());
            }
            if (!Double.isNaN(lq) && (!(lq >= 0) || !Double.isFinite(lq))) {
                throw new IllegalArgumentException(symbol + " bar at " + t + ": liquidation " + lq
                        + " is not a finite number >= 0");
            }
            if (n > 0 && t < interval.next(start[n - 1])) {
                throw new IllegalArgumentException(symbol + " bar at " + t + " starts before the previous bar (at "
                        + start[n - 1] + ") ends; bar starts must increase by at least one interval (" + interval + ")");
            }
            boolean hasTo = !Double.isNaN(to);
            boolean hasLq = !Double.isNaN(lq);
            if (turnover == null) {
                turnover = hasTo;
            } else if (turnover != hasTo) {
                throw new IllegalArgumentException(symbol + " bar at " + t + (hasTo ? " has" : " lacks")
                        + " turnover, unlike the bars before it");
            }
            if (liquidation == null) {
                liquidation = hasLq;
            } else if (liquidation != hasLq) {
                throw new IllegalArgumentException(symbol + " bar at " + t + (hasLq ? " has" : " lacks")
                        + " liquidation volume, unlike the bars before it");
            }
            if (n == start.length) {
                int cap = n * 2;
                start = Arrays.copyOf(start, cap);
                open = Arrays.copyOf(open, cap);
                high = Arrays.copyOf(high, cap);
                low = Arrays.copyOf(low, cap);
                close = Arrays.copyOf(close, cap);
                volume = Arrays.copyOf(volume, cap);
                turn = Arrays.copyOf(turn, cap);
                liq = Arrays.copyOf(liq, cap);
            }
            start[n] = t;
            open[n] = o;
            high[n] = h;
            low[n] = l;
            close[n] = c;
            volume[n] = v;
            turn[n] = to;
            liq[n] = lq;
            n++;
            return this;
        }

        public BarSeries build() {
            boolean hasTo = turnover != null && turnover;
            boolean hasLq = liquidation != null && liquidation;
            return new BarSeries(symbol, interval, Arrays.copyOf(start, n), Arrays.copyOf(open, n),
                    Arrays.copyOf(high, n), Arrays.copyOf(low, n), Arrays.copyOf(close, n), Arrays.copyOf(volume, n),
                    hasTo ? Arrays.copyOf(turn, n) : null, hasLq ? Arrays.copyOf(liq, n) : null);
        }
    }
}
