package dev.engram.trading.data;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Locale;

/**
 * A bar interval. Engram names intervals as Bybit does ({@code 1 3 5 15 30 60 120 240 360 720 D W M}, minutes or
 * day/week/month); {@link #binanceName()} maps them explicitly to Binance's ({@code 1m … 1M}). Months are calendar
 * months in UTC, so their length varies; every other interval is a fixed number of milliseconds.
 */
public enum Interval {
    M1("1", "1m", 60_000L),
    M3("3", "3m", 3 * 60_000L),
    M5("5", "5m", 5 * 60_000L),
    M15("15", "15m", 15 * 60_000L),
    M30("30", "30m", 30 * 60_000L),
    H1("60", "1h", 3_600_000L),
    H2("120", "2h", 2 * 3_600_000L),
    H4("240", "4h", 4 * 3_600_000L),
    H6("360", "6h", 6 * 3_600_000L),
    H12("720", "12h", 12 * 3_600_000L),
    D1("D", "1d", 86_400_000L),
    W1("W", "1w", 7 * 86_400_000L),
    MONTH("M", "1M", 0L);

    private final String bybitName;
    private final String binanceName;
    private final long millis;

    Interval(String bybitName, String binanceName, long millis) {
        this.bybitName = bybitName;
        this.binanceName = binanceName;
        this.millis = millis;
    }

    /** Engram's (and Bybit's) name: "60", "D", … */
    public String bybitName() {
        return bybitName;
    }

    /** Binance's name: "1h", "1d", "1M", … */
    public String binanceName() {
        return binanceName;
    }

    /** The nominal length in ms (a month counts as 30 days here: used for annualisation and progress only). */
    public long nominalMillis() {
        return this == MONTH ? 30L * 86_400_000L : millis;
    }

    /** The start of the bar after the one starting at {@code startMs}. */
    public long next(long startMs) {
        if (this == MONTH) {
            ZonedDateTime t = Instant.ofEpochMilli(startMs).atZone(ZoneOffset.UTC);
            return t.plusMonths(1).toInstant().toEpochMilli();
        }
        return startMs + millis;
    }

    /** The start of the bar before the one starting at {@code startMs}. */
    public long previous(long startMs) {
        if (this == MONTH) {
            ZonedDateTime t = Instant.ofEpochMilli(startMs).atZone(ZoneOffset.UTC);
            return t.minusMonths(1).toInstant().toEpochMilli();
        }
        return startMs - millis;
    }

    /** Bars per year of continuous (24/7) trading: 365.25 days / interval; for volatility annualisation. */
    public double barsPerYear() {
        return 365.25 * 86_400_000.0 / nominalMillis();
    }

    @Override
    public String toString() {
        return bybitName;
    }

    /**
     * Parses an Engram/Bybit name ("60", "D") or a Binance name ("1h", "1d"; "1M" is the month, "1m" the minute).
     *
     * @throws IllegalArgumentException naming the value and the accepted names
     */
    public static Interval parse(String name) {
        if (name == null) {
            throw new IllegalArgumentException("interval is missing; use one of " + names());
        }
        String s = name.trim();
        for (Interval i : values()) {
            if (i.bybitName.equals(s) || i.binanceName.equals(s)) {
                return i;
            }
        }
        String lower = s.toLowerCase(Locale.ROOT);
        for (Interval i : values()) {
            if (i != MONTH && i.bybitName.toLowerCase(Locale.ROOT).equals(lower)) {
                return i;
            }
        }
        throw new IllegalArgumentException("interval '" + name + "' is not one of " + names());
    }

    /** The fixed interval of exactly {@code ms} milliseconds, or null. */
    public static Interval ofMillis(long ms) {
        for (Interval i : values()) {
            if (i != MONTH && i.millis == ms) {
                return i;
            }
        }
        return null;
    }

    static String names() {
        StringBuilder b = new StringBuilder();
        for (Interval i : values()) {
            b.append(b.isEmpty() ? "" : ", ").append(i.bybitName);
        }
        return b + " (or Binance's 1m … 1M)";
    }
}
