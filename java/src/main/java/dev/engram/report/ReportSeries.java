package dev.engram.report;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.Arrays;

/** Series derived from an equity curve for the report's charts. */
public final class ReportSeries {
    private ReportSeries() {
    }

    /**
     * Underwater curve: {@code u_t = E_t / max(E_0, max_{s ≤ t} E_s) − 1} (≤ 0; the initial equity E_0 counts as the
     * first peak).
     */
    public static double[] underwater(double initial, double[] equity) {
        double[] u = new double[equity.length];
        double peak = initial;
        for (int t = 0; t < equity.length; t++) {
            peak = Math.max(peak, equity[t]);
            u[t] = equity[t] / peak - 1;
        }
        return u;
    }

    /**
     * Rolling annualised Sharpe ratio over the last {@code window} bar returns r_s = E_s/E_{s−1} − 1 (E_{−1} = the
     * initial equity): {@code mean(r)/std(r)·√barsPerYear}, std with n − 1; NaN for the first window − 1 bars and
     * where the std is 0.
     */
    public static double[] rollingSharpe(double initial, double[] equity, int window, double barsPerYear) {
        if (window < 2) {
            throw new IllegalArgumentException("rolling window must be >= 2 bars, got " + window);
        }
        int n = equity.length;
        double[] r = new double[n];
        for (int t = 0; t < n; t++) {
            r[t] = equity[t] / (t == 0 ? initial : equity[t - 1]) - 1;
        }
        double[] out = new double[n];
        Arrays.fill(out, Double.NaN);
        for (int t = window - 1; t < n; t++) {
            double s = 0;
            for (int j = t - window + 1; j <= t; j++) {
                s += r[j];
            }
            double mean = s / window;
            double ss = 0;
            for (int j = t - window + 1; j <= t; j++) {
                ss += (r[j] - mean) * (r[j] - mean);
            }
            double sd = Math.sqrt(ss / (window - 1));
            out[t] = sd > 0 ? mean / sd * Math.sqrt(barsPerYear) : Double.NaN;
        }
        return out;
    }

    /**
     * Calendar-month returns (UTC): for each month with bars, the equity at its last bar over the equity at the last
     * bar before it (the initial equity for the first month), minus 1.
     *
     * @param timesMs bar times, increasing
     * @return {@code years} (first year … last year) and {@code returns[year][month]}, NaN for months without bars
     */
    public static Monthly monthly(long[] timesMs, double initial, double[] equity) {
        if (timesMs.length == 0 || timesMs.length != equity.length) {
            throw new IllegalArgumentException("monthly returns need equal, non-zero numbers of times and equities; got "
                    + timesMs.length + " and " + equity.length);
        }
        int y0 = year(timesMs[0]);
        int y1 = year(timesMs[timesMs.length - 1]);
        double[][] ret = new double[y1 - y0 + 1][12];
        for (double[] row : ret) {
            Arrays.fill(row, Double.NaN);
        }
        double base = initial;
        for (int t = 0; t < timesMs.length; t++) {
            boolean lastOfMonth = t == timesMs.length - 1 || monthKey(timesMs[t + 1]) != monthKey(timesMs[t]);
            if (lastOfMonth) {
                ZonedDateTime z = Instant.ofEpochMilli(timesMs[t]).atZone(ZoneOffset.UTC);
                ret[z.getYear() - y0][z.getMonthValue() - 1] = equity[t] / base - 1;
                base = equity[t];
            }
        }
        int[] years = new int[y1 - y0 + 1];
        for (int i = 0; i < years.length; i++) {
            years[i] = y0 + i;
        }
        return new Monthly(years, ret);
    }

    /** @param returns years.length × 12, NaN where the month has no bars */
    public record Monthly(int[] years, double[][] returns) {
    }

    private static int year(long ms) {
        return Instant.ofEpochMilli(ms).atZone(ZoneOffset.UTC).getYear();
    }

    private static int monthKey(long ms) {
        ZonedDateTime z = Instant.ofEpochMilli(ms).atZone(ZoneOffset.UTC);
        return z.getYear() * 12 + z.getMonthValue();
    }
}
