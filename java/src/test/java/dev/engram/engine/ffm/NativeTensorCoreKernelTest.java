package dev.engram.engine.ffm;

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
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retrieval kernel 2 (cuda/retrieve_partial_v2.cu: tensor cores, cp.async pipeline, threshold-filtered top-k) against
 * the reference engine, through the C ABI, on the emulated kernels (and on a GPU when one is present): every storage,
 * d = dv in {32, 64, 128}, V = X and separate V, top-k lists in shared memory (k <= 32) and in global memory (k > 32),
 * B within and beyond one query tile of 16, tails of tiles and chunks, logit scales up to 1e30, and against kernel 1.
 *
 * <p>Tolerances are {@link RetrievalAssertions#assertAgrees}'s: the kernel's logits are float32-grade (queries and
 * probabilities as three bf16 terms, patterns as many as their storage needs, every product term down to 2⁻²⁴ kept).
 */
class NativeTensorCoreKernelTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final Map<String, NativeBackend> ENGINES = new HashMap<>();
    private static final LaunchShape V2_SMALL_CHUNKS = new LaunchShape(0, 128, 0, 2);

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

    /** (variant, storage, M, d, B, beta, k, separate V, seed). */
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        long seed = 900;
        long[] sizes = {1, 17, 300, 1000};
        int[] batches = {1, 5, 17, 40};
        int[] ks = {0, 1, 10, 33, 100};
        float[] betas = {1e-3f, 0.5f, 4f, 40f};
        for (String variant : List.of("emu", "cuda")) {
            for (NativeStorage storage : NativeStorage.values()) {
                for (int d : new int[] {32, 64, 128}) {
                    long m = sizes[(int) (seed % sizes.length)];
                    int b = batches[(int) ((seed / 2) % batches.length)];
                    int k = (int) Math.min(m, ks[(int) ((seed * 3) % ks.length)]);
                    float beta = betas[(int) ((seed * 5) % betas.length)];
                    out.add(Arguments.of(variant, storage, m, d, b, beta, k, seed % 2 == 0, seed));
                    seed++;
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1}: M={2} d={3} B={4} beta={5} k={6} separateV={7}")
    @MethodSource("cases")
    void agreesWithReference(String variant, NativeStorage storage, long m, int d, int b, float beta, int k,
                             boolean separate, long seed) {
        check(engine(variant, storage, LaunchShape.TENSOR_CORES), storage, m, d, b, beta, k, separate, seed);
        check(engine(variant, storage, V2_SMALL_CHUNKS), storage, m, d, b, beta, k, separate, seed);
    }

    /** The largest k the library serves, one list per warp in global memory, and many warps' lists merged. */
    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void largestTopK(String variant) {
        NativeBackend e = engine(variant, NativeStorage.BF16, V2_SMALL_CHUNKS);
        check(e, NativeStorage.BF16, 700, 32, 3, 1f, 256, false, 950);
    }

    /** Kernel 2 and kernel 1 on the same inputs: within float32 round-off of each other. */
    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void agreesWithKernelOne(String variant) {
        NativeBackend v1 = engine(variant, NativeStorage.F32, new LaunchShape(0, 0, 0, 1));
        NativeBackend v2 = engine(variant, NativeStorage.F32, LaunchShape.TENSOR_CORES);
        try (FloatMatrix x = RandomMatrices.gaussian(513, 64, 960);
             FloatMatrix q = RandomMatrices.gaussian(21, 64, 961);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalParams p = new RetrievalParams(0.2f, 12);
            RetrievalResult a = v1.retrieve(mem, q, p);
            RetrievalResult b = v2.retrieve(mem, q, p);
            assertArrayEquals(a.output(), b.output(), 2e-5f, "output");
            assertArrayEquals(a.entropy(), b.entropy(), 2e-5f, "entropy");
            assertArrayEquals(a.topScores(), b.topScores(), 2e-6f, "top scores");
            assertArrayEquals(a.topIndices(), b.topIndices(), "top indices");
        }
    }

    /**
     * Logit scales 1 … 1e30 on lattice features (every float32 logit exact, in bf16 terms too): finite results, weights
     * summing to 1, the reference's answer on the stored values.
     */
    @ParameterizedTest(name = "{0}: scale={1} {2}")
    @MethodSource("scaleCases")
    void agreesAtAnyLogitScale(String variant, double scale, TestMatrices.Features features, NativeStorage storage) {
        NativeBackend e = engine(variant, storage, V2_SMALL_CHUNKS);
        int d = 32;
        long m = 300;
        int b = 3;
        try (FloatMatrix x = TestMatrices.lattice(m, d, features, false, 970);
             FloatMatrix q = TestMatrices.lattice(b, d, features, true, 971);
             FloatMatrix v = RandomMatrices.gaussian(m, d, 972)) {
            for (long r = 0; r < m; r++) {
                v.set(r, 0, 1f);
            }
            try (FloatMatrix vr = NativeCrossCheckTest.rounded(v, storage); PatternMemory mem = PatternMemory.of(x, v);
                 PatternMemory asStored = PatternMemory.of(x, vr)) {
                RetrievalParams params = new RetrievalParams(TestMatrices.betaForScale(scale, q, x), 3);
                RetrievalResult actual = e.retrieve(mem, q, params);
                String label = variant + " " + storage + " beta=" + params.beta();
                for (int i = 0; i < actual.output().length; i++) {
                    assertTrue(Float.isFinite(actual.output()[i]), label + ": output[" + i + "] = " + actual.output()[i]);
                }
                for (int bq = 0; bq < b; bq++) {
                    assertEquals(1.0, actual.output()[bq * d], 2e-5, label + ": sum of the weights of query " + bq);
                }
                RetrievalAssertions.assertAgrees(REFERENCE.retrieve(asStored, q, params), actual, asStored, q, 0.0, label);
            }
        }
    }

    static Stream<Arguments> scaleCases() {
        List<Arguments> out = new ArrayList<>();
        int i = 0;
        for (String variant : List.of("emu", "cuda")) {
            for (double scale : new double[] {1, 1e3, 1e9, 1e30}) {
                for (TestMatrices.Features f : TestMatrices.Features.values()) {
                    out.add(Arguments.of(variant, scale, f, NativeStorage.values()[i++ % NativeStorage.values().length]));
                }
            }
        }
        return out.stream();
    }

    /** Asking for kernel 2 where it does not serve the shape is a one-line error naming d, dv and the way out. */
    @Test
    void unsupportedWidthIsAOneLineError() {
        NativeBackend e = engine("emu", NativeStorage.F32, LaunchShape.TENSOR_CORES);
        try (FloatMatrix x = RandomMatrices.uniform(40, 48, 980); FloatMatrix q = RandomMatrices.uniform(2, 48, 981);
             PatternMemory mem = PatternMemory.of(x)) {
            RuntimeException ex = assertThrows(RuntimeException.class, () -> e.retrieve(mem, q, new RetrievalParams(1f, 3)));
            assertTrue(ex.getMessage().contains("d = dv in {32, 64, 128}") && ex.getMessage().contains("d=48")
                    && !ex.getMessage().contains("\n"), ex.getMessage());
        }
    }

    @Test
    void badKernelNumbersAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> new LaunchShape(0, 0, 0, 3));
        String old = System.getProperty(LaunchShape.KERNEL_PROPERTY);
        try {
            System.setProperty(LaunchShape.KERNEL_PROPERTY, "tensor");
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, LaunchShape::configured);
            assertTrue(ex.getMessage().contains(LaunchShape.KERNEL_PROPERTY), ex.getMessage());
            System.setProperty(LaunchShape.KERNEL_PROPERTY, "2");
            assertEquals(LaunchShape.TENSOR_CORES, LaunchShape.configured());
        } finally {
            if (old == null) {
                System.clearProperty(LaunchShape.KERNEL_PROPERTY);
            } else {
                System.setProperty(LaunchShape.KERNEL_PROPERTY, old);
            }
        }
    }

    static void check(NativeBackend engine, NativeStorage storage, long m, int d, int b, float beta, int k,
                      boolean separate, long seed) {
        try (FloatMatrix x = RandomMatrices.uniform(m, d, seed);
             FloatMatrix v = separate ? RandomMatrices.gaussian(m, d, seed + 1) : null;
             FloatMatrix q = RandomMatrices.uniform(b, d, seed + 2);
             PatternMemory mem = separate ? PatternMemory.of(x, v) : PatternMemory.of(x);
             FloatMatrix xr = NativeCrossCheckTest.rounded(x, storage);
             FloatMatrix vr = separate ? NativeCrossCheckTest.rounded(v, storage) : null;
             PatternMemory asStored = separate ? PatternMemory.of(xr, vr) : PatternMemory.of(xr)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult expected = REFERENCE.retrieve(asStored, q, params);
            RetrievalResult actual = engine.retrieve(mem, q, params);
            RetrievalAssertions.assertAgrees(expected, actual, asStored, q, beta,
                    engine.shape() + " " + storage + " M=" + m + " d=" + d + " B=" + b + " k=" + k);
        }
    }
}
