package dev.engram.trading.metrics;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.Interval;

import java.time.DayOfWeek;
import java.time.Instant;
import java.time.ZoneOffset;

/**
 * Bars per year P, used to annualise: a per-bar mean return times P, a per-bar standard deviation times √P.
 * <ul>
 * <li>markets that trade around the clock (crypto): P = 365 days × bars per day (hourly: 24 × 365 = 8760);</li>
 * <li>markets with trading days only (a series with no bar starting on a Saturday or Sunday, UTC): daily bars P =
 * 252, weekly 52, monthly 12; intraday bars 252 × the median number of bars per trading day.</li>
 * </ul>
 *
 * @param barsPerYear P > 0
 * @param basis       how P was chosen, for the output ("24/7: 24 × 365", "trading days: 252")
 */
public record Annualisation(double barsPerYear, String basis) {
    public Annualisation {
        if (!(barsPerYear > 0) || !Double.isFinite(barsPerYear)) {
            throw new IllegalArgumentException("bars per year must be > 0, got " + barsPerYear);
        }
    }

    /** P for a series, from its interval and whether it trades on weekends. */
    public static Annualisation of(BarSeries s) {
        Interval iv = s.interval();
        boolean weekends = false;
        for (int i = 0; i < s.size() && !weekends; i++) {
            DayOfWeek d = Instant.ofEpochMilli(s.startMs(i)).atZone(ZoneOffset.UTC).getDayOfWeek();
            weekends = d == DayOfWeek.SATURDAY || d == DayOfWeek.SUNDAY;
        }
        if (weekends || s.size() < 2) {
            return around(iv);
        }
        return switch (iv) {
            case D1 -> new Annualisation(252, "trading days: 252 daily bars per year");
            case W1 -> new Annualisation(52, "trading weeks: 52 weekly bars per year");
            case MONTH -> new Annualisation(12, "12 monthly bars per year");
            default -> {
                double perDay = medianBarsPerDay(s);
                yield new Annualisation(252 * perDay, "trading days: 252 × " + fmt(perDay) + " bars per day");
            }
        };
    }

    /** P for a market that trades around the clock: 365 × bars per day. */
    public static Annualisation around(Interval iv) {
        return switch (iv) {
            case MONTH -> new Annualisation(12, "12 monthly bars per year");
            case W1 -> new Annualisation(365.0 / 7, "24/7: 365/7 weekly bars per year");
            default -> {
                double perDay = 86_400_000.0 / iv.nominalMillis();
                yield new Annualisation(365 * perDay, "24/7: " + fmt(perDay) + " × 365 bars per year");
            }
        };
    }

    private static double medianBarsPerDay(BarSeries s) {
        java.util.TreeMap<Long, Integer> perDay = new java.util.TreeMap<>();
        for (int i = 0; i < s.size(); i++) {
            perDay.merge(Math.floorDiv(s.startMs(i), 86_400_000L), 1, Integer::sum);
        }
        int[] c = perDay.values().stream().mapToInt(Integer::intValue).sorted().toArray();
        return c[c.length / 2];
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }
}
