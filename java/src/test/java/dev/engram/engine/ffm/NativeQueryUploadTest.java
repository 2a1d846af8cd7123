package dev.engram.engine.ffm;

import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * How engram_retrieve takes its queries (native engine part 2's fixes to part 1): a strided batch goes up in one 2-D
 * copy and gives exactly the dense batch's results; a non-finite query is refused naming the element.
 */
class NativeQueryUploadTest {
    private static final int D = 5;
    private static final int STRIDE = 8;
    private static final int B = 6;
    private static final int K = 3;

    static NativeLibrary lib(String variant) {
        if (variant.equals("cuda")) {
            NativeTestSupport.assumeCuda();
        } else {
            NativeTestSupport.assumeEmu();
        }
        return NativeLibrary.load(variant);
    }

    /** Raw engram_retrieve of B queries at `stride` floats apart; returns output then top-k scores. */
    static float[] retrieve(NativeLibrary lib, MemorySegment handle, MemorySegment queries, long stride) {
        return NativeCall.run("engram_retrieve", c -> {
            Arena a = c.arena();
            MemorySegment out = a.allocate(JAVA_FLOAT, (long) B * D);
            MemorySegment ent = a.allocate(JAVA_FLOAT, B);
            MemorySegment conf = a.allocate(JAVA_FLOAT, B);
            MemorySegment idx = a.allocate(JAVA_LONG, (long) B * K);
            MemorySegment sc = a.allocate(JAVA_FLOAT, (long) B * K);
            c.check((int) lib.retrieve.invokeExact(handle, queries, (long) B, stride, 0.7f, K, 0L, 90L,
                    MemorySegment.NULL, out, ent, conf, idx, sc, c.err(), c.errCap()));
            float[] o = out.toArray(JAVA_FLOAT);
            float[] s = sc.toArray(JAVA_FLOAT);
            float[] both = new float[o.length + s.length];
            System.arraycopy(o, 0, both, 0, o.length);
            System.arraycopy(s, 0, both, o.length, s.length);
            return both;
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void stridedQueriesGiveTheDenseResultsAndNonFiniteQueriesAreRefused(String variant) throws Exception {
        NativeLibrary lib = lib(variant);
        try (NativeMemory nm = NativeMemory.create(lib, D, D, true, NativeStorage.F32);
             FloatMatrix x = RandomMatrices.uniform(90, D, 3); FloatMatrix q = RandomMatrices.uniform(B, D, 4);
             Arena arena = Arena.ofConfined()) {
            nm.append(x, null);
            var f = NativeMemory.class.getDeclaredField("handle");
            f.setAccessible(true);
            MemorySegment handle = (MemorySegment) f.get(nm);
            MemorySegment dense = arena.allocate(JAVA_FLOAT, (long) B * D);
            MemorySegment strided = arena.allocate(JAVA_FLOAT, (long) B * STRIDE);
            for (int r = 0; r < B; r++) {
                for (int j = 0; j < STRIDE; j++) {
                    // the gaps between rows hold NaN: a copy that reads them, or a check that looks at them, shows
                    strided.setAtIndex(JAVA_FLOAT, (long) r * STRIDE + j, j < D ? q.get(r, j) : Float.NaN);
                }
                for (int j = 0; j < D; j++) {
                    dense.setAtIndex(JAVA_FLOAT, (long) r * D + j, q.get(r, j));
                }
            }
            float[] want = retrieve(lib, handle, dense, D);
            assertArrayEquals(want, retrieve(lib, handle, strided, STRIDE), "strided batch = dense batch, bit for bit");
            RetrievalResult viaApi = nm.retrieve(q, new RetrievalParams(0.7f, K), 0, 90, LaunchShape.AUTO);
            assertArrayEquals(viaApi.output(), java.util.Arrays.copyOf(want, B * D));

            strided.setAtIndex(JAVA_FLOAT, 4L * STRIDE + 2, Float.POSITIVE_INFINITY);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> retrieve(lib, handle, strided, STRIDE));
            assertTrue(e.getMessage().contains("queries[4][2] is inf (must be finite)"), e.getMessage());
        }
    }
}
