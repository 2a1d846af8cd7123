package dev.engram.engine.ffm;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalAssertions;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.TestMatrices;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native kernels against the reference engine on random inputs: odd sizes, large batches and k, fp16/bf16
 * storage, several launch shapes, the orthonormal closed form. Every case runs on the emulated kernels ("emu");
 * the same case runs on the GPU ("cuda") when one is present and is skipped with the reason otherwise.
 *
 * <p>Tolerances are {@link RetrievalAssertions#assertAgrees}'s: float32 logits (d·2⁻²⁴·‖q‖·‖x‖·beta), float32
 * sums within a chunk (≤ 16384 patterns, summed as ≤ 512 warp-tree partial sums), double across chunks.
 */
class NativeCrossCheckTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final Map<String, NativeBackend> ENGINES = new HashMap<>();

    static NativeBackend engine(String variant, NativeStorage storage, LaunchShape shape) {
        if (variant.equals("cuda")) {
            NativeTestSupport.assumeCuda();
        } else {
            NativeTestSupport.assumeEmu();
        }
        return ENGINES.computeIfAbsent(variant + storage + shape, key -> variant.equals("cuda")
                ? NativeBackend.cuda(storage, shape) : NativeBackend.emulated(storage, shape));
    }

    @AfterAll
    static void close() {
        ENGINES.values().forEach(NativeBackend::close);
        ENGINES.clear();
    }

    /** (M, d, B, beta, k, seed): d = 1, 3, 127, 128; M around and off multiples of 32 and of the chunk. */
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        long seed = 11;
        int[] dims = {1, 3, 127, 128};
        long[] sizes = {1, 31, 33, 257, 1000};
        int[] batches = {1, 2, 5, 16, 17};
        float[] betas = {1e-3f, 0.125f, 1f, 8f, 40f};
        for (int d : dims) {
            for (long m : sizes) {
                int b = batches[(int) (seed % batches.length)];
                float beta = betas[(int) ((seed * 7) % betas.length)];
                int k = (int) Math.min(m, 1 + (seed * 13) % 64);
                out.add(Arguments.of(m, d, b, beta, k, seed++));
            }
        }
        return out.stream();
    }

    static Stream<Arguments> emuCases() {
        return cases().map(a -> Arguments.of(prepend("emu", a.get())));
    }

    static Stream<Arguments> cudaCases() {
        return cases().map(a -> Arguments.of(prepend("cuda", a.get())));
    }

    private static Object[] prepend(Object first, Object[] rest) {
        Object[] all = new Object[rest.length + 1];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    @ParameterizedTest(name = "{0}: M={1} d={2} B={3} beta={4} k={5}")
    @MethodSource({"emuCases", "cudaCases"})
    void agreesWithReference(String variant, long m, int d, int b, float beta, int k, long seed) {
        check(engine(variant, NativeStorage.F32, LaunchShape.AUTO), NativeStorage.F32, m, d, b, beta, k, seed, false);
    }

    @ParameterizedTest(name = "{0}: separate values M={1} d={2} B={3} beta={4} k={5}")
    @MethodSource({"emuCases", "cudaCases"})
    void agreesWithReferenceWithSeparateValues(String variant, long m, int d, int b, float beta, int k, long seed) {
        check(engine(variant, NativeStorage.F32, LaunchShape.AUTO), NativeStorage.F32, m, d, b, beta, k, seed, true);
    }

    /** fp16/bf16 storage equals the reference engine run on the rounded patterns and values. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("halfCases")
    void halfStorageEqualsTheReferenceOnRoundedPatterns(String variant, NativeStorage storage) {
        NativeBackend e = engine(variant, storage, LaunchShape.AUTO);
        check(e, storage, 700, 64, 9, 2f, 10, 21, false);
        check(e, storage, 300, 3, 4, 0.5f, 64, 22, true);
        check(e, storage, 129, 127, 2, 4f, 5, 23, true);
    }

    static Stream<Arguments> halfCases() {
        return Stream.of("emu", "cuda").flatMap(v -> Stream.of(NativeStorage.F16, NativeStorage.BF16)
                .map(s -> Arguments.of(v, s)));
    }

    /** B up to 300 (many query tiles), k = 64, and d = 256 (two column tiles: V = X staged separately). */
    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void largeBatchesAndWidePatterns(String variant) {
        NativeBackend e = engine(variant, NativeStorage.F32, LaunchShape.AUTO);
        check(e, NativeStorage.F32, 200, 16, 300, 0.25f, 64, 31, false);
        check(e, NativeStorage.F32, 150, 256, 3, 0.05f, 7, 32, false);
        check(e, NativeStorage.F32, 97, 200, 2, 0.1f, 3, 33, true);
    }

    static final List<LaunchShape> SHAPES = List.of(
            new LaunchShape(32, 32, 1),     // one warp, one query per block, many chunks to merge
            new LaunchShape(64, 64, 3),     // query tile not dividing B
            new LaunchShape(128, 256, 16),  // the default-like shape
            new LaunchShape(256, 96, 5),    // more warps than queries
            new LaunchShape(64, 4096, 16)); // one chunk holds the whole memory

    /** No answer depends on how the work is split: every shape agrees with the reference and with the others. */
    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void launchShapesAgree(String variant) {
        long m = 777;
        int d = 20;
        int b = 7;
        float beta = 3f;
        int k = 9;
        try (FloatMatrix x = RandomMatrices.uniform(m, d, 41); FloatMatrix v = RandomMatrices.gaussian(m, 6, 42);
             FloatMatrix q = RandomMatrices.uniform(b, d, 43); PatternMemory mem = PatternMemory.of(x, v)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult expected = REFERENCE.retrieve(mem, q, params);
            RetrievalResult first = null;
            for (LaunchShape shape : SHAPES) {
                RetrievalResult r = engine(variant, NativeStorage.F32, shape).retrieve(mem, q, params);
                RetrievalAssertions.assertAgrees(expected, r, mem, q, beta, variant + " " + shape);
                if (first == null) {
                    first = r;
                } else {
                    // Shapes change only the float32 summation order: same top-k, outputs within round-off.
                    assertArrayEquals(first.topIndices(), r.topIndices(), "top-k indices at " + shape);
                    for (int i = 0; i < first.output().length; i++) {
                        assertEquals(first.output()[i], r.output()[i], 2e-5 * (1 + Math.abs(first.output()[i])),
                                "output[" + i + "] at " + shape);
                    }
                    assertArrayEquals(first.entropy(), r.entropy(), 2e-5f, "entropy at " + shape);
                }
            }
        }
    }

    /** (variant, scale, features, storage, M, d, B, seed): logit scales 1 … 1e30, price-sized features, M = 1. */
    static Stream<Arguments> logitScaleCases() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{1, 1, 1}, {1, 16, 3}, {700, 16, 2}, {300, 33, 17}};
        long seed = 300;
        for (String variant : List.of("emu", "cuda")) {
            for (double scale : new double[] {1, 1e3, 1e9, 1e30}) {
                for (TestMatrices.Features f : TestMatrices.Features.values()) {
                    for (int[] sh : shapes) {
                        // lattice values are exact in fp16 and bf16 too: rotate the storage through the cases
                        NativeStorage storage = NativeStorage.values()[(int) (seed % NativeStorage.values().length)];
                        out.add(Arguments.of(variant, scale, f, storage, (long) sh[0], sh[1], sh[2], seed++));
                    }
                }
            }
        }
        return out.stream();
    }

    /**
     * At any logit scale up to 1e30: finite results, weights summing to 1 (a column of ones in V), the reference's
     * answer on the stored (rounded) values. Lattice features make every float32 logit exact (see
     * {@link TestMatrices#lattice}), so the tolerance is the float32 sums' alone (logit error 0).
     */
    @ParameterizedTest(name = "{0}: scale={1} {2} {3}: M={4} d={5} B={6} seed={7}")
    @MethodSource("logitScaleCases")
    void agreesWithReferenceAtAnyLogitScale(String variant, double scale, TestMatrices.Features features,
                                            NativeStorage storage, long m, int d, int b, long seed) {
        NativeBackend e = engine(variant, storage, LaunchShape.AUTO);
        try (FloatMatrix x = TestMatrices.lattice(m, d, features, false, seed);
             FloatMatrix q = TestMatrices.lattice(b, d, features, seed % 2 == 0, seed + 1);
             FloatMatrix v = RandomMatrices.gaussian(m, 3, seed + 2)) {
            for (long r = 0; r < m; r++) {
                v.set(r, 0, 1f);
            }
            try (FloatMatrix vr = rounded(v, storage); PatternMemory mem = PatternMemory.of(x, v);
                 PatternMemory asStored = PatternMemory.of(x, vr)) {
                RetrievalParams params = new RetrievalParams(TestMatrices.betaForScale(scale, q, x), Math.min((int) m, 3));
                RetrievalResult actual = e.retrieve(mem, q, params);
                String label = variant + " " + storage + " beta=" + params.beta();
                for (int i = 0; i < actual.output().length; i++) {
                    assertTrue(Float.isFinite(actual.output()[i]), label + ": output[" + i + "] = " + actual.output()[i]);
                }
                for (int bq = 0; bq < b; bq++) {
                    assertEquals(1.0, actual.output()[bq * 3], 2e-5, label + ": sum of the weights of query " + bq);
                }
                RetrievalAssertions.assertAgrees(REFERENCE.retrieve(asStored, q, params), actual, asStored, q, 0.0, label);
            }
        }
    }

    /** N orthonormal patterns, V = I, query = pattern 0: the weight on it is e^β/(e^β + N − 1). */
    @ParameterizedTest(name = "{0}: N={1} beta={2}")
    @MethodSource("orthonormalCases")
    void orthonormalPatternsWeightTheMatchByTheClosedForm(String variant, int n, float beta, double weight) {
        Backend engine = engine(variant, NativeStorage.F32, LaunchShape.AUTO);
        RetrievalAssertions.assertOrthonormalClosedForm(engine, n, beta, weight);
    }

    static Stream<Arguments> orthonormalCases() {
        return Stream.of("emu", "cuda").flatMap(v -> Stream.of(
                Arguments.of(v, 3, 1f, 0.576117),
                Arguments.of(v, 3, 5f, 0.986703),
                Arguments.of(v, 3, 10f, 0.999909),
                Arguments.of(v, 50, 2f, Math.exp(2) / (Math.exp(2) + 49)),
                Arguments.of(v, 130, 7f, Math.exp(7) / (Math.exp(7) + 129))));
    }

    /** The same retrieval through Backends.select("emu") and the explicit handle API. */
    @Test
    void explicitHandleEqualsTheCachedPath() {
        NativeBackend e = engine("emu", NativeStorage.F32, LaunchShape.AUTO);
        try (FloatMatrix x = RandomMatrices.uniform(100, 8, 51); FloatMatrix q = RandomMatrices.uniform(3, 8, 52);
             PatternMemory mem = PatternMemory.of(x); NativeMemory nm = e.upload(mem)) {
            RetrievalParams p = new RetrievalParams(1.5f, 4);
            RetrievalResult a = nm.retrieve(q, p, 0, mem.size(), LaunchShape.AUTO);
            RetrievalResult b = e.retrieve(mem, q, p);
            assertArrayEquals(a.output(), b.output());
            assertArrayEquals(a.topIndices(), b.topIndices());
            assertEquals(100, nm.size());
        }
    }

    /** All cosines tie: the top-k is the k smallest indices in order, across chunks and launch shapes. */
    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void identicalPatternsTieToTheSmallestIndices(String variant) {
        int m = 500;
        try (FloatMatrix x = FloatMatrix.allocate(m, 8); FloatMatrix q = FloatMatrix.allocate(2, 8)) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < 8; j++) {
                    x.set(i, j, 0.25f * (j + 1));
                }
            }
            for (int j = 0; j < 8; j++) {
                q.set(0, j, 1f);
                q.set(1, j, -0.5f * j);
            }
            try (PatternMemory mem = PatternMemory.of(x)) {
                for (LaunchShape shape : List.of(LaunchShape.AUTO, new LaunchShape(32, 32, 1), new LaunchShape(64, 96, 2))) {
                    RetrievalResult r = engine(variant, NativeStorage.F32, shape).retrieve(mem, q, new RetrievalParams(3f, 40));
                    for (int b = 0; b < 2; b++) {
                        assertEquals(Math.log(m), r.entropy()[b], 1e-5, "entropy of a uniform distribution");
                        long[] idx = r.topIndices(b);
                        for (int i = 0; i < idx.length; i++) {
                            assertEquals(i, idx[i], "tied top-k position " + i + " at " + shape);
                        }
                    }
                }
            }
        }
    }

    /** k = 0 skips top-k (no index or score arrays) and changes nothing else. */
    @Test
    void kZeroSkipsTopK() {
        NativeBackend e = engine("emu", NativeStorage.F32, LaunchShape.AUTO);
        try (FloatMatrix x = RandomMatrices.uniform(70, 5, 71); FloatMatrix q = RandomMatrices.uniform(2, 5, 72);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalResult r0 = e.retrieve(mem, q, new RetrievalParams(3f, 0));
            RetrievalResult r3 = e.retrieve(mem, q, new RetrievalParams(3f, 3));
            assertEquals(0, r0.topIndices().length);
            assertArrayEquals(r3.output(), r0.output());
            assertArrayEquals(r3.entropy(), r0.entropy());
            RetrievalAssertions.assertAgrees(REFERENCE.retrieve(mem, q, new RetrievalParams(3f, 0)), r0, mem, q, 3f, "k=0");
        }
    }

    /** Appending to a PatternMemory after a retrieval uploads only the new rows, and results follow. */
    @ParameterizedTest
    @EnumSource(NativeStorage.class)
    void appendsReachTheDeviceCopy(NativeStorage storage) {
        NativeBackend e = engine("emu", storage, LaunchShape.AUTO);
        try (FloatMatrix x1 = RandomMatrices.uniform(90, 12, 61); FloatMatrix x2 = RandomMatrices.uniform(50, 12, 62);
             FloatMatrix q = RandomMatrices.uniform(4, 12, 63); PatternMemory mem = PatternMemory.of(x1)) {
            RetrievalParams p = new RetrievalParams(2f, 6);
            e.retrieve(mem, q, p);
            mem.append(x2);
            RetrievalResult r = e.retrieve(mem, q, p);
            try (FloatMatrix all = rounded(mem.patterns(), storage); PatternMemory ref = PatternMemory.of(all)) {
                RetrievalAssertions.assertAgrees(REFERENCE.retrieve(ref, q, p), r, ref, q, 2f, "after append");
            }
        }
    }

    static FloatMatrix rounded(FloatMatrix m, NativeStorage storage) {
        return NativeTestSupport.rounded(m, storage);
    }

    static void check(NativeBackend engine, NativeStorage storage, long m, int d, int b, float beta, int k, long seed,
                      boolean separateValues) {
        try (FloatMatrix x = RandomMatrices.uniform(m, d, seed);
             FloatMatrix v = separateValues ? RandomMatrices.gaussian(m, 5 + (int) (seed % 40), seed + 1) : null;
             FloatMatrix q = RandomMatrices.uniform(b, d, seed + 2);
             PatternMemory mem = separateValues ? PatternMemory.of(x, v) : PatternMemory.of(x);
             FloatMatrix xr = rounded(x, storage);
             FloatMatrix vr = separateValues ? rounded(v, storage) : null;
             PatternMemory asStored = separateValues ? PatternMemory.of(xr, vr) : PatternMemory.of(xr)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult expected = REFERENCE.retrieve(asStored, q, params);
            RetrievalResult actual = engine.retrieve(mem, q, params);
            RetrievalAssertions.assertAgrees(expected, actual, asStored, q, beta, engine + " M=" + m + " d=" + d + " B=" + b);
        }
    }

}
