package dev.engram.engine.jcuda;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalAssertions;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The jcuda engine on a GPU against the reference engine (seeded random inputs, {@link RetrievalAssertions}'s
 * tolerances: float32 logits and in-chunk sums, double across chunks). Skipped, with the reason, where there is no
 * driver, device or fatbin.
 *
 * <p>Under the emulated CUDA driver (system property engram.jcuda.driver, which the test JVMs set when the native
 * build ran) the kernels run on the host CPU emulator, hundreds of times slower than a GPU: the cross-check cases are
 * then scaled down ({@link #cases}: fewer patterns and queries, the same shapes — odd sizes, several chunks and query
 * tiles, explicit launches) so that the class runs in seconds on 2 cores.
 */
class JCudaCrossCheckTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static JCudaBackend engine;

    /** Per test, so that each one is reported as skipped with the reason. */
    @BeforeEach
    void open() {
        String why = JCudaBackend.unavailableReason();
        assumeTrue(why == null, () -> "jcuda engine unavailable here: " + why);
        if (engine == null) {
            engine = JCudaBackend.create();
        }
    }

    @AfterAll
    static void close() {
        if (engine != null) {
            engine.close();
        }
    }

    /** M, d, B, k, seed, launch threads/chunk/query tile (0: the engine's choice); smaller on the emulated driver. */
    static Stream<Arguments> cases() {
        if (JCudaNatives.emulatedDriver() != null) {
            return Stream.of(Arguments.of(1000L, 64, 1, 10, 1L, 0, 0, 0), Arguments.of(1250L, 3, 17, 5, 2L, 0, 0, 0),
                    Arguments.of(1029L, 127, 16, 32, 3L, 0, 0, 0), Arguments.of(777L, 200, 9, 7, 4L, 64, 64, 4),
                    Arguments.of(5000L, 64, 33, 10, 5L, 128, 1024, 16));
        }
        return Stream.of(Arguments.of(1000L, 64, 1, 10, 1L, 0, 0, 0), Arguments.of(5000L, 3, 17, 5, 2L, 0, 0, 0),
                Arguments.of(4099L, 127, 64, 32, 3L, 0, 0, 0), Arguments.of(777L, 200, 9, 7, 4L, 64, 64, 4),
                Arguments.of(20000L, 64, 100, 10, 5L, 128, 4096, 16));
    }

    @ParameterizedTest(name = "M={0} d={1} B={2} k={3} seed={4} launch={5}/{6}/{7}")
    @MethodSource("cases")
    void agreesWithTheReference(long m, int d, int b, int k, long seed, int threads, int chunk, int qtile) {
        try (FloatMatrix x = RandomMatrices.uniform(m, d, seed);
             FloatMatrix q = RandomMatrices.uniform(b, d, seed + 100);
             PatternMemory mem = PatternMemory.of(x);
             JCudaBackend e = threads == 0 ? null : JCudaBackend.create(0, JCudaStorage.F32, new JCudaLaunch(threads, chunk, qtile))) {
            JCudaBackend use = e == null ? engine : e;
            RetrievalParams p = new RetrievalParams(0.5f, k);
            RetrievalResult want = REFERENCE.retrieve(mem, q, p);
            RetrievalAssertions.assertAgrees(want, use.retrieve(mem, q, p), mem, q, 0.5f, "jcuda M=" + m + " d=" + d);
            // two partials merged give the whole
            long half = m / 2;
            RetrievalPartial a = use.retrievePartial(mem, 0, half, q, p);
            RetrievalPartial c = use.retrievePartial(mem, half, m, q, p);
            RetrievalAssertions.assertAgrees(want, a.merge(c).finish(), mem, q, 0.5f, "jcuda partials M=" + m);
        }
    }

    /** Device pointers a JCuda user holds: wrapped, not copied, and left alone on close. */
    @Test
    void retrievesAgainstAUsersDevicePointers() {
        int m = 3000;
        int d = 48;
        try (FloatMatrix x = RandomMatrices.uniform(m, d, 9);
             FloatMatrix q = RandomMatrices.uniform(5, d, 10);
             PatternMemory mem = PatternMemory.of(x);
             JCudaDevice.Scope ignored = engine.device().enter()) {
            CUdeviceptr dx = new CUdeviceptr();
            cuMemAlloc(dx, (long) m * d * 4);
            try {
                cuMemcpyHtoD(dx, Pointer.to(x.toArray()), (long) m * d * 4);
                RetrievalParams p = new RetrievalParams(1f, 4);
                try (JCudaMemory wrapped = engine.wrap(dx, null, m, d, d)) {
                    RetrievalAssertions.assertAgrees(REFERENCE.retrieve(mem, q, p), engine.retrieve(wrapped, q, p), mem, q, 1f,
                            "wrapped");
                    assertEquals(true, wrapped.borrowed());
                }
            } finally {
                cuMemFree(dx);
            }
        }
    }

    @Test
    void changedRowsReachTheDeviceCopy() {
        try (FloatMatrix x = RandomMatrices.uniform(2000, 16, 21);
             FloatMatrix q = RandomMatrices.uniform(3, 16, 22);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalParams p = new RetrievalParams(2f, 3);
            engine.retrieve(mem, q, p);
            mem.replace(5, q.row(0), null);
            try (FloatMatrix more = RandomMatrices.uniform(100, 16, 23)) {
                mem.append(more);
            }
            RetrievalAssertions.assertAgrees(REFERENCE.retrieve(mem, q, p), engine.retrieve(mem, q, p), mem, q, 2f, "synced");
            assertEquals(5L, engine.retrieve(mem, q, p).topIndices(0)[0]);
        }
    }

    @Test
    void badInputIsOneLine() {
        try (FloatMatrix x = RandomMatrices.uniform(100, 8, 1);
             FloatMatrix q = RandomMatrices.uniform(2, 7, 2);
             PatternMemory mem = PatternMemory.of(x)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(mem, q, new RetrievalParams(1f, 3)));
            assertEquals("queries have d=7 columns but the memory stores patterns of d=8", e.getMessage());
        }
    }
}
