package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The CPU engine reading bfloat16 copies of the patterns equals the reference engine run on the rounded patterns
 * (rounded here independently: nearest, ties to even), within the usual float32 tolerances.
 */
class CpuBf16StorageTest {
    private static final int LANES = CpuBackend.vectorLanes();
    /** Default shape, the row path forced, the tile path forced with tiny chunks and many merges. */
    private static final CpuBackend[] ENGINES = {
            new CpuBackend(CpuBackend.Config.defaults(), CpuBackend.Storage.BF16),
            new CpuBackend(new CpuBackend.Config(2, 33, LANES, 1000, 50), CpuBackend.Storage.BF16),
            new CpuBackend(new CpuBackend.Config(3, 7, LANES, 0, 5), CpuBackend.Storage.BF16)};

    @AfterAll
    static void close() {
        for (CpuBackend e : ENGINES) {
            e.close();
        }
    }

    /** Round-to-nearest-even to bfloat16 and back, by integer arithmetic on the float's bits. */
    static float roundBf16(float v) {
        int bits = Float.floatToRawIntBits(v);
        int upper = bits >>> 16;
        int lower = bits & 0xFFFF;
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) {
            upper++;
        }
        return Float.intBitsToFloat(upper << 16);
    }

    static FloatMatrix rounded(FloatMatrix x) {
        FloatMatrix r = x.copy();
        for (long i = 0; i < r.rows(); i++) {
            for (int j = 0; j < r.cols(); j++) {
                r.set(i, j, roundBf16(r.get(i, j)));
            }
        }
        return r;
    }

    @ParameterizedTest(name = "M={0} d={1} B={2} beta={3} k={4} separate values={5}")
    @CsvSource({"1, 1, 1, 1.0, 1, false", "1000, 3, 2, 0.5, 5, false", "4099, 32, 1, 0.125, 10, false",
            "777, 127, 5, 2.0, 7, true", "3000, 64, 40, 0.25, 3, false", "513, 17, 20, 8.0, 4, true"})
    void equalsTheReferenceOnRoundedPatterns(long m, int d, int b, float beta, int k, boolean separate) {
        try (FloatMatrix x = RandomMatrices.uniform(m, d, m + d);
             FloatMatrix xr = rounded(x);
             FloatMatrix v = separate ? RandomMatrices.gaussian(m, 6, 3) : null;
             FloatMatrix q = RandomMatrices.uniform(b, d, 5);
             PatternMemory mem = separate ? PatternMemory.of(x, v) : PatternMemory.of(x);
             PatternMemory memRounded = separate ? PatternMemory.of(xr, v) : PatternMemory.of(xr)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult expected = new ReferenceBackend().retrieve(memRounded, q, params);
            for (CpuBackend engine : ENGINES) {
                RetrievalResult actual = engine.retrieve(mem, q, params);
                RetrievalAssertions.assertAgrees(expected, actual, memRounded, q, beta, engine.config().toString());
            }
            if (m > 100 && !separate) {
                // and it really read the rounded copy: float32 storage lands much farther from this answer
                double bf = maxDiff(expected, ENGINES[0].retrieve(mem, q, params));
                double f32 = maxDiff(expected, CpuBackend.shared().retrieve(mem, q, params));
                org.junit.jupiter.api.Assertions.assertTrue(f32 > 10 * bf, "f32 " + f32 + " vs bf16 " + bf);
            }
        }
    }

    /** (scale, features, M, d, B, seed): the logit scales of {@link CpuBackendCrossCheckTest#LOGIT_SCALES}. */
    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> logitScaleCases() {
        java.util.List<org.junit.jupiter.params.provider.Arguments> out = new java.util.ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {1, 16, 3}, {5000, 16, 1}, {2000, 33, 20}, {130, 64, 9}};
        long seed = 900;
        for (double scale : CpuBackendCrossCheckTest.LOGIT_SCALES) {
            for (TestMatrices.Features f : TestMatrices.Features.values()) {
                for (int[] sh : shapes) {
                    out.add(org.junit.jupiter.params.provider.Arguments.of(scale, f, (long) sh[0], sh[1], sh[2], seed++));
                }
            }
        }
        return out.stream();
    }

    /**
     * Large logits through the bfloat16 path: lattice features are exact in bfloat16 (|k| ≤ 20 needs 5 bits), so
     * the reference runs on the same patterns and the float32 logits are exact (see
     * {@link TestMatrices#lattice}); tolerance: the float32 sums' alone, at every scale up to 1e30.
     */
    @ParameterizedTest(name = "scale={0} {1}: M={2} d={3} B={4} seed={5}")
    @org.junit.jupiter.params.provider.MethodSource("logitScaleCases")
    void agreesWithReferenceAtAnyLogitScale(double scale, TestMatrices.Features features, long m, int d, int b,
                                            long seed) {
        try (FloatMatrix x = TestMatrices.lattice(m, d, features, false, seed);
             FloatMatrix q = TestMatrices.lattice(b, d, features, seed % 2 == 0, seed + 1);
             FloatMatrix v = CpuBackendCrossCheckTest.onesThenGaussian(m, 3, seed + 2);
             PatternMemory self = PatternMemory.of(x);
             PatternMemory separate = PatternMemory.of(x, v)) {
            RetrievalParams params = new RetrievalParams(TestMatrices.betaForScale(scale, q, x), Math.min((int) m, 3));
            for (PatternMemory mem : java.util.List.of(self, separate)) {
                RetrievalResult expected = new ReferenceBackend().retrieve(mem, q, params);
                for (CpuBackend engine : ENGINES) {
                    RetrievalResult actual = engine.retrieve(mem, q, params);
                    String label = engine.config() + " beta=" + params.beta();
                    CpuBackendCrossCheckTest.assertFiniteWeightsSumToOne(actual, mem == separate, label);
                    RetrievalAssertions.assertAgrees(expected, actual, mem, q, 0.0, label);
                }
            }
        }
    }

    private static double maxDiff(RetrievalResult a, RetrievalResult b) {
        double worst = 0;
        for (int i = 0; i < a.output().length; i++) {
            worst = Math.max(worst, Math.abs(a.output()[i] - b.output()[i]));
        }
        return worst;
    }

    @Test
    void theCopyFollowsAppendsAndReplacements() {
        CpuBackend engine = ENGINES[0];
        try (FloatMatrix x = RandomMatrices.uniform(500, 8, 1); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.uniform(1, 8, 2); FloatMatrix more = RandomMatrices.uniform(10, 8, 3)) {
            RetrievalParams params = new RetrievalParams(1f, 1);
            long before = engine.retrieve(mem, q, params).topIndices()[0];
            float[] aligned = q.row(0);
            mem.replace(before == 7 ? 8 : 7, aligned, null);
            long after = engine.retrieve(mem, q, params).topIndices()[0];
            assertNotEquals(before, after, "the replaced row is now the best match");
            mem.append(more);
            assertEquals(510, engine.retrieve(mem, q, new RetrievalParams(1f, 510)).topIndices().length);
        }
    }

    @Test
    void valuesTooLargeForBfloat16AreNamed() {
        try (FloatMatrix x = FloatMatrix.of(new float[] {1f, Float.MAX_VALUE}, 1, 2); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = FloatMatrix.of(new float[] {1f, 0f}, 1, 2)) {
            var e = assertThrows(IllegalArgumentException.class, () -> ENGINES[0].retrieve(mem, q, new RetrievalParams(1f, 1)));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("(0, 1)") && e.getMessage().contains("bfloat16"),
                    e.getMessage());
        }
    }
}
