package dev.engram.engine.ffm;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalAssertions;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A memory that changes between retrievals costs only its changed rows on the native engine: after random
 * replacements and appends the device copy sends exactly the replaced rows it held plus the appended ones, keeps one
 * handle (no rebuild), and retrieval equals the reference engine on the updated memory (rounded to the storage type).
 */
class NativeRowUpdateTest {
    private static final int D = 12;
    private static final int DV = 3;
    private static final float BETA = 2f;
    private static final RetrievalParams PARAMS = new RetrievalParams(BETA, 5);

    private static NativeBackend engine(String variant, NativeStorage storage) {
        if (variant.equals("cuda")) {
            NativeTestSupport.assumeCuda();
            return NativeBackend.cuda(storage, new LaunchShape(64, 64, 4));
        }
        NativeTestSupport.assumeEmu();
        return NativeBackend.emulated(storage, new LaunchShape(64, 64, 4));
    }

    static Stream<Arguments> cases() {
        return Stream.of("emu", "cuda").flatMap(variant -> Stream.of(NativeStorage.values())
                .flatMap(storage -> Stream.of(false, true)
                        .map(separate -> Arguments.of(variant, storage, separate, 100L + storage.ordinal() * 2L
                                + (separate ? 1 : 0)))));
    }

    @ParameterizedTest(name = "{0} {1} separate values={2} seed={3}")
    @MethodSource("cases")
    void onlyChangedRowsTravelAndRetrievalEqualsTheReference(String variant, NativeStorage storage, boolean separate,
                                                             long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (NativeBackend engine = engine(variant, storage);
             FloatMatrix x = RandomMatrices.uniform(400, D, seed); FloatMatrix v = RandomMatrices.uniform(400, DV, seed + 1);
             PatternMemory mem = separate ? PatternMemory.of(x, v) : PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.uniform(3, D, seed + 2)) {
            long handles = NativeLibrary.load(variant).liveMemories();
            check(engine, mem, q, storage, "first upload");
            long sent = mem.size();
            assertEquals(sent, engine.rowsUploaded(mem), "the first retrieval uploads every row");
            for (int round = 0; round < 4; round++) {
                long onDevice = mem.size();
                int appended = rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(40);
                if (appended > 0) {
                    try (FloatMatrix nx = randomRows(appended, D, rnd); FloatMatrix nv = randomRows(appended, DV, rnd)) {
                        if (separate) {
                            mem.append(nx, nv);
                        } else {
                            mem.append(nx);
                        }
                    }
                }
                TreeSet<Long> replacedOnDevice = new TreeSet<>();
                int replacements = 1 + rnd.nextInt(25);
                for (int i = 0; i < replacements; i++) {
                    long row = rnd.nextLong(mem.size());  // some fall among the rows just appended
                    mem.replace(row, randomRow(D, rnd), separate ? randomRow(DV, rnd) : null);
                    if (row < onDevice) {
                        replacedOnDevice.add(row);
                    }
                }
                String label = "round " + round + " (" + replacements + " replacements, " + appended + " appended)";
                check(engine, mem, q, storage, label);
                sent += replacedOnDevice.size() + appended;
                assertEquals(sent, engine.rowsUploaded(mem), label + ": rows sent");
            }
            assertEquals(1, engine.cachedMemories(), "one device copy, updated in place");
            assertEquals(handles + 1, NativeLibrary.load(variant).liveMemories(), "no handle rebuilt");
        }
    }

    /** When the change log no longer reaches back, or most rows changed, every row is written once, in place. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"emu", "cuda"})
    void aCopyTooFarBehindRewritesEveryRowInPlace(String variant) {
        SplittableRandom rnd = new SplittableRandom(7);
        try (NativeBackend engine = engine(variant, NativeStorage.BF16);
             FloatMatrix x = RandomMatrices.uniform(200, D, 8); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.uniform(2, D, 9)) {
            long handles = NativeLibrary.load(variant).liveMemories();
            check(engine, mem, q, NativeStorage.BF16, "first upload");
            for (int i = 0; i <= PatternMemory.CHANGE_LOG_CAPACITY; i++) {
                mem.replace(rnd.nextLong(10), randomRow(D, rnd), null);  // few distinct rows, log overrun
            }
            check(engine, mem, q, NativeStorage.BF16, "after the log overran");
            assertEquals(400, engine.rowsUploaded(mem), "every row once more");
            for (int row = 0; row < 150; row++) {
                mem.replace(row, randomRow(D, rnd), null);
            }
            check(engine, mem, q, NativeStorage.BF16, "after most rows changed");
            assertEquals(600, engine.rowsUploaded(mem), "every row once more");
            assertEquals(handles + 1, NativeLibrary.load(variant).liveMemories(), "no handle rebuilt");
        }
    }

    @Test
    void writesThatCannotBeStoredAreRejectedAndChangeNothing() {
        NativeTestSupport.assumeEmu();
        NativeLibrary lib = NativeLibrary.load(NativeLibrary.EMU);
        try (NativeMemory nm = NativeMemory.create(lib, 2, 2, true, NativeStorage.F16);
             FloatMatrix x = FloatMatrix.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
             FloatMatrix bad = FloatMatrix.of(new float[] {0.5f, 0.5f, 1e5f, 0}, 2, 2);
             FloatMatrix nan = FloatMatrix.of(new float[] {Float.NaN, 0}, 1, 2);
             FloatMatrix q = FloatMatrix.of(new float[] {1, 0}, 1, 2)) {
            nm.append(x, null);
            RetrievalResult before = nm.retrieve(q, new RetrievalParams(BETA, 3), 0, 3, LaunchShape.AUTO);
            var e = assertThrows(IllegalArgumentException.class, () -> nm.write(new long[] {0, 3}, bad, null));
            assertTrue(e.getMessage().contains("rows[1] = 3") && e.getMessage().contains("0..3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> nm.write(new long[] {0, 2}, bad, null));
            assertTrue(e.getMessage().contains("(1, 0)") && e.getMessage().contains("fp16"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> nm.write(new long[] {1}, nan, null));
            assertTrue(e.getMessage().contains("finite"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> nm.write(new long[] {1, 2}, nan, null));
            assertTrue(e.getMessage().contains("2 indices") && e.getMessage().contains("1 rows"), e.getMessage());
            RetrievalResult after = nm.retrieve(q, new RetrievalParams(BETA, 3), 0, 3, LaunchShape.AUTO);
            assertArrayEquals(before.output(), after.output(), "rejected writes left the memory as it was");
            assertArrayEquals(before.topScores(0), after.topScores(0));
        }
    }

    /** Retrieval through the engine equals the reference engine on the memory rounded to the storage type. */
    private static void check(NativeBackend engine, PatternMemory mem, FloatMatrix q, NativeStorage storage,
                              String label) {
        RetrievalResult actual = engine.retrieve(mem, q, PARAMS);
        try (FloatMatrix xr = NativeTestSupport.rounded(mem.patterns(), storage);
             FloatMatrix vr = mem.valuesArePatterns() ? null : NativeTestSupport.rounded(mem.values(), storage);
             PatternMemory rounded = vr == null ? PatternMemory.of(xr) : PatternMemory.of(xr, vr)) {
            RetrievalResult expected = new ReferenceBackend().retrieve(rounded, q, PARAMS);
            RetrievalAssertions.assertAgrees(expected, actual, rounded, q, BETA, engine + " " + label);
        }
    }

    private static float[] randomRow(int width, SplittableRandom rnd) {
        float[] r = new float[width];
        for (int i = 0; i < width; i++) {
            r[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return r;
    }

    private static FloatMatrix randomRows(int n, int width, SplittableRandom rnd) {
        FloatMatrix m = FloatMatrix.allocate(n, width);
        for (int i = 0; i < n; i++) {
            float[] r = randomRow(width, rnd);
            for (int j = 0; j < width; j++) {
                m.set(i, j, r[j]);
            }
        }
        return m;
    }
}
