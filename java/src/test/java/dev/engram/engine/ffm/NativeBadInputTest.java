package dev.engram.engine.ffm;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Bad input through the native engine, both through the Backend (Java checks first) and straight through the C ABI
 * (the library's own checks): a clear Java exception naming the field and value, never a crash, and no leaked
 * handles or device memory (a loop shows both stay flat).
 */
class NativeBadInputTest {

    private static void assertMessage(Throwable t, String... parts) {
        for (String p : parts) {
            assertTrue(t.getMessage().contains(p), "message '" + t.getMessage() + "' should mention '" + p + "'");
        }
    }

    private static NativeLibrary lib(String variant) {
        if (variant.equals("cuda")) {
            NativeTestSupport.assumeCuda();
        } else {
            NativeTestSupport.assumeEmu();
        }
        return NativeLibrary.load(variant);
    }

    private static NativeBackend backend(String variant) {
        lib(variant);
        return variant.equals("cuda") ? NativeBackend.cuda() : NativeBackend.emulated();
    }

    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void backendRejectsBadInputLikeTheJavaEngines(String variant) {
        try (NativeBackend engine = backend(variant);
             PatternMemory empty = PatternMemory.create(4);
             FloatMatrix x = RandomMatrices.uniform(10, 4, 1); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q5 = FloatMatrix.allocate(2, 5); FloatMatrix q = RandomMatrices.uniform(2, 4, 2)) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(empty, q, new RetrievalParams(1f, 0))), "memory is empty");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(mem, q5, new RetrievalParams(1f, 1))), "d=5", "d=4");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(mem, q, new RetrievalParams(1f, 11))), "k=11", "M=10");
            q.set(1, 2, Float.NaN);
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(mem, q, new RetrievalParams(1f, 1))), "queries", "(1, 2)", "NaN");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrievePartial(mem, 3, 12, q, new RetrievalParams(1f, 1))), "[3, 12)");
        }
    }

    @Test
    void kAboveTheNativeLimitNamesTheLimit() {
        int maxK = lib("emu").limits.maxK();
        try (NativeBackend engine = backend("emu");
             FloatMatrix x = RandomMatrices.uniform(maxK + 44, 2, 3); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.uniform(1, 2, 4)) {
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(mem, q, new RetrievalParams(1f, maxK + 1))), "k=" + (maxK + 1), "" + maxK);
        }
    }

    @Test
    void launchShapesBeyondTheLibrarysThreadLimitAreRejectedWhenTheEngineIsMade() {
        NativeLibrary lib = lib("emu");
        int over = lib.limits.maxBlockThreads() + 32;
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> NativeBackend.emulated(NativeStorage.F32, new LaunchShape(over, 32, 1))),
                "blockThreads=" + over, "" + lib.limits.maxBlockThreads());
    }

    /** Runs one raw ABI call through the call helper (the status check is what these tests exercise). */
    private static void raw(String what, NativeCall.Body<Integer> call) {
        NativeCall.run(what, c -> {
            c.check(call.run(c));
            return null;
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void abiRejectsBadSizesWithTheFieldAndValue(String variant) throws Throwable {
        NativeLibrary lib = lib(variant);
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> NativeMemory.create(lib, 0, 4, false, NativeStorage.F32)), "dim must be >= 1, got 0");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> NativeMemory.create(lib, 4, -3, false, NativeStorage.F32)), "value_dim", "-3");
        assertMessage(assertThrows(IllegalArgumentException.class,
                () -> NativeMemory.create(lib, 4, 5, true, NativeStorage.F32)), "value_dim=5", "dim=4");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            var e = assertThrows(IllegalArgumentException.class, () -> raw("create",
                    c -> (int) lib.memoryCreate.invokeExact(4, 4, 1, 7, out, c.err(), c.errCap())));
            assertMessage(e, "storage", "got 7");
            assertEquals(MemorySegment.NULL, out.get(ValueLayout.ADDRESS, 0), "no handle on failure");
        }
        try (NativeMemory nm = NativeMemory.create(lib, 4, 4, true, NativeStorage.F32);
             FloatMatrix x = RandomMatrices.uniform(40, 4, 5); FloatMatrix q = RandomMatrices.uniform(3, 4, 6);
             Arena arena = Arena.ofConfined()) {
            nm.append(x, null);
            RetrievalParams p = new RetrievalParams(1f, 3);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> nm.retrieve(q, p, 5, 41, LaunchShape.AUTO)),
                    "[5, 41)", "0..40");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> nm.retrieve(q, p, 0, 40,
                    new LaunchShape(32, 64, 9))), "query_tile", "got 9");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> nm.retrieve(q, new RetrievalParams(1f, 5),
                    0, 2, LaunchShape.AUTO)), "k=5", "M=2");
            // raw calls with what the Java types cannot express: NaN beta, a row stride shorter than d, null output
            MemorySegment o = arena.allocate(3 * 4 * 4);
            MemorySegment h = arena.allocate(12);
            MemorySegment c = arena.allocate(12);
            MemorySegment idx = arena.allocate(3 * 8);
            MemorySegment sc = arena.allocate(3 * 4);
            MemorySegment handle = handleOf(nm);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> raw("retrieve",
                    k -> (int) lib.retrieve.invokeExact(handle, q.segment(), 3L, 4L, Float.NaN, 1, 0L, 40L,
                            MemorySegment.NULL, o, h, c, idx, sc, k.err(), k.errCap()))), "beta", "nan");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> raw("retrieve",
                    k -> (int) lib.retrieve.invokeExact(handle, q.segment(), 3L, 2L, 1f, 1, 0L, 40L,
                            MemorySegment.NULL, o, h, c, idx, sc, k.err(), k.errCap()))), "query_stride", "got 2");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> raw("retrieve",
                    k -> (int) lib.retrieve.invokeExact(handle, q.segment(), 3L, 4L, 1f, 1, 0L, 40L,
                            MemorySegment.NULL, o, h, c, MemorySegment.NULL, sc, k.err(), k.errCap()))),
                    "top_index", "k=1");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> raw("retrieve",
                    k -> (int) lib.retrieve.invokeExact(MemorySegment.NULL, q.segment(), 3L, 4L, 1f, 1, 0L, 40L,
                            MemorySegment.NULL, o, h, c, idx, sc, k.err(), k.errCap()))), "mem is NULL");
        }
    }

    /** The handle segment inside a NativeMemory, for raw ABI calls in these tests. */
    private static MemorySegment handleOf(NativeMemory nm) throws ReflectiveOperationException {
        var f = NativeMemory.class.getDeclaredField("handle");
        f.setAccessible(true);
        return (MemorySegment) f.get(nm);
    }

    @ParameterizedTest
    @ValueSource(strings = {"emu", "cuda"})
    void appendsThatCannotBeStoredAreRejectedAndChangeNothing(String variant) {
        NativeLibrary lib = lib(variant);
        try (NativeMemory f16 = NativeMemory.create(lib, 3, 3, true, NativeStorage.F16);
             FloatMatrix ok = RandomMatrices.uniform(5, 3, 7); FloatMatrix big = RandomMatrices.uniform(4, 3, 8);
             FloatMatrix nan = RandomMatrices.uniform(4, 3, 9)) {
            f16.append(ok, null);
            big.set(2, 1, 1e5f);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> f16.append(big, null)),
                    "(2, 1)", "100000", "fp16");
            nan.set(3, 0, Float.POSITIVE_INFINITY);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> f16.append(nan, null)), "finite", "(3, 0)");
            assertEquals(5, f16.size(), "rejected appends leave the memory as it was");
        }
    }

    @Test
    void deviceOutOfMemoryIsANativeEngineExceptionAndLeavesTheMemoryUsable() {
        NativeLibrary lib = lib("emu");
        long before = lib.emuMemoryLimit(-1);
        try (NativeMemory nm = NativeMemory.create(lib, 16, 16, true, NativeStorage.F32);
             FloatMatrix x = RandomMatrices.uniform(100, 16, 10); FloatMatrix more = RandomMatrices.uniform(5000, 16, 11);
             FloatMatrix q = RandomMatrices.uniform(2, 16, 12)) {
            nm.append(x, null);
            lib.emuMemoryLimit(before + nm.deviceBytes() + 4096);
            NativeEngineException e = assertThrows(NativeEngineException.class, () -> nm.append(more, null));
            assertEquals(NativeEngineException.Status.OUT_OF_MEMORY, e.status());
            assertMessage(e, "out of memory");
            lib.emuMemoryLimit(-1);
            assertEquals(100, nm.size(), "the failed append left the memory as it was");
            RetrievalResult r = nm.retrieve(q, new RetrievalParams(1f, 2), 0, 100, LaunchShape.AUTO);
            assertEquals(2, r.batch());
        } finally {
            lib.emuMemoryLimit(-1);
        }
        assertEquals(before, lib.emuMemoryLimit(-1), "device memory back to where it was");
    }

    @Test
    void sharedMemoryThatDoesNotFitIsUnsupportedNotACrash() {
        NativeLibrary lib = lib("emu");
        try (NativeMemory nm = NativeMemory.create(lib, 20000, 20000, true, NativeStorage.F32);
             FloatMatrix x = RandomMatrices.uniform(2, 20000, 13); FloatMatrix q = RandomMatrices.uniform(8, 20000, 14)) {
            nm.append(x, null);
            NativeEngineException e = assertThrows(NativeEngineException.class,
                    () -> nm.retrieve(q, new RetrievalParams(1f, 1), 0, 2, new LaunchShape(64, 32, 8)));
            assertEquals(NativeEngineException.Status.UNSUPPORTED, e.status());
            assertMessage(e, "shared memory", "d=20000");
        }
    }

    @Test
    void closedHandlesAndEnginesSayIllegalState() {
        NativeBackend engine = backend("emu");
        try (FloatMatrix x = RandomMatrices.uniform(10, 2, 15); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.uniform(1, 2, 16)) {
            NativeMemory nm = engine.upload(mem);
            nm.close();
            nm.close();  // idempotent
            assertMessage(assertThrows(IllegalStateException.class, nm::size), "closed");
            engine.retrieve(mem, q, new RetrievalParams(1f, 1));
            assertEquals(1, engine.cachedMemories());
            engine.close();
            assertEquals(0, engine.cachedMemories());
            assertMessage(assertThrows(IllegalStateException.class,
                    () -> engine.retrieve(mem, q, new RetrievalParams(1f, 1))), "closed");
        }
    }

    @Test
    void backendsSelectsTheNativeEnginesByName() {
        NativeTestSupport.assumeEmu();
        assertEquals("emu", Backends.select("emu").name());
        assertTrue(Backends.NAMES.contains("cuda") && Backends.NAMES.contains("emu"));
        Backend auto = Backends.select("auto");
        String noGpu = NativeBackend.cudaUnavailableReason();
        assertEquals(noGpu == null ? "cuda" : "cpu", auto.name(), "auto: " + noGpu);
        if (noGpu != null) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> Backends.select("cuda"));
            assertNotNull(e.getMessage());
            assertEquals("backend 'cuda' is not available here: " + noGpu, e.getMessage());
        }
    }

    /**
     * Many rounds of create → upload → retrieve → bad call → close: live handles and device bytes return exactly to
     * where they were, and the process's resident memory stays flat.
     */
    @Test
    void noLeaksUnderALoop() throws IOException {
        NativeLibrary lib = lib("emu");
        long handles0 = lib.liveMemories();
        long device0 = lib.emuMemoryLimit(-1);
        long rssAfterWarmUp = 0;
        int rounds = 400;
        for (int i = 0; i < rounds; i++) {
            if (i == 50) {
                System.gc();
                rssAfterWarmUp = rssKiB();
            }
            try (NativeBackend engine = NativeBackend.emulated(NativeStorage.values()[i % 3], new LaunchShape(32, 32, 2));
                 FloatMatrix x = RandomMatrices.uniform(40 + i % 7, 6, i); PatternMemory mem = PatternMemory.of(x);
                 FloatMatrix q = RandomMatrices.uniform(3, 6, i + 1000)) {
                engine.retrieve(mem, q, new RetrievalParams(1f, 2));
                assertThrows(IllegalArgumentException.class, () -> engine.retrievePartial(mem, 0, 99, q, new RetrievalParams(1f, 1)));
                try (NativeMemory nm = engine.upload(mem)) {
                    assertThrows(IllegalArgumentException.class,
                            () -> nm.retrieve(q, new RetrievalParams(1f, 1), 0, 40, new LaunchShape(32, 64, 99)));
                }
            }
        }
        System.gc();
        long rssEnd = rssKiB();
        System.out.printf("native leak loop: %d rounds; live handles %d -> %d; emulated device bytes %d -> %d; "
                + "RSS %d KiB (after 50 rounds) -> %d KiB%n", rounds, handles0, lib.liveMemories(), device0,
                lib.emuMemoryLimit(-1), rssAfterWarmUp, rssEnd);
        assertEquals(handles0, lib.liveMemories(), "live native handles after " + rounds + " rounds");
        assertEquals(device0, lib.emuMemoryLimit(-1), "emulated device bytes after " + rounds + " rounds");
        if (rssAfterWarmUp > 0 && rssEnd > 0) {
            assertTrue(rssEnd - rssAfterWarmUp < 64 * 1024, "resident memory grew from " + rssAfterWarmUp + " KiB to "
                    + rssEnd + " KiB over " + (rounds - 50) + " rounds");
        }
    }

    /** VmRSS of this process in KiB, or 0 where /proc is not there. */
    private static long rssKiB() throws IOException {
        Path status = Path.of("/proc/self/status");
        if (!Files.exists(status)) {
            return 0;
        }
        for (String line : Files.readAllLines(status)) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    @Test
    void nativeEngineExceptionCarriesTheStatus() {
        NativeEngineException e = new NativeEngineException(NativeEngineException.Status.DEVICE, "x");
        assertInstanceOf(RuntimeException.class, e);
        assertEquals(NativeEngineException.Status.DEVICE, e.status());
        assertEquals(NativeEngineException.Status.UNKNOWN, NativeEngineException.Status.of(42));
        assertEquals(NativeEngineException.Status.OUT_OF_MEMORY, NativeEngineException.Status.of(2));
        assertEquals(NativeEngineException.Status.UNSUPPORTED, NativeEngineException.Status.of(5));
        for (NativeEngineException.Status s : NativeEngineException.Status.values()) {
            assertEquals(s, NativeEngineException.Status.of(s.code), "code " + s.code + " maps back to " + s);
        }
    }
}
