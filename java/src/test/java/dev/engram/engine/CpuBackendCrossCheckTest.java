package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
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
