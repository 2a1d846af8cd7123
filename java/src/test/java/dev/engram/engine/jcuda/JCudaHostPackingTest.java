package dev.engram.engine.jcuda;

import dev.engram.engine.EnsembleModel;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.EnsembleSpec.Scheme;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.ffm.IntegrationLaunch;
import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What the JCuda engine prepares on the host for the integration kernels and for retrieval version 2, checked with no
 * device: the IntegrateArgs layout and the tensor kernel's weight image against the C compiler's (through libengram's
 * emulation build), the packing of the networks and the workspace, the grids, and version 2's launch plans against
 * known answers computed by libengram's own choose_shape.
 */
class JCudaHostPackingTest {

    /** libengram_emu.so of this build (engram.native.dir, else the class path), or null. */
    private static Path emuLibrary() {
        String dir = System.getProperty("engram.native.dir");
        if (dir != null && !dir.isBlank()) {
            Path p = Path.of(dir, "libengram_emu.so");
            return Files.isRegularFile(p) ? p : null;
        }
        URL url = JCudaHostPackingTest.class.getClassLoader().getResource(Fatbins.RESOURCE_DIR + "libengram_emu.so");
        if (url == null || !url.getProtocol().equals("file")) {
            return null;
        }
        try {
            return Path.of(url.toURI());
        } catch (java.net.URISyntaxException e) {
            return null;
        }
    }

    private static MethodHandle function(Arena arena, String name, FunctionDescriptor fd) {
        Path lib = emuLibrary();
        assumeTrue(lib != null, "libengram_emu.so is not in this build (native-build/build.sh makes it)");
        SymbolLookup lookup = SymbolLookup.libraryLookup(lib, arena);
        return Linker.nativeLinker().downcallHandle(lookup.find(name).orElseThrow(
                () -> new AssertionError(name + " missing from " + lib)), fd);
    }

    private static List<Long> offsets(StructLayout s, List<String> names) {
        List<Long> out = new ArrayList<>();
        for (String n : names) {
            out.add(s.byteOffset(groupElement(n)));
        }
        return out;
    }

    /** The Java description of IntegrateArgs, NetDesc and Scratch against offsetof/sizeof from the C compiler. */
    @Test
    void integrateArgsLayoutIsTheCompilers() throws Throwable {
        List<String> args = List.of("params", "nets", "kind", "scheme", "n", "m", "steps", "sample_every",
                "sample_count", "dt", "sigma_q", "sigma_p", "noise", "tao_c", "tao_s", "amp", "seed", "first", "count",
                "inputs", "init", "q0", "p0", "samples", "finals", "diverged", "ws", "scratch");
        List<String> net = List.of("layers", "widths", "w_off", "b_off", "act_off");
        // the order engram_integrate_args_layout reports in is the declaration order the Java layout must follow
        assertEquals(args, IntegrateArgsLayout.fields(IntegrateArgsLayout.ARGS));
        assertEquals(net, IntegrateArgsLayout.fields(IntegrateArgsLayout.NET_DESC));
        assertEquals(IntegrateArgsLayout.SCRATCH_FIELDS, IntegrateArgsLayout.fields(IntegrateArgsLayout.SCRATCH));
        List<Long> java = new ArrayList<>();
        java.add(IntegrateArgsLayout.ARGS.byteSize());
        java.add(IntegrateArgsLayout.ARGS.byteAlignment());
        java.addAll(offsets(IntegrateArgsLayout.ARGS, args));
        java.add(IntegrateArgsLayout.NET_DESC.byteSize());
        java.addAll(offsets(IntegrateArgsLayout.NET_DESC, net));
        java.add(IntegrateArgsLayout.SCRATCH.byteSize());
        java.addAll(offsets(IntegrateArgsLayout.SCRATCH, IntegrateArgsLayout.SCRATCH_FIELDS));
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle layout = function(arena, "engram_integrate_args_layout",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            MemorySegment out = arena.allocate(JAVA_LONG, 64);
            int count = (int) layout.invokeExact(out, 64);
            List<Long> c = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                c.add(out.getAtIndex(JAVA_LONG, i));
            }
            assertEquals(c, java);
        }
        assertEquals(624, IntegrateArgsLayout.SIZE, "sizeof(IntegrateArgs) on x86-64 and CUDA");
    }

    /** QuantileColumns (the quantile kernel's struct) against the C compiler's. */
    @Test
    void quantileColumnsLayoutIsTheCompilers() throws Throwable {
        List<String> fields = List.of("data", "count", "stride", "slab", "coords", "columns");
        assertEquals(fields, IntegrateArgsLayout.fields(IntegrateArgsLayout.QUANTILE_COLUMNS));
        List<Long> java = new ArrayList<>();
        java.add(IntegrateArgsLayout.QUANTILE_COLUMNS.byteSize());
        java.addAll(offsets(IntegrateArgsLayout.QUANTILE_COLUMNS, fields));
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle layout = function(arena, "engram_quantile_columns_layout",
                    FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
            MemorySegment out = arena.allocate(JAVA_LONG, 16);
            int count = (int) layout.invokeExact(out, 16);
            List<Long> c = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                c.add(out.getAtIndex(JAVA_LONG, i));
            }
            assertEquals(c, java);
        }
        assertEquals(40, KernelParam.QUANTILE_COLUMNS.bytes);
    }

    /** The weight image's offsets and bytes against tc_layout and pack_tensor_weights, for every hidden width. */
    @ParameterizedTest(name = "n={0} h={1}")
    @CsvSource({"1, 16", "3, 32", "8, 64", "5, 128"})
    void tensorWeightsAreLibengrams(int n, int h) throws Throwable {
        MlpWeights w = MlpWeights.glorot(new int[] {2 * n, h, h, 1}, 77 + h);
        float[][] bs = w.biases();
        SplittableRandom rnd = new SplittableRandom(h);
        for (float[] b : bs) {
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) rnd.nextDouble(-0.3, 0.3);
            }
        }
        w = new MlpWeights(w.widths(), w.weights(), bs);
        byte[] java = TensorWeights.pack(w, n);
        TensorWeights.Layout l = TensorWeights.Layout.of(h);
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle layout = function(arena, "engram_tensor_weights_layout",
                    FunctionDescriptor.ofVoid(JAVA_INT, ADDRESS));
            MethodHandle pack = function(arena, "engram_pack_tensor_weights",
                    FunctionDescriptor.ofVoid(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
            MemorySegment lo = arena.allocate(JAVA_INT, 7);
            layout.invokeExact(h, lo);
            assertArrayEquals(lo.toArray(JAVA_INT), new int[] {l.w1(), l.w2(), l.b1(), l.b2(), l.w3(), l.b3(), l.bytes()});
            float[] params = new float[0];
            for (int k = 0; k < 3; k++) {
                params = concat(params, w.weights()[k], w.biases()[k]);
            }
            MemorySegment p = arena.allocateFrom(JAVA_FLOAT, params);
            MemorySegment dst = arena.allocate(l.bytes());
            pack.invokeExact(n, h, p, dst);
            assertArrayEquals(dst.toArray(JAVA_BYTE), java);
        }
    }

    private static float[] concat(float[] a, float[] b, float[] c) {
        float[] out = new float[a.length + b.length + c.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        System.arraycopy(c, 0, out, a.length + b.length, c.length);
        return out;
    }

    private static EnsembleSpec portSpec() {
        // n = 2, m = 3: H [4, 6, 5, 1], R [4, 3, 2], G [2, 7, 6]
        MlpWeights h = MlpWeights.glorot(new int[] {4, 6, 5, 1}, 1);
        MlpWeights r = MlpWeights.glorot(new int[] {4, 3, 2}, 2);
        MlpWeights g = MlpWeights.glorot(new int[] {2, 7, 6}, 3);
        float[] u = new float[10 * 3];
        EnsembleModel model = new EnsembleModel.PortHamiltonian(h, r, g, u);
        return new EnsembleSpec(model, new float[] {0.1f, 0.2f}, new float[] {0.3f, 0.4f}, null, 100, 0.05f, 10, 0.1f,
                0.2f, 0.3f, 42, 3, true, EnsembleSpec.FAN, Scheme.RK4, 5.0);
    }

    /** The networks one after another (W then b per layer), the activations, then the workspace, as integrate(). */
    @Test
    void networksAndWorkspaceArePackedAsLibengramDoes() {
        EnsembleSpec spec = portSpec();
        IntegrationPack p = IntegrationPack.of(spec);
        assertEquals(3, p.kind);
        // H: W0 6×4 at 0, b0 at 24, W1 5×6 at 30, b1 at 60, W2 1×5 at 65, b2 at 70; R from 71; G from 71 + 3·5 + 2·4
        assertArrayEquals(new int[] {0, 30, 65}, p.wOff[0]);
        assertArrayEquals(new int[] {24, 60, 70}, p.bOff[0]);
        assertArrayEquals(new int[] {71, 86}, p.wOff[1]);
        assertArrayEquals(new int[] {83, 92}, p.bOff[1]);
        assertArrayEquals(new int[] {94, 115}, p.wOff[2]);
        assertArrayEquals(new int[] {108, 157}, p.bOff[2]);
        assertEquals(163, p.params.length);
        assertEquals(((EnsembleModel.PortHamiltonian) spec.model()).inputMap().bias(1, 5), p.params[162]);
        assertEquals(((EnsembleModel.PortHamiltonian) spec.model()).h().weight(1, 2, 3), p.params[30 + 2 * 6 + 3]);
        // hidden activations: H's two hidden layers (6, 5), R's (3), G's (7)
        assertArrayEquals(new int[] {0, 6, 0}, p.actOff[0]);
        assertArrayEquals(new int[] {11, 0}, p.actOff[1]);
        assertArrayEquals(new int[] {14, 0}, p.actOff[2]);
        // workspace after 21 floats of activations: widest vector max(2n + m, widths) = 7
        Map<String, Integer> s = p.scratch;
        assertEquals(21, s.get("delta"));
        assertEquals(28, s.get("g"));
        assertEquals(35, s.get("x"));
        assertEquals(39, s.get("prev"));
        assertEquals(59, s.get("copy"));     // x, prev, grad, field, tmp, ksum: 2n each
        assertEquals(63, s.get("force"));
        assertEquals(65, s.get("aux"));      // n floats of force
        assertEquals(72, s.get("inforce"));  // max(2n + m, n) = 7 of aux
        assertEquals(78, s.get("floats"));   // n·m = 6 of inforce
    }

    /** The struct image carries the values the kernel reads, at the layout's offsets. */
    @Test
    void imageHoldsTheSpecAndTheBuffers() {
        EnsembleSpec spec = portSpec();
        IntegrationPack p = IntegrationPack.of(spec);
        MemorySegment a = p.image(40, 60, new IntegrationPack.Buffers(0x1000, 0x2000, 0, 0x3000, 0x4000, 0x5000,
                0x6000, 0x7000, 0x8000));
        assertEquals(0x1000L, a.get(JAVA_LONG, IntegrateArgsLayout.offset("params")));
        assertEquals(3, a.get(JAVA_INT, IntegrateArgsLayout.offset("kind")));
        assertEquals(Scheme.RK4.ordinal(), a.get(JAVA_INT, IntegrateArgsLayout.offset("scheme")));
        assertEquals(3, a.get(JAVA_INT, IntegrateArgsLayout.offset("m")));
        assertEquals(spec.sampleSteps().length, a.get(JAVA_INT, IntegrateArgsLayout.offset("sample_count")));
        assertEquals((float) Math.cos(2 * 5.0 * (double) 0.05f), a.get(JAVA_FLOAT, IntegrateArgsLayout.offset("tao_c")));
        assertEquals(0.3f * Math.sqrt(0.05f), a.get(JAVA_DOUBLE, IntegrateArgsLayout.offset("amp")), 0);
        assertEquals(42L, a.get(JAVA_LONG, IntegrateArgsLayout.offset("seed")));
        assertEquals(40L, a.get(JAVA_LONG, IntegrateArgsLayout.offset("first")));
        assertEquals(60L, a.get(JAVA_LONG, IntegrateArgsLayout.offset("count")));
        assertEquals(0L, a.get(JAVA_LONG, IntegrateArgsLayout.offset("init")));
        assertEquals(0x8000L, a.get(JAVA_LONG, IntegrateArgsLayout.offset("ws")));
        long nets = IntegrateArgsLayout.offset("nets");
        long g = nets + 2 * IntegrateArgsLayout.NET_DESC.byteSize();
        assertEquals(2, a.get(JAVA_INT, g));                                            // G's layers
        assertEquals(6, a.get(JAVA_INT, g + 4 + 2 * 4));                                // widths[2]
        assertEquals(157, a.get(JAVA_INT, g + IntegrateArgsLayout.NET_DESC.byteOffset(groupElement("b_off")) + 4));
        long sc = IntegrateArgsLayout.offset("scratch");
        assertEquals(78, a.get(JAVA_INT, sc + IntegrateArgsLayout.SCRATCH.byteOffset(groupElement("floats"))));
        // a Hamiltonian leaves nets[1] and nets[2] empty (layers 0)
        MemorySegment h = IntegrationPack.of(EnsembleSpec.of(MlpWeights.glorot(new int[] {2, 8, 1}, 5), new float[1],
                new float[1], 10, 0.1f, 5, 0f, 0f, 0f, 1, 0)).image(0, 10, new IntegrationPack.Buffers(0, 0, 0, 0, 0, 0, 0, 0, 0));
        assertEquals(0, h.get(JAVA_INT, nets + IntegrateArgsLayout.NET_DESC.byteSize()));
        assertEquals(1, h.get(JAVA_INT, nets + 4 + 2 * 4));
    }

    /** Grids as integrate() chooses them, and its refusals, one line each. */
    @Test
    void gridsAndRefusalsAreLibengrams() {
        EnsembleSpec spec = portSpec();
        IntegrationPack p = IntegrationPack.of(spec);
        // FP32: 128 threads, ⌈count/128⌉ blocks, at most 2048/128 per SM, at most 2^30 bytes of workspace
        assertEquals(new IntegrationPack.Grid(KernelTable.INTEGRATE_FP32, 128, 8, 0),
                p.grid(IntegrationLaunch.AUTO, 1000, 132));
        assertEquals(new IntegrationPack.Grid(KernelTable.INTEGRATE_FP32, 128, 16, 0),
                p.grid(IntegrationLaunch.AUTO, 1_000_000, 1));
        assertEquals(new IntegrationPack.Grid(KernelTable.INTEGRATE_FP32, 64, 3, 0),
                p.grid(new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 64, 0, 3), 1000, 132));
        assertEquals((1L << 30) / (78 * 4 * 256), p.grid(new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 256, 0, 0),
                100_000_000, 100_000).blocks());
        UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class,
                () -> p.grid(IntegrationLaunch.of(IntegrationLaunch.Kernel.TENSOR_BF16), 10, 1));
        assertEquals("the tensor-core kernel integrates the general Hamiltonian (kind hamiltonian) only; use the FP32"
                + " kernel", u.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> p.grid(new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 0, 16, 0), 10, 1));
        assertEquals("launch.tile applies to the tensor-core kernel only; pass 0 for the FP32 kernel, got 16",
                e.getMessage());
        // tensor: warps of 16 (or 32) trajectories, at most 16 blocks per SM
        EnsembleSpec t = EnsembleSpec.of(MlpWeights.glorot(new int[] {6, 64, 64, 1}, 9), new float[3], new float[3], 5000,
                0.05f, 10, 0f, 0f, 0f, 1, 0);
        IntegrationPack tp = IntegrationPack.of(t);
        assertNull(tp.tensorSupport());
        assertEquals(new IntegrationPack.Grid(KernelTable.INTEGRATE_TC_H64, 128, 79, TensorWeights.Layout.of(64).bytes()),
                tp.grid(IntegrationLaunch.of(IntegrationLaunch.Kernel.TENSOR_BF16), 5000, 132));
        assertEquals(32, tp.grid(IntegrationLaunch.of(IntegrationLaunch.Kernel.TENSOR_BF16), 5000, 2).blocks());
        u = assertThrows(UnsupportedOperationException.class, () -> tp.grid(
                new IntegrationLaunch(IntegrationLaunch.Kernel.TENSOR_BF16, 0, 32, 0), 5000, 132));
        assertEquals("launch.tile = 32 needs a hidden width h <= 32 (registers), got h = 64; use tile 16", u.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> tp.grid(
                new IntegrationLaunch(IntegrationLaunch.Kernel.TENSOR_BF16, 256, 0, 0), 5000, 132));
        assertEquals("launch.block_threads must be at most 128 for the tensor-core kernel, got 256", e.getMessage());
        EnsembleSpec small = EnsembleSpec.of(MlpWeights.glorot(new int[] {4, 16, 16, 1}, 9), new float[2], new float[2],
                100, 0.05f, 10, 0f, 0f, 0f, 1, 0);
        assertEquals(KernelTable.INTEGRATE_TC_H16_TILE32, IntegrationPack.of(small).grid(
                new IntegrationLaunch(IntegrationLaunch.Kernel.TENSOR_BF16, 64, 32, 0), 100, 132).kernel());
        assertEquals("the tensor-core kernel needs a hidden width h of 16, 32, 64 or 128; use the FP32 kernel",
                IntegrationPack.of(EnsembleSpec.of(MlpWeights.glorot(new int[] {4, 24, 24, 1}, 9), new float[2],
                        new float[2], 100, 0.05f, 10, 0f, 0f, 0f, 1, 0)).tensorSupport());
        IllegalArgumentException deep = assertThrows(IllegalArgumentException.class, () -> IntegrationPack.of(
                EnsembleSpec.of(MlpWeights.glorot(new int[] {2, 3, 3, 3, 3, 3, 3, 3, 3, 1}, 1), new float[1],
                        new float[1], 10, 0.1f, 5, 0f, 0f, 0f, 1, 0)));
        assertEquals("nets[0] (H): layers must be in [1, 8], got 9", deep.getMessage());
    }

    @Test
    void deviceAddressesAreReadWithTheirOffsets() {
        assertEquals(0L, DeviceAddress.of(null));
        CUdeviceptr p = new CUdeviceptr();
        assertEquals(0L, DeviceAddress.of(p));
        assertEquals(4096L, DeviceAddress.of(p.withByteOffset(4096)));
        assertEquals(4096L + 256, DeviceAddress.of(p.withByteOffset(4096).withByteOffset(256)));
    }

    @Test
    void structArgumentsMustBeTheirSize() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> KernelArgs.of(KernelTable.INTEGRATE_FP32)
                .struct("a", KernelParam.INTEGRATE_ARGS, new long[3]));
        assertEquals("engram_kernel_integrate_fp32 parameter a is a INTEGRATE_ARGS of 624 bytes, got an image of 24",
                e.getMessage());
        KernelArgs a = KernelArgs.of(KernelTable.INTEGRATE_TC_H32).struct("a", KernelParam.INTEGRATE_ARGS, new long[78]);
        e = assertThrows(IllegalStateException.class, a::pack);
        assertEquals("engram_kernel_integrate_tc_h32 takes 2 parameters; only 1 given (next: packed)", e.getMessage());
        assertTrue(a.pointer("packed", null).pack() != null);
    }

    /** Version 2's shared memory: known answers from retrieve_v2_shared_bytes (cuda/retrieve_partial_v2.cu). */
    @ParameterizedTest(name = "{0} d={1} separate V={2} k={3} -> {4} bytes")
    @CsvSource({"F32,32,false,0,50432", "F32,32,false,10,58112", "F32,32,false,33,50432", "F32,32,true,0,87296",
            "F32,32,true,10,94976", "F32,64,false,0,46848", "F32,64,false,10,54528", "F32,64,true,10,89344",
            "F32,128,false,0,85760", "F32,128,true,0,153344", "F32,128,true,10,161024", "F32,128,true,33,153344",
            "F16,32,false,0,34048", "F16,32,true,10,62208", "F16,64,false,0,53504", "F16,64,true,10,98048",
            "F16,128,false,33,92416", "F16,128,true,10,169728", "BF16,32,false,10,41728", "BF16,32,true,33,54528",
            "BF16,64,false,10,61184", "BF16,64,true,0,90368", "BF16,128,false,0,92416", "BF16,128,true,33,162048"})
    void v2SharedMemoryIsLibengrams(JCudaStorage storage, int d, boolean separateV, int k, int bytes) {
        assertEquals(bytes, LaunchPlan.v2SharedBytes(storage, d, separateV, k));
    }

    /** Version 2's default chunk: known answers from retrieve_v2_default_chunk. */
    @ParameterizedTest(name = "M={0} B={1} SMs={2} -> chunk {3}")
    @CsvSource({"1000,1,132,512", "1000,64,0,1024", "1000,100000,132,1024", "100000,1,0,16768", "100000,17,0,33408",
            "100000,1000,132,8448", "100000,100000,132,100096", "10000000,1,132,12672", "10000000,17,132,25344",
            "10000000,64,132,50560", "10000000,64,0,10000000", "10000000,1000,132,833408",
            "8589934592,1,132,10845952", "8589934592,1,0,1431655808", "8589934592,17,0,2147483520",
            "8589934592,1000,132,715827968", "513,64,0,640", "513,100000,132,640", "513,17,132,512"})
    void v2DefaultChunkIsLibengrams(long count, long batch, int sms, int chunk) {
        assertEquals(chunk, LaunchPlan.v2DefaultChunk(count, batch, sms));
    }

    /**
     * Which kernel and shape a retrieval gets: known answers from libengram's choose_shape (cuda/engram.cu, compiled
     * on the host with these engram_memory and engram_launch values). "error 1" is INVALID_ARGUMENT, "error 5"
     * UNSUPPORTED.
     */
    @ParameterizedTest(name = "{0} d={1} dv={2} V=X:{3} k={4} B={5} M={6} launch={7}/{8}/{9} kernel {10} -> {13}")
    @CsvSource({
            "F32, 64, 64, true, 10, 1, 10000000, 0, 0, 0, 0, 132, 232448, v2 128 12672 16",
            "BF16, 64, 64, true, 10, 64, 10000000, 0, 0, 0, 0, 132, 232448, v2 128 50560 16",
            "F16, 128, 128, false, 10, 1000, 100000, 0, 0, 0, 0, 132, 232448, v2 128 8448 16",
            "F32, 128, 128, false, 10, 1000, 100000, 0, 0, 0, 0, 132, 49152, v1 256 1536 8",
            "F32, 128, 128, false, 10, 1000, 100000, 0, 0, 0, 2, 132, 49152, error 5",
            "F32, 64, 64, true, 10, 5, 5000, 0, 0, 0, 1, 132, 232448, v1 128 256 5",
            "F32, 64, 64, true, 10, 5, 5000, 256, 0, 0, 0, 132, 232448, v1 256 256 5",
            "F32, 64, 64, true, 10, 5, 5000, 128, 0, 0, 0, 132, 232448, v2 128 512 16",
            "F32, 64, 64, true, 10, 5, 5000, 0, 256, 0, 0, 132, 232448, v2 128 256 16",
            "F32, 64, 64, true, 10, 5, 5000, 0, 96, 0, 0, 132, 232448, v1 128 96 5",
            "F32, 64, 64, true, 10, 5, 5000, 0, 96, 0, 2, 132, 232448, error 1",
            "F32, 64, 64, true, 10, 5, 5000, 0, 0, 8, 0, 132, 232448, v1 128 256 8",
            "F32, 64, 64, true, 10, 5, 5000, 0, 0, 16, 2, 132, 232448, v2 128 512 16",
            "F32, 48, 48, true, 10, 5, 5000, 0, 0, 0, 0, 132, 232448, v1 128 256 5",
            "F32, 48, 48, true, 10, 5, 5000, 0, 0, 0, 2, 132, 232448, error 5",
            "F32, 64, 32, false, 10, 5, 5000, 0, 0, 0, 0, 132, 232448, v1 128 256 5",
            "BF16, 32, 32, true, 256, 17, 100000, 0, 0, 0, 0, 108, 166912, v2 128 512 16",
            "BF16, 32, 32, false, 33, 300, 3000000, 0, 0, 0, 0, 8, 101376, v2 128 1500032 16",
            "F32, 128, 128, false, 0, 1, 100000000, 0, 0, 0, 0, 132, 232448, v2 128 126336 16",
            "F32, 64, 64, true, 10, 1, 100000000, 0, 128, 0, 2, 132, 232448, error 5",
            "F32, 64, 64, true, 10, 1, 100000000, 0, 128, 0, 0, 132, 232448, v1 128 128 1"})
    void kernelChoiceIsLibengrams(JCudaStorage storage, int d, int dv, boolean valuesArePatterns, int k, long batch,
                                  long count, int threads, int chunk, int qtile, int kernel, int sms, long optin,
                                  String expected) {
        JCudaLaunch launch = new JCudaLaunch(threads, chunk, qtile, kernel);
        if (expected.startsWith("error")) {
            Class<? extends RuntimeException> type = expected.equals("error 1") ? IllegalArgumentException.class
                    : UnsupportedOperationException.class;
            RuntimeException e = assertThrows(type, () -> LaunchPlan.plan(storage, d, dv, valuesArePatterns, k, batch,
                    count, launch, sms, optin));
            assertTrue(!e.getMessage().contains("\n"), e.getMessage());
            return;
        }
        LaunchPlan p = LaunchPlan.plan(storage, d, dv, valuesArePatterns, k, batch, count, launch, sms, optin);
        assertEquals(expected, "v" + p.version() + " " + p.threads() + " " + p.chunk() + " " + p.queryTile());
        assertEquals((count + p.chunk() - 1) / p.chunk() * (p.version() == 2 ? 4 : 1), p.partials());
        if (p.version() == 2) {
            assertEquals((batch + 15) / 16, p.queryTiles());
            assertEquals(LaunchPlan.v2SharedBytes(storage, d, !valuesArePatterns, k), p.sharedBytes());
        }
    }

    @Test
    void kernelTwoMessagesNameTheField() {
        UnsupportedOperationException u = assertThrows(UnsupportedOperationException.class, () -> LaunchPlan.plan(
                JCudaStorage.F32, 48, 48, true, 10, 5, 5000, new JCudaLaunch(0, 0, 0, 2), 132, 232448));
        assertEquals("retrieval kernel 2 needs d = dv in {32, 64, 128}, got d=48, dv=48; use kernel 0 or 1", u.getMessage());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LaunchPlan.plan(
                JCudaStorage.F32, 64, 64, true, 10, 5, 5000, new JCudaLaunch(0, 96, 0, 2), 132, 232448));
        assertEquals("launch chunk must be a positive multiple of 128 for retrieval kernel 2, got 96", e.getMessage());
        u = assertThrows(UnsupportedOperationException.class, () -> LaunchPlan.plan(
                JCudaStorage.F32, 128, 128, false, 10, 1000, 100000, new JCudaLaunch(0, 0, 0, 2), 132, 49152));
        assertEquals("retrieval kernel 2 with d=128, k=10 needs 161024 bytes of shared memory per block; the device"
                + " offers 49152; use kernel 1", u.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new JCudaLaunch(0, 0, 0, 3));
        String before = System.getProperty("engram.retrieval.kernel");
        try {
            System.setProperty("engram.retrieval.kernel", "2");
            assertEquals(new JCudaLaunch(0, 0, 0, 2), JCudaLaunch.configured());
            System.setProperty("engram.retrieval.kernel", "1");
            assertEquals(1, JCudaLaunch.configured().kernel());
        } finally {
            if (before == null) {
                System.clearProperty("engram.retrieval.kernel");
            } else {
                System.setProperty("engram.retrieval.kernel", before);
            }
        }
        assertEquals(0, JCudaLaunch.configured().kernel());
    }
}
