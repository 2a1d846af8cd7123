package dev.engram.trading.features;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CanonicalTransformTest {
    private static final double STEP = 1e-6;

    /** 2n×2n Jacobian of z = (q_1..q_n, p_1..p_n) ↦ (Q, P) by central differences of step 1e-6. */
    static double[][] jacobian(CanonicalTransform f, double[] z) {
        int m = z.length;
        double[][] j = new double[m][m];
        for (int c = 0; c < m; c++) {
            double[] a = z.clone();
            double[] b = z.clone();
            a[c] += STEP;
            b[c] -= STEP;
            double[] fa = apply(f, a);
            double[] fb = apply(f, b);
            for (int r = 0; r < m; r++) {
                j[r][c] = (fa[r] - fb[r]) / (2 * STEP);
            }
        }
        return j;
    }

    static double[] apply(CanonicalTransform f, double[] z) {
        int n = z.length / 2;
        double[] out = new double[z.length];
        double[] pair = new double[2];
        for (int i = 0; i < n; i++) {
            f.forward(z[i], z[n + i], pair);
            out[i] = pair[0];
            out[n + i] = pair[1];
        }
        return out;
    }

    /** max |JᵀΩJ − Ω| with Ω = [[0, I], [−I, 0]]. */
    static double symplecticDefect(double[][] j) {
        int m = j.length;
        int n = m / 2;
        double[][] omega = new double[m][m];
        for (int i = 0; i < n; i++) {
            omega[i][n + i] = 1;
            omega[n + i][i] = -1;
        }
        double worst = 0;
        for (int r = 0; r < m; r++) {
            for (int c = 0; c < m; c++) {
                double s = 0;
                for (int a = 0; a < m; a++) {
                    for (int b = 0; b < m; b++) {
                        s += j[a][r] * omega[a][b] * j[b][c];
                    }
                }
                worst = Math.max(worst, Math.abs(s - omega[r][c]));
            }
        }
        return worst;
    }

    static List<CanonicalTransform> transforms() {
        return List.of(CanonicalTransform.identity(), CanonicalTransform.signedLog(),
                CanonicalTransform.actionAngle(0.1, -0.2, 2.5));
    }

    // Central differences of step h have error O(h²·f''') ≈ 1e-12 plus rounding ε/h ≈ 1e-10 per entry; products of
    // entries of size ≤ 10 keep the defect below 1e-6.
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4})
    void everyTransformIsCanonicalForThreeDegreesOfFreedom(long seed) {
        Random rnd = new Random(seed);
        for (CanonicalTransform f : transforms()) {
            for (int trial = 0; trial < 20; trial++) {
                double[] z = new double[6];
                for (int i = 0; i < 6; i++) {
                    z[i] = 2 * rnd.nextGaussian();
                    if (Math.abs(z[i]) < 1e-3) {
                        z[i] = 0.5; // keep finite differences off the kink of |q| at 0
                    }
                }
                double[][] j = jacobian(f, z);
                assertTrue(symplecticDefect(j) < 1e-6, "defect " + symplecticDefect(j) + " at seed " + seed);
                double[] pair = new double[2];
                double[][] j1 = jacobian(f, new double[] {z[0], z[3]});
                assertEquals(1, j1[0][0] * j1[1][1] - j1[0][1] * j1[1][0], 1e-6);
                double[] back = new double[2];
                f.forward(z[1], z[4], pair);
                f.inverse(pair[0], pair[1], back);
                assertEquals(z[1], back[0], 1e-12 * (1 + Math.abs(z[1])));
                assertEquals(z[4], back[1], 1e-12 * (1 + Math.abs(z[4])));
            }
        }
    }

    @Test
    void theTextsLogTransformIsNotCanonical() {
        CanonicalTransform text = new CanonicalTransform() {
            @Override
            public void forward(double q, double p, double[] out) {
                out[0] = Math.signum(q) * Math.log(Math.abs(q));
                out[1] = p * Math.exp(-out[0]);
            }

            @Override
            public void inverse(double bigQ, double bigP, double[] out) {
                throw new UnsupportedOperationException();
            }
        };
        double[][] j = jacobian(text, new double[] {0.5, 1.0});
        assertEquals(4.0, j[0][0] * j[1][1] - j[0][1] * j[1][0], 1e-5); // 1/q² at q = 0.5, not 1
        double[] a = new double[2];
        double[] b = new double[2];
        text.forward(0.5, 1, a);
        text.forward(-2, 1, b);
        assertEquals(a[0], b[0], 1e-15); // not one-to-one either
    }

    @Test
    void actionIsConstantAndTheAngleAdvancesAtOmegaOnHarmonicMotion() {
        double omega = 1.7;
        double q0 = 0.3;
        double p0 = -0.1;
        CanonicalTransform aa = CanonicalTransform.actionAngle(q0, p0, omega);
        double action = 0.8;
        double phase0 = 0.4;
        double[] out = new double[2];
        for (int k = 0; k < 50; k++) {
            double t = 0.03 * k;
            double q = q0 + Math.sqrt(2 * action / omega) * Math.sin(phase0 + omega * t);
            double p = p0 + Math.sqrt(2 * action * omega) * Math.cos(phase0 + omega * t);
            aa.forward(q, p, out);
            assertEquals(action, out[1], 1e-12);
            assertEquals(phase0 + omega * t, out[0], 1e-12);
            double energy = 0.5 * ((p - p0) * (p - p0) + omega * omega * (q - q0) * (q - q0));
            assertEquals(energy / omega, out[1], 1e-12);
        }
        aa.forward(q0, p0, out); // the centre: angle undefined, reported as 0 with action 0
        assertEquals(0, out[0]);
        assertEquals(0, out[1]);
    }
}
