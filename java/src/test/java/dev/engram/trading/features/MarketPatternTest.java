package dev.engram.trading.features;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.Interval;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MarketPatternTest {

    /** The pattern at bar t, recomputed from scratch over explicit windows with two-pass formulas. */
    static double[] direct(BarSeries s, int t, int lookback, double barsPerYear) {
        int L = lookback;
        double[] r = new double[L];
        for (int k = 0; k < L; k++) {
            int i = t - L + 1 + k;
            r[k] = s.close(i) / s.close(i - 1) - 1;
        }
        double mean = mean(r);
        double m2 = 0;
        double m3 = 0;
        double m4 = 0;
        for (double x : r) {
            double d = x - mean;
            m2 += d * d;
            m3 += d * d * d;
            m4 += d * d * d * d;
        }
        double std = Math.sqrt(m2 / (L - 1));
        double skew = 0;
        double kurt = 0;
        if (m2 > 0) {
            skew = Math.sqrt((double) L * (L - 1)) / (L - 2) * (m3 / L) / Math.pow(m2 / L, 1.5);
            kurt = (L - 1.0) / ((L - 2.0) * (L - 3.0)) * ((L + 1.0) * L * m4 / (m2 * m2) - 3.0 * (L - 1));
        }
        double std5 = sampleStd(returns(s, t, 5));
        double std20 = sampleStd(returns(s, t, 20));
        double vsum = 0;
        double trSum = 0;
        double hi = Double.NEGATIVE_INFINITY;
        double lo = Double.POSITIVE_INFINITY;
        for (int i = t - L + 1; i <= t; i++) {
            vsum += s.volume(i);
            double pc = s.close(i - 1);
            trSum += Math.max(s.high(i) - s.low(i), Math.max(Math.abs(s.high(i) - pc), Math.abs(s.low(i) - pc)));
            hi = Math.max(hi, s.high(i));
            lo = Math.min(lo, s.low(i));
        }
        double vmean = vsum / L;
        double atr = trSum / L;
        return new double[] {mean, std, skew, kurt, s.close(t) / s.close(t - 5) - 1, s.close(t) / s.close(t - 20) - 1,
                std * Math.sqrt(barsPerYear), std20 > 0 ? std5 / std20 : 1, vmean > 0 ? s.volume(t) / vmean : 1,
                atr > 0 ? (s.high(t) - s.low(t)) / atr : 1, hi > lo ? (s.close(t) - lo) / (hi - lo) : 0.5};
    }

    private static double[] returns(BarSeries s, int t, int w) {
        double[] r = new double[w];
        for (int k = 0; k < w; k++) {
            int i = t - w + 1 + k;
            r[k] = s.close(i) / s.close(i - 1) - 1;
        }
        return r;
    }

    private static double mean(double[] x) {
        double m = 0;
        for (double v : x) {
            m += v;
        }
        return m / x.length;
    }

    private static double sampleStd(double[] x) {
        double m = mean(x);
        double s = 0;
        for (double v : x) {
            s += (v - m) * (v - m);
        }
        return Math.sqrt(s / (x.length - 1));
    }

    @ParameterizedTest(name = "seed {0}, lookback {1}, {2} bars, degenerate stretch {3}")
    @CsvSource({"1, 20, 3000, false", "2, 20, 3000, true", "3, 37, 2000, true", "4, 60, 2500, false"})
    void streamingAgreesWithDirectRecomputation(long seed, int lookback, int n, boolean degenerate) {
        BarSeries s = RandomBars.series("R", seed, n, degenerate);
        double bpy = Interval.H1.barsPerYear();
        FeatureMatrix m = MarketPattern.of(s, lookback);
        int warm = Math.max(lookback, 20);
        assertEquals(n - warm, m.rows());
        assertEquals(s.startMs(warm), m.times()[0]);
        // Tolerance: the streaming sums carry rounding of about 1e-16 relative per update, reset every window;
        // skewness and kurtosis divide by M2^1.5 and M2², so compare with a relative 1e-7 plus an absolute 1e-9.
        for (int r = 0; r < m.rows(); r++) {
            double[] want = direct(s, warm + r, lookback, bpy);
            for (int j = 0; j < MarketPattern.DIM; j++) {
                double got = m.get(r, j);
                assertTrue(Double.isFinite(got), "row " + r + " " + MarketPattern.NAMES.get(j) + " = " + got);
                assertEquals(want[j], got, 1e-9 + 1e-7 * Math.abs(want[j]),
                        "row " + r + " (bar " + (warm + r) + ") " + MarketPattern.NAMES.get(j));
            }
        }
    }

    @Test
    void degenerateWindowsHaveDefinedValues() {
        BarSeries s = RandomBars.series("F", 5, 400, true);   // bars 200..279 are flat with zero volume
        FeatureMatrix m = MarketPattern.of(s, 20);
        int row = 279 - 20;                                    // the window ending at bar 279 is all flat
        assertEquals(0, m.get(row, 0));
        assertEquals(0, m.get(row, 1));
        assertEquals(0, m.get(row, 2));
        assertEquals(0, m.get(row, 3));
        assertEquals(0, m.get(row, 4));
        assertEquals(0, m.get(row, 6));
        assertEquals(1, m.get(row, 7));
        assertEquals(1, m.get(row, 8));
        assertEquals(1, m.get(row, 9));
        assertEquals(0.5, m.get(row, 10));
        for (double v : m.values()) {
            assertTrue(Double.isFinite(v));
        }
    }

    @Test
    void volatilityIsAnnualisedFromTheInterval() {
        BarSeries s = RandomBars.series("V", 6, 200, false);
        FeatureMatrix hourly = MarketPattern.of(s, 20);
        FeatureMatrix daily = MarketPattern.of(s, 20, 252);
        assertEquals(hourly.get(10, 1) * Math.sqrt(24 * 365.25), hourly.get(10, 6), 1e-12);
        assertEquals(daily.get(10, 1) * Math.sqrt(252), daily.get(10, 6), 1e-12);
    }

    @Test
    void lookbackOutsideTwentyToSixtyIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new MarketPattern(19, 252));
        assertTrue(e.getMessage().contains("19"));
        assertThrows(IllegalArgumentException.class, () -> new MarketPattern(61, 252));
    }

    @Test
    void zScoreUsesOnlyPastRowsAndGivesUnitVectors() {
        BarSeries s = RandomBars.series("Z", 7, 800, false);
        FeatureMatrix raw = MarketPattern.of(s, 20);
        int w = 100;
        FeatureMatrix z = RollingZScore.normalise(raw, w);
        assertEquals(raw.rows() - w, z.rows());
        for (int r = 0; r < z.rows(); r += 37) {
            double norm = 0;
            double[] expect = new double[raw.dim()];
            for (int j = 0; j < raw.dim(); j++) {
                double m = 0;
                for (int k = r; k < r + w; k++) {
                    m += raw.get(k, j);
                }
                m /= w;
                double v = 0;
                for (int k = r; k < r + w; k++) {
                    v += (raw.get(k, j) - m) * (raw.get(k, j) - m);
                }
                double sd = Math.sqrt(v / (w - 1));
                expect[j] = sd > 0 ? (raw.get(r + w, j) - m) / sd : 0;
                norm += expect[j] * expect[j];
            }
            for (int j = 0; j < raw.dim(); j++) {
                assertEquals(expect[j] / Math.sqrt(norm), z.get(r, j), 1e-9, "row " + r + " feature " + j);
            }
        }
        for (int r = 0; r < z.rows(); r++) {
            double n2 = 0;
            for (int j = 0; j < z.dim(); j++) {
                n2 += z.get(r, j) * z.get(r, j);
            }
            assertEquals(1, n2, 1e-12);
        }
    }
}
