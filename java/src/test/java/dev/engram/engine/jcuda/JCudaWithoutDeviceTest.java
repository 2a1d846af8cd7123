package dev.engram.engine.jcuda;

import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Everything of the jcuda engine that needs no GPU: kernel table, packing, launch plans, fatbins, natives, selection. */
class JCudaWithoutDeviceTest {

    @Test
    void kernelTableOffsetsFollowNaturalAlignment() {
        // x v norms from to d dv queries batch beta k chunk qtile m l t o top_score top_index
        assertArrayEquals(new int[] {0, 8, 16, 24, 32, 40, 44, 48, 56, 60, 64, 68, 72, 80, 88, 96, 104, 112, 120},
                KernelTable.RETRIEVE_PARTIAL_F32.offsets());
        // in_m in_l in_t in_o in_ts in_ti chunks batch dv k count finish weights heads a b c o ts ti
        assertArrayEquals(new int[] {0, 8, 16, 24, 32, 40, 48, 52, 56, 60, 64, 72, 80, 88, 96, 104, 112, 120, 128, 136},
                KernelTable.RETRIEVE_MERGE.offsets());
        // scores lds v dv norms from to qnorms batch beta k chunk m l t o top_score top_index
        assertArrayEquals(new int[] {0, 8, 16, 24, 32, 40, 48, 56, 64, 68, 72, 76, 80, 88, 96, 104, 112, 120},
                KernelTable.SCORES_PARTIALS.offsets());
        // x v norms from to queries batch beta k chunk m l t o top_score top_index
        assertArrayEquals(new int[] {0, 8, 16, 24, 32, 40, 48, 52, 56, 60, 64, 72, 80, 88, 96, 104},
                KernelTable.RETRIEVE_PARTIAL_V2_BF16_D64.offsets());
        // the IntegrateArgs struct by value (624 bytes, 8-aligned), then the packed weights
        assertArrayEquals(new int[] {0}, KernelTable.INTEGRATE_FP32.offsets());
        assertArrayEquals(new int[] {0, 624}, KernelTable.INTEGRATE_TC_H128.offsets());
        assertEquals(List.of("engram_retrieve_partial.fatbin", "engram_retrieve_partial_v2.fatbin",
                "engram_retrieve_merge.fatbin", "engram_scores_partials.fatbin", "engram_integrate.fatbin",
                "engram_integrate_tc.fatbin", "engram_quantiles.fatbin"), KernelTable.modules());
        // QuantileColumns (40 bytes) levels level_count out; flags count out
        assertArrayEquals(new int[] {0, 40, 48, 56}, KernelTable.COLUMN_QUANTILES.offsets());
        assertArrayEquals(new int[] {0, 8, 16}, KernelTable.COUNT_DIVERGED.offsets());
        assertEquals(KernelTable.RETRIEVE_PARTIAL_V2_F16_D128, KernelTable.partialV2For(JCudaStorage.F16, 128));
        assertEquals(KernelTable.RETRIEVE_PARTIAL_V2_F32_D32, KernelTable.partialV2For(JCudaStorage.F32, 32));
        assertEquals(KernelTable.INTEGRATE_TC_H32_TILE32, KernelTable.integrateTc(32, 32));
        assertEquals(KernelTable.INTEGRATE_TC_H64, KernelTable.integrateTc(64, 16));
        assertEquals(KernelTable.RETRIEVE_PARTIAL_BF16, KernelTable.partialFor(JCudaStorage.BF16));
        assertEquals(KernelTable.RETRIEVE_PARTIAL_F16, KernelTable.partialFor(JCudaStorage.F16));
        assertEquals(KernelTable.RETRIEVE_PARTIAL_F32, KernelTable.partialFor(JCudaStorage.F32));
    }

    /** The table against the layout nvcc recorded in the fatbin (every kernel, every SM image). */
    @Test
    void kernelTableMatchesTheCompiledKernels() {
        String missing = Fatbins.missingCompiled();
        assumeTrue(missing == null, () -> "no fatbin in this build: " + missing);
        for (String module : KernelTable.modules()) {
            List<FatbinParams.Image> images = FatbinParams.read(Fatbins.readCompiled(module));
            assertEquals(2, images.size(), module + ": one cubin each for sm_80 and sm_90");
            for (FatbinParams.Image image : images) {
                for (KernelTable k : KernelTable.values()) {
                    if (!k.module.equals(module)) {
                        continue;
                    }
                    List<FatbinParams.Param> compiled = image.kernels().get(k.symbol);
                    assertNotNull(compiled, k.symbol + " missing from " + module + " (image flags " + image.flags() + ")");
                    int[] offsets = k.offsets();
                    assertEquals(offsets.length, compiled.size(), k.symbol + ": parameter count");
                    for (int i = 0; i < offsets.length; i++) {
                        FatbinParams.Param p = compiled.get(i);
                        assertEquals(i, p.ordinal());
                        assertEquals(offsets[i], p.offset(), k.symbol + " parameter " + k.params().get(i).name() + " offset");
                        assertEquals(k.params().get(i).type().bytes, p.size(), k.symbol + " parameter "
                                + k.params().get(i).name() + " size");
                    }
                }
            }
        }
    }

    @Test
    void argumentsAreCheckedAgainstTheSignature() {
        KernelArgs a = KernelArgs.of(KernelTable.RETRIEVE_PARTIAL_F32).pointer("x", new CUdeviceptr());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.i32("v", 3));
        assertEquals("engram_kernel_retrieve_partial_f32 parameter 1 is POINTER v, got INT v", e.getMessage());
        KernelArgs b = KernelArgs.of(KernelTable.RETRIEVE_PARTIAL_F32).pointer("x", null);
        e = assertThrows(IllegalStateException.class, () -> b.pointer("norms", null));
        assertTrue(e.getMessage().contains("parameter 1 is POINTER v, got POINTER norms"), e.getMessage());
        e = assertThrows(IllegalStateException.class, b::pack);
        assertEquals("engram_kernel_retrieve_partial_f32 takes 19 parameters; only 1 given (next: v)", e.getMessage());
    }

    @Test
    void packingGivesOnePointerPerParameterWithTheValues() {
        KernelArgs a = mergeArgs();
        assertEquals(7, a.value(6));             // chunks
        assertEquals(1_000_000L, a.value(10));   // count, a long long
        Pointer p = a.pack();
        assertNotNull(p);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> a.pointer("extra", null));
        assertTrue(e.getMessage().contains("takes 20 parameters; got an extra 'extra'"), e.getMessage());
    }

    private static KernelArgs mergeArgs() {
        KernelArgs a = KernelArgs.of(KernelTable.RETRIEVE_MERGE);
        for (String n : List.of("in_m", "in_l", "in_t", "in_o", "in_top_score", "in_top_index")) {
            a.pointer(n, null);
        }
        a.i32("chunks", 7).i32("batch", 2).i32("dv", 4).i32("k", 3).i64("count", 1_000_000L).i32("finish", 1);
        for (String n : List.of("weights", "heads", "out_a", "out_b", "out_c", "out_o", "out_top_score", "out_top_index")) {
            a.pointer(n, null);
        }
        return a;
    }

    /** Known answers from shared_plan() in cuda/engram_cuda.cuh (compiled and run on the host). */
    @ParameterizedTest(name = "d={0} dv={1} k={2} qtile={3} V=X:{4} -> {5} bytes")
    @CsvSource({"64,64,10,1,true,9264", "64,64,10,64,true,66688", "64,64,10,64,false,75008",
            "200,30,5,16,false,40640", "33,7,256,3,false,15936", "128,128,0,32,true,58240"})
    void sharedMemoryPlanMatchesTheKernel(int d, int dv, int k, int qtile, boolean vx, int bytes) {
        assertEquals(bytes, LaunchPlan.sharedBytes(d, dv, k, qtile, vx));
    }

    @Test
    void launchPlanChoosesAsLibengram() {
        // B = 1, M = 10^7 on a 132-SM H100: 128 threads, one query per tile, chunk 9472 (cuda/PERFORMANCE.md)
        LaunchPlan p = LaunchPlan.choose(64, 64, 10, 1, 10_000_000, true, JCudaLaunch.AUTO, 132, 232_448);
        assertEquals(new LaunchPlan(128, 9472, 1, 1056, 1, 9264, 1), p);
        // B = 64: 256 threads, all 64 queries in one tile (X streamed once)
        p = LaunchPlan.choose(64, 64, 10, 64, 10_000_000, true, JCudaLaunch.AUTO, 132, 232_448);
        assertEquals(256, p.threads());
        assertEquals(64, p.queryTile());
        assertEquals(66688, p.sharedBytes());
        // 48 KB of shared memory: the tile halves until it fits
        p = LaunchPlan.choose(64, 64, 10, 64, 10_000, true, JCudaLaunch.AUTO, 132, 48 * 1024);
        assertEquals(32, p.queryTile());
        // a tile that was asked for is not changed: refused with the sizes
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> LaunchPlan.choose(
                64, 64, 10, 64, 10_000, true, new JCudaLaunch(256, 0, 64), 132, 48 * 1024));
        assertTrue(e.getMessage().contains("need 66688 bytes of shared memory per block; the device offers 49152"),
                e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> LaunchPlan.choose(
                64, 64, 10, 64, 10_000, true, new JCudaLaunch(64, 0, 17), 132, 232_448));
        assertEquals("launch queryTile must be in [1, blockThreads/4 = 16], got 17", bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new JCudaLaunch(512, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> new JCudaLaunch(0, 48, 0));
    }

    @Test
    void storedRowsRoundToNearestEvenAndNormTheRoundedValues() {
        assertEquals((short) 0x3f80, StoredRows.bf16(1.0f));
        assertEquals((short) 0x3f80, StoredRows.bf16(Float.intBitsToFloat(0x3f808000)));  // tie: to even (down)
        assertEquals((short) 0x3f82, StoredRows.bf16(Float.intBitsToFloat(0x3f818000)));  // tie: to even (up)
        assertEquals((short) 0x3f81, StoredRows.bf16(Float.intBitsToFloat(0x3f808001)));
        ByteBuffer b = StoredRows.encode(new float[] {3f, 4f, 1.00001f, 0f}, 2, 2, JCudaStorage.BF16, "x");
        float[] norms = StoredRows.norms(b, 2, 2, JCudaStorage.BF16);
        assertArrayEquals(new float[] {5f, 1f}, norms);  // 1.00001 is 1 in bf16
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> StoredRows.encode(new float[] {1f, 70000f}, 1, 2, JCudaStorage.F16, "patterns"));
        assertEquals("patterns element (0, 1) = 70000.0 overflows fp16 storage (|x| <= 65504)", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> StoredRows.encode(new float[] {1f, 2f, Float.NaN}, 1, 3, JCudaStorage.F32, "values"));
        assertEquals("values must be finite, but element (0, 2) is NaN", e.getMessage());
    }

    @Test
    void fatbinsAreLookedUpInTheNativeDirFirst() throws Exception {
        Path empty = Files.createTempDirectory("engram-fatbins-test");
        String before = System.getProperty("engram.native.dir");
        try {
            System.setProperty("engram.native.dir", empty.toString());
            assertEquals("engram_retrieve_partial.fatbin not found in engram.native.dir=" + empty, Fatbins.missing());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Fatbins.read("engram_retrieve_merge.fatbin"));
            assertEquals("engram_retrieve_merge.fatbin not found in engram.native.dir=" + empty, e.getMessage());
            Files.write(empty.resolve("engram_retrieve_partial.fatbin"), new byte[] {1, 2, 3});
            Files.write(empty.resolve("engram_retrieve_merge.fatbin"), new byte[] {4});
            assertEquals("engram_retrieve_partial_v2.fatbin not found in engram.native.dir=" + empty, Fatbins.missing());
            for (String m : KernelTable.modules()) {
                if (!Files.exists(empty.resolve(m))) {
                    Files.write(empty.resolve(m), new byte[] {5});
                }
            }
            assertEquals(null, Fatbins.missing());
            assertArrayEquals(new byte[] {1, 2, 3}, Fatbins.read("engram_retrieve_partial.fatbin"));
        } finally {
            if (before == null) {
                System.clearProperty("engram.native.dir");
            } else {
                System.setProperty("engram.native.dir", before);
            }
            for (String m : KernelTable.modules()) {
                Files.deleteIfExists(empty.resolve(m));
            }
            Files.delete(empty);
        }
    }

    @Test
    void jcudaLoadFailureBecomesOneLine() {
        UnsatisfiedLinkError e = new UnsatisfiedLinkError("Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\n"
                + "Operating system name: Linux\n---(start of nested stack traces)---\n"
                + "java.lang.UnsatisfiedLinkError: /tmp/x/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: cannot open"
                + " shared object file: No such file or directory\n\tat java.base/jdk.internal.loader.NativeLibraries.load");
        assertEquals("JCuda natives cannot load: libcuda.so.1: cannot open shared object file: No such file or directory"
                + " (no NVIDIA driver on this machine)", JCudaNatives.reason(e));
        UnsatisfiedLinkError c = new UnsatisfiedLinkError("...: libstdc++.so.6: cannot open shared object file: No such file");
        assertEquals("JCuda natives cannot load: libstdc++.so.6: cannot open shared object file: No such file",
                JCudaNatives.reason(c));
        assertEquals("JCuda natives cannot load: UnsatisfiedLinkError: odd", JCudaNatives.reason(new UnsatisfiedLinkError("odd\nmore")));
    }

    /** A missing or broken emulated driver (system property engram.jcuda.driver) is one line naming the file. */
    @Test
    void aBadEmulatedDriverPathIsOneLine() throws Exception {
        Path missing = Path.of("/nonexistent/libengram_cudadrv_emu.so");
        assertEquals("engram.jcuda.driver=" + missing + " does not exist (native-build/build.sh builds the emulated CUDA"
                + " driver into java/target/jcuda-emu/; set it to 'system' for the real driver)", JCudaNatives.loadDriver(missing));
        Path junk = Files.createTempFile("engram-not-a-library", ".so");
        try {
            Files.write(junk, new byte[] {1, 2, 3});
            String why = JCudaNatives.loadDriver(junk);
            assertTrue(why.startsWith("cannot load the emulated CUDA driver engram.jcuda.driver=" + junk + ": "), why);
            assertEquals(1, why.lines().count(), why);
        } finally {
            Files.delete(junk);
        }
        assertEquals("", JCudaNatives.loadDriver(null));
    }

    /** Selection by name and capability; here (no driver, or no fatbin) the engine says why in one line. */
    @Test
    void selectedByNameAndCapability() {
        assertEquals(Set.of(Capability.RETRIEVAL, Capability.INTEGRATION), Backends.capabilities("jcuda"));
        assertTrue(Backends.withCapability(Capability.RETRIEVAL).contains("jcuda"));
        assertTrue(Backends.withCapability(Capability.INTEGRATION).contains("jcuda"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Backends.select(Capability.TRAINING, "jcuda"));
        assertTrue(e.getMessage().startsWith("the jcuda engine cannot "), e.getMessage());
        String why = Backends.unavailableReason("jcuda");
        assumeTrue(why != null, "a CUDA device is present: the device tests cover selection");
        assertFalse(why.contains("\n"), "one line: " + why);
        IllegalStateException s = assertThrows(IllegalStateException.class, () -> Backends.select(Capability.RETRIEVAL, "jcuda"));
        assertEquals("backend 'jcuda' is not available here: " + why, s.getMessage());
        s = assertThrows(IllegalStateException.class, () -> Backends.select(Capability.INTEGRATION, "jcuda"));
        assertEquals("backend 'jcuda' is not available here: " + why, s.getMessage());
    }

    /** Loading JCuda's natives (successfully or not) leaves nothing in the temporary folder, and restores its name. */
    @Test
    void nativesLeaveNothingInTmp() {
        String tmp = System.getProperty("java.io.tmpdir");
        JCudaNatives.unavailableReason(JCudaNatives.DRIVER);
        assertEquals(tmp, System.getProperty("java.io.tmpdir"));
        assertFalse(Files.exists(Path.of(tmp, "libJCudaDriver-12.6.0-linux-x86_64.so")));
    }
}
