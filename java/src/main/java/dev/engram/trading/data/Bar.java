package dev.engram.trading.data;

/**
 * One OHLCV bar. {@code startMs} is the bar's start in UTC epoch milliseconds; the bar covers
 * [startMs, interval.next(startMs)). Prices are finite and positive, {@code high ≥ max(open, close)},
 * {@code low ≤ min(open, close)}, {@code volume ≥ 0}; {@code turnover} (quote volume) is optional: NaN when absent,
 * else ≥ 0.
 */
public record Bar(long startMs, double open, double high, double low, double close, double volume, double turnover) {
    public Bar {
        Violation v = check(open, high, low, close, volume, turnover);
        if (v != null) {
            throw new IllegalArgumentException("bar at " + startMs + ": " + v.message());
        }
    }

    /** A bar without turnover. */
    public static Bar of(long startMs, double open, double high, double low, double close, double volume) {
        return new Bar(startMs, open, high, low, close, volume, Double.NaN);
    }

    public boolean hasTurnover() {
        return !Double.isNaN(turnover);
    }

    /** A rule a row breaks: the column, its value and why. */
    public record Violation(String column, double value, String reason) {
        public String message() {
            return column + " " + value + " " + reason;
        }
    }

    /** The first rule the values break, or null when they make a valid bar. */
    public static Violation check(double open, double high, double low, double close, double volume, double turnover) {
        if (!(open > 0) || !Double.isFinite(open)) {
            return new Violation("open", open, "is not a finite price > 0");
        }
        if (!(close > 0) || !Double.isFinite(close)) {
            return new Violation("close", close, "is not a finite price > 0");
        }
        if (!Double.isFinite(high) || !(high >= Math.max(open, close))) {
            return new Violation("high", high, "is below max(open, close) = " + Math.max(open, close));
        }
        if (!(low > 0) || !Double.isFinite(low)) {
            return new Violation("low", low, "is not a finite price > 0");
        }
        if (!(low <= Math.min(open, close))) {
            return new Violation("low", low, "is above min(open, close) = " + Math.min(open, close));
        }
        if (!(volume >= 0) || !Double.isFinite(volume)) {
            return new Violation("volume", volume, "is not a finite number >= 0");
        }
        if (!Double.isNaN(turnover) && (!(turnover >= 0) || !Double.isFinite(turnover))) {
            return new Violation("turnover", turnover, "is not a finite number >= 0");
        }
        return null;
    }
}
