package dev.engram.trading.features;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.Interval;
import dev.engram.trading.data.TimedValues;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhaseSpacesTest {
    private static final long H = Interval.H1.nominalMillis();

    @Test
    void pricePhaseSpaceIsDeviationFromTheMovingAverageAndBackwardMomentum() {
        BarSeries s = RandomBars.series("A", 21, 500, false);
        int w = 20;
        PhaseSpace ps = PhaseSpaces.price(s, w, new Momentum.BackwardDifference());
        assertEquals(500 - (w - 1), ps.rows());
        assertEquals(s.startMs(w - 1), ps.times()[0]);
        for (int r = 0; r < ps.rows(); r += 17) {
            int t = r + w - 1;
            double ma = 0;
            for (int k = t - w + 1; k <= t; k++) {
                ma += Math.log(s.close(k));
            }
            ma /= w;
            assertEquals(Math.log(s.close(t)) - ma, ps.q(r, 0), 1e-12);
            assertEquals(Math.log(s.close(t)) - Math.log(s.close(t - 1)), ps.p(r, 0), 1e-15);
        }
        PhaseSpace sg = PhaseSpaces.price(s, 5, new Momentum.SavitzkyGolay(7, 2));
        assertEquals(s.startMs(6), sg.times()[0]); // the estimator's warm-up (6 bars) is longer than the window's
    }

    @Test
    void cryptoPhaseSpaceMatchesTheDefinitions() {
        BarSeries s = RandomBars.series("C", 22, 300, false);
        int span = 20;
        PhaseSpace ps = PhaseSpaces.crypto(s, span);
        assertEquals(List.of("price", "volume", "range"), ps.names());
        assertEquals(300 - span - 1, ps.rows());
        double a = 2.0 / (span + 1);
        double emaP = Math.log(s.close(0));
        double emaV = Math.log1p(s.volume(0));
        for (int t = 1; t < s.size(); t++) {
            emaP = a * Math.log(s.close(t)) + (1 - a) * emaP;
            emaV = a * Math.log1p(s.volume(t)) + (1 - a) * emaV;
            if (t < span + 1) {
                continue;
            }
            int r = t - span - 1;
            assertEquals(Math.log(s.close(t)) - emaP, ps.q(r, 0), 1e-12);
            assertEquals(Math.log1p(s.volume(t)) - emaV, ps.q(r, 1), 1e-12);
            assertEquals((s.high(t) - s.low(t)) / s.close(t), ps.q(r, 2), 1e-15);
            assertEquals(Math.log(s.close(t) / s.close(t - 1)), ps.p(r, 0), 1e-12);
            double vm = 0;
            for (int k = t - span + 1; k <= t; k++) {
                vm += s.volume(k);
            }
            vm /= span;
            assertEquals(vm > 0 ? (s.volume(t) - s.volume(t - 1)) / vm : 0, ps.p(r, 1), 1e-9);
            assertEquals(logReturnStd(s, t, span) - logReturnStd(s, t - 1, span), ps.p(r, 2), 1e-10);
        }
    }

    private static double logReturnStd(BarSeries s, int t, int n) {
        double m = 0;
        for (int k = t - n + 1; k <= t; k++) {
            m += Math.log(s.close(k) / s.close(k - 1));
        }
        m /= n;
        double v = 0;
        for (int k = t - n + 1; k <= t; k++) {
            double d = Math.log(s.close(k) / s.close(k - 1)) - m;
            v += d * d;
        }
        return Math.sqrt(v / (n - 1));
    }

    @Test
    void multiAssetJoinsOnCommonTimes() {
        BarSeries a = RandomBars.series("A", 23, 400, false);
        BarSeries b = RandomBars.series("B", 24, 400, false).between(RandomBars.T0 + 50 * H, RandomBars.T0 + 380 * H);
        PhaseSpace m = PhaseSpaces.multiAsset(List.of(a, b), 10, new Momentum.Ema(0.5));
        assertEquals(List.of("A", "B"), m.names());
        PhaseSpace pa = PhaseSpaces.price(a, 10, new Momentum.Ema(0.5));
        PhaseSpace pb = PhaseSpaces.price(b, 10, new Momentum.Ema(0.5));
        assertArrayEquals(pb.times(), m.times()); // b's rows all lie inside a's
        for (int r = 0; r < m.rows(); r++) {
            int ia = java.util.Arrays.binarySearch(pa.times(), m.times()[r]);
            assertEquals(pa.q(ia, 0), m.q(r, 0));
            assertEquals(pa.p(ia, 0), m.p(r, 0));
            assertEquals(pb.q(r, 0), m.q(r, 1));
            assertEquals(pb.p(r, 0), m.p(r, 1));
        }
    }

    @Test
    void inputsAreUsableFromTheFirstBarStartingAtOrAfterPublication() {
        long[] starts = {0, H, 2 * H, 3 * H, 4 * H};
        TimedValues f = new TimedValues("funding_rate", new long[] {H, 2 * H + 1, 4 * H}, new double[] {1, 2, 3});
        double[] u = ExternalInputs.align(starts, f);
        assertTrue(Double.isNaN(u[0]));
        assertEquals(1, u[1]);  // published exactly at the bar's start: usable
        assertEquals(1, u[2]);  // published 1 ms after bar 2 starts: not yet
        assertEquals(2, u[3]);
        assertEquals(3, u[4]);
        BarSeries s = RandomBars.series("U", 25, 10, false);
        TimedValues oi = new TimedValues("open_interest", new long[] {RandomBars.T0 + 2 * H, RandomBars.T0 + 5 * H},
                new double[] {100, 110});
        TimedValues fr = new TimedValues("funding_rate", new long[] {RandomBars.T0 + H}, new double[] {1e-4});
        FeatureMatrix m = ExternalInputs.of(s, List.of(fr, oi.relativeChange("open_interest_change")));
        assertEquals(List.of("funding_rate", "open_interest_change"), m.names());
        assertEquals(s.startMs(5), m.times()[0]);
        assertEquals(1e-4, m.get(0, 0));
        assertEquals(0.1, m.get(0, 1), 1e-12);
        assertEquals(5, m.rows());
        assertThrows(IllegalArgumentException.class, () -> ExternalInputs.of(s, List.of()));
    }

    @Test
    void labelsAreForwardReturnsKnownAtTheCloseOfBarTPlusH() {
        BarSeries s = RandomBars.series("L", 26, 100, false);
        ForwardReturns y = ForwardReturns.of(s, 5);
        assertEquals(95, y.size());
        assertEquals(s.close(12) / s.close(7) - 1, y.values()[7], 1e-15);
        assertEquals(s.startMs(12) + H, y.knownAtMs()[7]);
    }
}
