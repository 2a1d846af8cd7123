package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The CPU engine against the reference engine on random inputs, at several launch shapes. */
class CpuBackendCrossCheckTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final int LANES = CpuBackend.vectorLanes();

    /** Default settings, a tiny chunk with many threads (many merges), the row path forced, the tile path forced. */
    private static final List<CpuBackend> ENGINES = List.of(
            new CpuBackend(),
            new CpuBackend(new CpuBackend.Config(3, 7, LANES, 0, 5)),
            new CpuBackend(new CpuBackend.Config(2, 33, LANES * 2, 1000, 50)),
            new CpuBackend(new CpuBackend.Config(4, 256, LANES * 4, 0, 1000)));

    @AfterAll
    static void close() {
        ENGINES.forEach(CpuBackend::close);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        long seed = 1;
        // (M, d, B, beta, k)
        int[] dims = {1, 3, 32, 64, 127};
        long[] sizes = {1, 2, 17, 130, 1000, 4099};
        int[] batches = {1, 2, 3, 5, 16, 17, 40};
        float[] betas = {1e-4f, 0.125f, 1f, 8f, 60f};
        for (int d : dims) {
            for (long m : sizes) {
                int b = batches[(int) (seed % batches.length)];
                float beta = betas[(int) ((seed * 7) % betas.length)];
                int k = (int) Math.min(m, 1 + seed % 12);
                out.add(Arguments.of(m, d, b, beta, k, seed++));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "M={0} d={1} B={2} beta={3} k={4}")
    @MethodSource("cases")
    void agreesWithReference(long m, int d, int b, float beta, int k, long seed) {
        check(m, d, b, beta, k, seed, false);
    }

    @ParameterizedTest(name = "separate values: M={0} d={1} B={2} beta={3} k={4}")
    @MethodSource("cases")
    void agreesWithReferenceWithSeparateValues(long m, int d, int b, float beta, int k, long seed) {
        check(m, d, b, beta, k, seed, true);
    }

    @Test
    void largeMemory() {
        // M = 10^5 at a few shapes: many chunks, many flushes of the float group sums into double.
        check(100_000, 32, 1, 0.5f, 10, 99, false);
        check(100_000, 64, 20, 0.25f, 5, 98, true);
        check(100_000, 3, 2, 4f, 3, 97, false);
    }

    @Test
    void runsWithTheRequestedVectorWidth() {
        String bits = System.getProperty("engram.cpu.vectorBits");
        int expected = bits == null ? jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length() : Integer.parseInt(bits) / 32;
        org.junit.jupiter.api.Assertions.assertEquals(expected, LANES, "vector lanes");
    }

    @Test
    void largeBatch() {
        check(3000, 64, 300, 0.125f, 64, 96, false);
    }

    /** Logit scales of the sweeps: unit, large, beyond float32's exp range by far, and near the top of float32. */
    static final double[] LOGIT_SCALES = {1, 1e3, 1e9, 1e30};

    /**
     * (scale, features, negated queries, M, d, B, k, seed): every logit scale with unit, price-sized (all logits of
     * one sign, positive or negative) and signed price-sized features, at shapes from the empty edge M = 1 to
     * M = 5000, on both paths (B ≤ 5 row path with the defaults, larger B tiled).
     */
    static Stream<Arguments> logitScaleCases() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{1, 1, 1, 1}, {1, 16, 3, 1}, {2, 3, 9, 2}, {17, 16, 1, 5}, {5000, 16, 1, 5},
                {5000, 16, 40, 3}, {700, 33, 2, 4}, {130, 64, 17, 3}};
        long seed = 500;
        for (double scale : LOGIT_SCALES) {
            for (TestMatrices.Features f : TestMatrices.Features.values()) {
                for (boolean negate : f == TestMatrices.Features.PRICE ? new boolean[] {false, true} : new boolean[] {false}) {
                    for (int[] sh : shapes) {
                        out.add(Arguments.of(scale, f, negate, (long) sh[0], sh[1], sh[2], sh[3], seed++));
                    }
                }
            }
        }
        return out.stream();
    }

    /**
     * At any logit scale up to 1e30: no NaN or infinity, weights summing to 1 (a column of ones in V comes out as 1),
     * and the reference's answer. The features make every float32 logit exact (see {@link TestMatrices#lattice}),
     * so the tolerance is the float32 sums' alone: 2e-5·max|v| on outputs, 2e-5 on entropy, whatever the scale.
     */
    @ParameterizedTest(name = "scale={0} {1} negated={2}: M={3} d={4} B={5} k={6} seed={7}")
    @MethodSource("logitScaleCases")
    void agreesWithReferenceAtAnyLogitScale(double scale, TestMatrices.Features features, boolean negate, long m,
                                            int d, int b, int k, long seed) {
        try (FloatMatrix x = TestMatrices.lattice(m, d, features, false, seed);
             FloatMatrix q = TestMatrices.lattice(b, d, features, negate, seed + 1);
             FloatMatrix v = onesThenGaussian(m, 3, seed + 2);
             PatternMemory self = PatternMemory.of(x);
             PatternMemory separate = PatternMemory.of(x, v)) {
            RetrievalParams params = new RetrievalParams(TestMatrices.betaForScale(scale, q, x), k);
            for (PatternMemory mem : List.of(self, separate)) {
                RetrievalResult expected = REFERENCE.retrieve(mem, q, params);
                for (int i = 0; i < ENGINES.size(); i++) {
                    RetrievalResult actual = ENGINES.get(i).retrieve(mem, q, params);
                    String label = "engine config " + i + " " + ENGINES.get(i).config() + " beta=" + params.beta();
                    assertFiniteWeightsSumToOne(actual, mem == separate, label);
                    RetrievalAssertions.assertAgrees(expected, actual, mem, q, 0.0, label);
                }
            }
        }
    }

    /**
     * Realistic large logits without exact arithmetic: price-sized features (10⁴–2·10⁴, d = 16, M = 5000) at
     * beta = 0.7, and unit-scale features at beta = 10⁹. The float32 logits are off by up to d·2⁻²⁴·beta·‖q‖‖x‖
     * (thousands here), but the best pattern leads the second by far more than that plus 104 (e^−104 is below
     * float32's smallest number), so both engines put all the weight on it: outputs equal to 1e-6 relative.
     */
    @ParameterizedTest(name = "{0}: M={1} d={2} B={3} beta={4}")
    @CsvSource({"price, 5000, 16, 1, 0.7", "price, 5000, 16, 20, 0.7", "price, 1, 16, 1, 0.7",
            "unit, 4099, 32, 3, 1e9", "unit, 4099, 32, 17, 1e9", "unit, 2, 3, 1, 1e9"})
    void realisticLargeLogits(String kind, long m, int d, int b, float beta) {
        boolean price = kind.equals("price");
        try (FloatMatrix x = price ? priceFeatures(m, d, 7) : RandomMatrices.uniform(m, d, 7);
             FloatMatrix q = price ? priceFeatures(b, d, 8) : RandomMatrices.uniform(b, d, 8);
             FloatMatrix v = onesThenGaussian(m, 4, 9);
             PatternMemory mem = PatternMemory.of(x, v)) {
            RetrievalParams params = new RetrievalParams(beta, 1);
            RetrievalResult expected = REFERENCE.retrieve(mem, q, params);
            double ds = RetrievalAssertions.logitError(mem, q, beta);
            for (int bq = 0; bq < b; bq++) {
                double gap = topLogitGap(q.row(bq), x, beta);
                org.junit.jupiter.api.Assertions.assertTrue(gap > 2 * ds + 110,
                        "the case must be one-hot: gap " + gap + " vs logit error " + ds + " (query " + bq + ")");
            }
            for (int i = 0; i < ENGINES.size(); i++) {
                RetrievalResult actual = ENGINES.get(i).retrieve(mem, q, params);
                String label = "engine config " + i + " " + ENGINES.get(i).config();
                assertFiniteWeightsSumToOne(actual, true, label);
                for (int j = 0; j < expected.output().length; j++) {
                    double e = expected.output()[j];
                    org.junit.jupiter.api.Assertions.assertEquals(e, actual.output()[j], 1e-6 * (1 + Math.abs(e)),
                            label + ": output[" + j + "]");
                }
                for (int bq = 0; bq < b; bq++) {
                    org.junit.jupiter.api.Assertions.assertEquals(expected.entropy()[bq], actual.entropy()[bq], 1e-6,
                            label + ": entropy[" + bq + "]");
                }
            }
        }
    }

    /** Features uniform in [10⁴, 2·10⁴): unnormalised prices. */
    static FloatMatrix priceFeatures(long rows, int cols, long seed) {
        FloatMatrix u = RandomMatrices.uniform(rows, cols, seed);
        for (long r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                u.set(r, c, 15_000f + 5_000f * u.get(r, c));
            }
        }
        return u;
    }

    /** Values whose first column is 1 (its output is the sum of the weights) and the rest Gaussian. */
    static FloatMatrix onesThenGaussian(long rows, int cols, long seed) {
        FloatMatrix v = RandomMatrices.gaussian(rows, cols, seed);
        for (long r = 0; r < rows; r++) {
            v.set(r, 0, 1f);
        }
        return v;
    }

    /**
     * Every output, entropy and confidence finite; with {@code onesColumn}, output column 0 (Σ w_i·1 / Σ w_i, the
     * sums of one float32 chain each) equals 1 to 2e-5, the float32 sums' tolerance.
     */
    static void assertFiniteWeightsSumToOne(RetrievalResult r, boolean onesColumn, String label) {
        for (int i = 0; i < r.output().length; i++) {
            org.junit.jupiter.api.Assertions.assertTrue(Float.isFinite(r.output()[i]),
                    label + ": output[" + i + "] = " + r.output()[i]);
        }
        for (int b = 0; b < r.batch(); b++) {
            org.junit.jupiter.api.Assertions.assertTrue(Float.isFinite(r.entropy()[b]) && Float.isFinite(r.confidence()[b]),
                    label + ": entropy/confidence of query " + b + " = " + r.entropy()[b] + "/" + r.confidence()[b]);
            if (onesColumn) {
                org.junit.jupiter.api.Assertions.assertEquals(1.0, r.output()[b * r.valueDim()], 2e-5,
                        label + ": sum of the weights of query " + b);
            }
        }
    }

    /** Largest minus second-largest beta·q·x_i in double (infinite for a single pattern). */
    static double topLogitGap(float[] q, FloatMatrix x, float beta) {
        double best = Double.NEGATIVE_INFINITY;
        double second = Double.NEGATIVE_INFINITY;
        for (long i = 0; i < x.rows(); i++) {
            double s = 0;
            for (int j = 0; j < q.length; j++) {
                s += (double) q[j] * x.get(i, j);
            }
            s *= beta;
            if (s > best) {
                second = best;
                best = s;
            } else if (s > second) {
                second = s;
            }
        }
        return best - second;
    }

    private static void check(long m, int d, int b, float beta, int k, long seed, boolean separateValues) {
        try (FloatMatrix x = RandomMatrices.uniform(m, d, seed);
             FloatMatrix v = separateValues ? RandomMatrices.gaussian(m, 5 + (int) (seed % 40), seed + 1) : null;
             FloatMatrix q = RandomMatrices.uniform(b, d, seed + 2);
             PatternMemory mem = separateValues ? PatternMemory.of(x, v) : PatternMemory.of(x)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult expected = REFERENCE.retrieve(mem, q, params);
            for (int i = 0; i < ENGINES.size(); i++) {
                RetrievalResult actual = ENGINES.get(i).retrieve(mem, q, params);
                RetrievalAssertions.assertAgrees(expected, actual, mem, q, beta,
                        "engine config " + i + " " + ENGINES.get(i).config());
            }
        }
    }
}
