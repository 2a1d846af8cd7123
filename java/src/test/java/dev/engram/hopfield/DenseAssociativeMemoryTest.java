package dev.engram.hopfield;

import dev.engram.optim.Adam;
import dev.engram.optim.LearningRateSchedule;
import dev.engram.engine.Backends;
import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DenseAssociativeMemoryTest {

    static double[][] randomRows(SplittableRandom rnd, int n, int d, double scale) {
        double[][] x = new double[n][d];
        for (double[] row : x) {
            for (int j = 0; j < d; j++) {
                row[j] = scale * (rnd.nextDouble() * 2 - 1);
            }
        }
        return x;
    }

    /**
     * Every entry of the hand-derived gradient against central differences (h = 1e-5) of the double loss with the
     * weights ω held at their values: truncation O(h²)·L''' plus round-off ~1e-16/h, so 1e-7 absolute plus 1e-5
     * relative is loose enough for double and tight enough to catch any wrong term.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void gradientMatchesCentralFiniteDifferences(boolean learnBeta) {
        var cfg = new DenseAssociativeMemory.Config(3, 2, 5, 2, 3, 4, 2.5, learnBeta);
        SplittableRandom rnd = new SplittableRandom(learnBeta ? 1 : 2);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 7)) {
            double[][] f = randomRows(rnd, 4, 3, 1);
            double[] y = {0.3, -0.2, 0.1, 0.5};
            double lambda = 0.7;
            DenseAssociativeMemory.Gradient g = dam.gradient(f, y, lambda);
            assertEquals(g.loss(), dam.loss(f, y, g.weights(), lambda), 1e-12);
            List<double[]> params = dam.parameters();
            String[] names = {"W_q", "W_k", "W_v", "W_o", "w_p", "b_p", "keys", "values", "log beta"};
            double h = 1e-5;
            int checked = 0;
            for (int k = 0; k < params.size(); k++) {
                double[] p = params.get(k);
                for (int i = 0; i < p.length; i++) {
                    double keep = p[i];
                    p[i] = keep + h;
                    double up = dam.loss(f, y, g.weights(), lambda);
                    p[i] = keep - h;
                    double down = dam.loss(f, y, g.weights(), lambda);
                    p[i] = keep;
                    double fd = (up - down) / (2 * h);
                    double an = g.gradients().get(k)[i];
                    if (k == 8 && !learnBeta) {
                        assertEquals(0, an, "a fixed beta gets no gradient");
                        continue;
                    }
                    assertEquals(fd, an, 1e-7 + 1e-5 * Math.abs(fd), names[k] + "[" + i + "]");
                    checked++;
                }
            }
            assertTrue(checked >= 100, "checked " + checked + " entries");
            assertTrue(g.diversity() > 0 && g.mse() > 0);
        }
    }

    /** The sampled diversity term (used on large memories) against central differences, and its closed form. */
    @Test
    void diversityOverASubsetOfKeys() {
        var cfg = new DenseAssociativeMemory.Config(3, 1, 8, 1, 2, 2, 1, true);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 3)) {
            int[] subset = {3, 0, 5};
            double[] grad = new double[dam.keys.length];
            double value = dam.diversity(grad, 1, subset);
            // closed form: mean over the 3 pairs of the squared cosine
            double expected = 0;
            for (int i = 0; i < 3; i++) {
                for (int j = i + 1; j < 3; j++) {
                    double[] a = java.util.Arrays.copyOfRange(dam.keys, subset[i] * 3, subset[i] * 3 + 3);
                    double[] b = java.util.Arrays.copyOfRange(dam.keys, subset[j] * 3, subset[j] * 3 + 3);
                    double c = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2])
                            / Math.sqrt((a[0] * a[0] + a[1] * a[1] + a[2] * a[2]) * (b[0] * b[0] + b[1] * b[1] + b[2] * b[2]));
                    expected += c * c / 3;
                }
            }
            assertEquals(expected, value, 1e-9);
            double h = 1e-6;
            for (int i = 0; i < dam.keys.length; i++) {
                double keep = dam.keys[i];
                dam.keys[i] = keep + h;
                double up = dam.diversity(null, 0, subset);
                dam.keys[i] = keep - h;
                double down = dam.diversity(null, 0, subset);
                dam.keys[i] = keep;
                assertEquals((up - down) / (2 * h), grad[i], 1e-7, "keys[" + i + "]");
            }
        }
    }

    /** Training on a memory of 2 000 keys (beyond the 512-key diversity sample) runs and lowers the loss. */
    @Test
    void trainingOnALargeMemoryUsesTheSampledDiversity() {
        SplittableRandom rnd = new SplittableRandom(12);
        double[][] f = randomRows(rnd, 200, 4, 1);
        double[] y = new double[200];
        for (int i = 0; i < 200; i++) {
            y[i] = 0.5 * Math.tanh(f[i][0] - f[i][1]);
        }
        var cfg = new DenseAssociativeMemory.Config(4, 1, 2000, 2, 4, 4, DenseAssociativeMemory.DEFAULT_BETA, true);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 2)) {
            var report = dam.train(f, y, new DenseAssociativeMemory.TrainingConfig(40, 16, 1e-2, 1e-3, 4, 0, 1e-2, 3));
            double first = (report.losses()[0] + report.losses()[1] + report.losses()[2]) / 3;
            double last = (report.losses()[37] + report.losses()[38] + report.losses()[39]) / 3;
            assertTrue(last < first, "loss " + first + " -> " + last);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void predictOnTheEngineMatchesTheDoubleForwardPass(String engine) {
        var cfg = new DenseAssociativeMemory.Config(6, 3, 50, 3, 4, 5, 8, true);
        SplittableRandom rnd = new SplittableRandom(3);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 11)) {
            double[][] f = randomRows(rnd, 7, 6, 1);
            DenseAssociativeMemory.Prediction exact = dam.predictExact(f);
            float[] flat = new float[7 * 6];
            for (int b = 0; b < 7; b++) {
                for (int j = 0; j < 6; j++) {
                    flat[b * 6 + j] = (float) f[b][j];
                }
            }
            try (FloatMatrix fm = FloatMatrix.of(flat, 7, 6)) {
                DenseAssociativeMemory.Prediction p = dam.predict(Backends.select(engine), fm);
                // float32 projections and scores (β·cos ≤ 8): ~1e-6 relative on the output
                assertArrayEquals(exact.predicted(), p.predicted(), 2e-5f);
                assertArrayEquals(exact.confidence(), p.confidence(), 2e-5f);
            }
        }
    }

    /**
     * A task an associative memory solves: 12 situations (cluster centres in R^6), each followed by its own return;
     * features are noisy copies. Training must bring the error far below the variance of the targets.
     */
    @Test
    void trainingLearnsClusteredOutcomes() {
        SplittableRandom rnd = new SplittableRandom(21);
        int clusters = 12;
        double[][] centres = randomRows(rnd, clusters, 6, 1);
        double[] outcome = new double[clusters];
        for (int c = 0; c < clusters; c++) {
            outcome[c] = 0.8 * (rnd.nextDouble() - 0.5);
        }
        int n = 600;
        double[][] f = new double[n][6];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            int c = i % clusters;
            for (int j = 0; j < 6; j++) {
                f[i][j] = centres[c][j] + 0.1 * (rnd.nextDouble() - 0.5);
            }
            y[i] = outcome[c];
        }
        double mean = 0;
        for (double v : y) {
            mean += v / n;
        }
        double var = 0;
        for (double v : y) {
            var += (v - mean) * (v - mean) / n;
        }
        var cfg = new DenseAssociativeMemory.Config(6, 1, 24, 2, 6, 8, DenseAssociativeMemory.DEFAULT_BETA, true);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 5)) {
            double before = mse(dam, f, y);
            DenseAssociativeMemory.TrainingReport report = dam.train(f, y, new DenseAssociativeMemory.TrainingConfig(
                    600, 32, 1e-2, 1e-3, 30, 1e-4, 1e-2, 9));
            double after = mse(dam, f, y);
            System.out.printf("dense associative memory: target variance %.4f, MSE before %.4f, after %.4f, beta %.2f%n",
                    var, before, after, report.beta());
            assertTrue(after < 0.1 * var, "MSE after training " + after + " vs target variance " + var);
            assertTrue(after < before);
            assertEquals(600, report.losses().length);
        }
    }

    static double mse(DenseAssociativeMemory dam, double[][] f, double[] y) {
        float[] p = dam.predictExact(f).predicted();
        double s = 0;
        for (int i = 0; i < y.length; i++) {
            s += (p[i] - y[i]) * (p[i] - y[i]) / y.length;
        }
        return s;
    }

    /**
     * Confidence against β on a real-sized memory (M = 10^4 random keys) through the engine: a query near a stored
     * key versus an unrelated query, with tied query/key projections (what training converges to for exact
     * look-ups). Prints the figures the README quotes; the default β must be the one with the widest gap.
     */
    @Test
    void confidenceAgainstBetaOnATenThousandPatternMemory() {
        SplittableRandom rnd = new SplittableRandom(8);
        int m = 10_000;
        int d = 16;
        double[][] keys = new double[m][];
        double[][] values = new double[m][];
        for (int i = 0; i < m; i++) {
            keys[i] = randomRows(rnd, 1, d, 1)[0];
            values[i] = new double[] {rnd.nextDouble() - 0.5};
        }
        float[] near = new float[32 * d];
        float[] far = new float[32 * d];
        for (int b = 0; b < 32; b++) {
            double[] k = keys[rnd.nextInt(m)];
            for (int j = 0; j < d; j++) {
                near[b * d + j] = (float) (k[j] + 0.05 * (rnd.nextDouble() - 0.5));
                far[b * d + j] = (float) (rnd.nextDouble() * 2 - 1);
            }
        }
        double[] betas = {1, 4, 8, 16, 32, 64};
        int[] headDims = {8, 16};
        for (int dh : headDims) {
        double[][] conf = new double[betas.length][2];
        System.out.println("dense associative memory (4 heads × " + dh + ", d=16, M=10^4, W_q = W_k): confidence vs beta, near / unrelated");
        try (FloatMatrix qn = FloatMatrix.of(near, 32, d); FloatMatrix qf = FloatMatrix.of(far, 32, d)) {
            for (int j = 0; j < betas.length; j++) {
                var cfg = new DenseAssociativeMemory.Config(d, 1, m, 4, dh, 16, betas[j], false);
                try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 4)) {
                    dam.setMemory(keys, values);
                    // tied query and key projections: a query equal to a stored key then matches it in every head
                    System.arraycopy(dam.wk, 0, dam.wq, 0, dam.wq.length);
                    conf[j][0] = BetaCalibrationTest.mean(dam.predict(Backends.select("cpu"), qn).confidence());
                    conf[j][1] = BetaCalibrationTest.mean(dam.predict(Backends.select("cpu"), qf).confidence());
                }
                System.out.printf("  beta %4.0f: %.4f / %.4f%n", betas[j], conf[j][0], conf[j][1]);
            }
        }
        assertTrue(conf[0][0] < 0.02, "beta = 1 never gets confident: " + conf[0][0]);
        if (dh == DenseAssociativeMemory.Config.defaults(d, 1, m).headDim()) {
            int widest = 0;
            for (int j = 1; j < betas.length; j++) {
                widest = conf[j][0] - conf[j][1] > conf[widest][0] - conf[widest][1] ? j : widest;
            }
            assertEquals(DenseAssociativeMemory.DEFAULT_BETA, betas[widest], "the default is the beta with the widest gap");
            assertTrue(conf[widest][0] > 0.5 && conf[widest][0] - conf[widest][1] > 0.1,
                    "usable and discriminating at the default: " + conf[widest][0] + " / " + conf[widest][1]);
        }
        }
    }

    @Test
    void adamWFirstStepAndCosineScheduleClosedForms() {
        double[] p = {1.0, -2.0, 0.5};
        Adam opt = new Adam(Adam.Config.adamW(0.1), List.of(p), new boolean[] {true});
        opt.step(List.of(new double[] {0.3, -4, 0}), 0.01);
        // step 1: m̂ = g, v̂ = g², so the move is lr·(g/(|g| + ε) + λθ)
        assertEquals(1.0 - 0.01 * (0.3 / (0.3 + 1e-8) + 0.1), p[0], 1e-12);
        assertEquals(-2.0 - 0.01 * (-4 / (4 + 1e-8) - 0.2), p[1], 1e-12);
        assertEquals(0.5 - 0.01 * 0.05, p[2], 1e-12);
        LearningRateSchedule s = new LearningRateSchedule(1e-2, 1e-3, 10, 110, true);
        assertEquals(1e-3, s.rate(0), 1e-15);
        assertEquals(1e-2, s.rate(10), 1e-15);
        assertEquals(1e-3 + 0.5 * 9e-3, s.rate(60), 1e-15);
        assertEquals(1e-3, s.rate(110), 1e-15);
        assertTrue(s.rate(30) > s.rate(31));
    }

    @Test
    void badInputIsRejectedByNameAndLeavesTheModelAsItWas() {
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new DenseAssociativeMemory.Config(3, 1, 1, 1, 1, 1, 1, true)).getMessage().contains("memorySize must be >= 2, got 1"));
        assertTrue(assertThrows(IllegalArgumentException.class,
                () -> new DenseAssociativeMemory.Config(3, 1, 4, 1, 1, 1, Double.NaN, true)).getMessage().contains("beta"));
        var cfg = new DenseAssociativeMemory.Config(3, 1, 4, 1, 2, 2, 4, true);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 1)) {
            double[] keysBefore = dam.keys.clone();
            double[][] f = {{1, 2, 3}};
            var e1 = assertThrows(IllegalArgumentException.class, () -> dam.gradient(new double[][] {{1, 2}}, new double[] {0}, 0));
            assertTrue(e1.getMessage().contains("features row 0 has 2 columns but 3"), e1.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> dam.gradient(new double[][] {{1, Double.NaN, 3}}, new double[] {0}, 0));
            assertTrue(e2.getMessage().contains("(0, 1) is NaN"), e2.getMessage());
            var e3 = assertThrows(IllegalArgumentException.class, () -> dam.train(f, new double[] {0, 1}, DenseAssociativeMemory.TrainingConfig.defaults(5)));
            assertTrue(e3.getMessage().contains("targets has length 2 but 1"), e3.getMessage());
            var e4 = assertThrows(IllegalArgumentException.class,
                    () -> dam.setMemory(new double[][] {{1, 2, 3}, {1, 2, 3}, {1, 2, 3}, {1, Double.POSITIVE_INFINITY, 3}},
                            new double[][] {{0}, {0}, {0}, {0}}));
            assertTrue(e4.getMessage().contains("keys must be finite") && e4.getMessage().contains("(3, 1)"), e4.getMessage());
            assertArrayEquals(keysBefore, dam.keys, "rejected input changes nothing");
            try (FloatMatrix bad = FloatMatrix.allocate(2, 4)) {
                var e5 = assertThrows(IllegalArgumentException.class, () -> dam.predict(Backends.select("reference"), bad));
                assertTrue(e5.getMessage().contains("d=4"), e5.getMessage());
            }
        }
    }
}
