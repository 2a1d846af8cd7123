package dev.engram.hnn.train;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DerivativeTargetsTest {
    static final double DT = 0.1;

    static double[] series(int n, java.util.function.DoubleUnaryOperator f) {
        double[] x = new double[n];
        for (int t = 0; t < n; t++) {
            x[t] = f.applyAsDouble(t * DT);
        }
        return x;
    }

    @Test
    void causalEstimatorsNeverReadFutureSamples() {
        SplittableRandom r = new SplittableRandom(1);
        double[] x = r.doubles(60, -1, 1).toArray();
        UnaryOperator<double[]>[] causal = List3.of(
                s -> DerivativeTargets.backwardDifference(s, DT),
                s -> DerivativeTargets.causalSavitzkyGolay(s, DT, 9, 3),
                s -> DerivativeTargets.emaBackwardDifference(s, DT, 0.3));
        for (UnaryOperator<double[]> est : causal) {
            double[] before = est.apply(x);
            for (int cut = 1; cut < x.length; cut += 7) {
                double[] changed = x.clone();
                for (int t = cut; t < x.length; t++) {
                    changed[t] = 1e6 * r.nextGaussian(); // rewrite the future from `cut` on
                }
                double[] after = est.apply(changed);
                for (int t = 0; t < cut; t++) {
                    assertEquals(Double.doubleToLongBits(before[t]), Double.doubleToLongBits(after[t]),
                            "target at t=" + t + " changed when samples from t=" + cut + " on changed");
                }
                assertTrue(Double.isNaN(after[cut]) || after[cut] != before[cut], "the present sample is read");
            }
        }
        // the central difference does look ahead, which is why it is for offline data only
        double[] changed = x.clone();
        changed[31] += 1;
        assertTrue(DerivativeTargets.centralDifference(changed, DT)[30] != DerivativeTargets.centralDifference(x, DT)[30]);
    }

    /** Small helper for a typed array of lambdas. */
    static final class List3 {
        @SafeVarargs
        static UnaryOperator<double[]>[] of(UnaryOperator<double[]>... f) {
            return f;
        }
    }

    @Test
    void savitzkyGolayIsExactForPolynomialsUpToItsOrder() {
        // x(t) = 1 − 2t + 0.5t² + 0.25t³, x'(t) = −2 + t + 0.75t²; a cubic causal fit differentiates it exactly
        double[] x = series(40, t -> 1 - 2 * t + 0.5 * t * t + 0.25 * t * t * t);
        double[] d = DerivativeTargets.causalSavitzkyGolay(x, DT, 11, 3);
        for (int t = 0; t < 10; t++) {
            assertTrue(Double.isNaN(d[t]), "warm-up of w−1 = 10 samples");
        }
        for (int t = 10; t < 40; t++) {
            double s = t * DT;
            assertEquals(-2 + s + 0.75 * s * s, d[t], 1e-9, "t=" + t);
        }
        // order 1 over two samples is the backward difference
        double[] y = new SplittableRandom(2).doubles(20).toArray();
        double[] sg = DerivativeTargets.causalSavitzkyGolay(y, DT, 2, 1);
        double[] bd = DerivativeTargets.backwardDifference(y, DT);
        for (int t = 1; t < 20; t++) {
            assertEquals(bd[t], sg[t], 1e-12);
        }
    }

    @Test
    void differencesKnownAnswers() {
        double[] x = series(30, Math::sin);
        double[] b = DerivativeTargets.backwardDifference(x, DT);
        double[] c = DerivativeTargets.centralDifference(x, DT);
        assertTrue(Double.isNaN(b[0]));
        for (int t = 1; t < 29; t++) {
            double s = t * DT;
            // backward: error Δt/2·|x''| ≤ 0.05; central: Δt²/6·|x'''| ≤ 1.7e-3
            assertEquals(Math.cos(s), b[t], 0.05 + 1e-12);
            assertEquals(Math.cos(s), c[t], 1.7e-3);
            assertEquals((x[t] - x[t - 1]) / DT, b[t], 1e-15);
        }
        // EMA with α = 1 is the backward difference; on a straight line every causal estimate converges to the slope
        double[] e1 = DerivativeTargets.emaBackwardDifference(x, DT, 1);
        for (int t = 1; t < 30; t++) {
            assertEquals(b[t], e1[t], 1e-15);
        }
        double[] line = series(200, t -> 3 * t + 1);
        double[] e = DerivativeTargets.emaBackwardDifference(line, DT, 0.2);
        assertEquals(3, e[199], 1e-9);
    }

    @Test
    void samplesDropTheWarmUpRows() {
        double[] q = series(25, Math::sin);
        double[] p = series(25, Math::cos);
        PhaseSpaceSamples s = DerivativeTargets.samples(1, q, p, x -> DerivativeTargets.causalSavitzkyGolay(x, DT, 5, 2));
        assertEquals(21, s.size());
        assertEquals(q[4], s.q()[0]);
        // an end-point quadratic fit over 4 steps differentiates with error about 1.5 dt^2 |x'''| (1.39e-2 here)
        assertEquals(Math.cos(4 * DT), s.dqdt()[0], 2e-2);
        assertEquals(-Math.sin(4 * DT), s.dpdt()[0], 2e-2);
        assertEquals(DerivativeTargets.causalSavitzkyGolay(q, DT, 5, 2)[24], s.dqdt()[20]);
    }

    @Test
    void badInputIsNamed() {
        double[] x = {1, 2, Double.NaN};
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DerivativeTargets.backwardDifference(x, DT))
                .getMessage().contains("x[2] is NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> DerivativeTargets.backwardDifference(new double[] {1, 2}, 0)).getMessage().contains("dt"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> DerivativeTargets.causalSavitzkyGolay(new double[] {1, 2, 3}, DT, 2, 2)).getMessage()
                .contains("window"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> DerivativeTargets.emaBackwardDifference(new double[] {1, 2}, DT, 0)).getMessage()
                .contains("alpha"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> DerivativeTargets.samples(1, new double[] {1, 2},
                new double[] {1, 2}, s -> DerivativeTargets.causalSavitzkyGolay(s, DT, 5, 2))).getMessage()
                .contains("warm-up"));
    }
}
