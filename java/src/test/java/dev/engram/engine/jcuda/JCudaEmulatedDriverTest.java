package dev.engram.engine.jcuda;

import dev.engram.engine.Backends;
import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxPopCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The emulated CUDA driver (cuda/emu/driver_emu.cpp, system property engram.jcuda.driver, set by the test JVMs when
 * the native build ran) through JCuda: it reports the errors the real driver does where our code could go wrong,
 * says it is emulated, and its module images list the kernels with the parameter types the host compiler saw, which
 * must be {@link KernelTable}'s. Skipped, with the reason, where the jcuda engine is unavailable or on a real driver.
 */
class JCudaEmulatedDriverTest {
    private static JCudaBackend engine;

    @BeforeEach
    void open() {
        String why = JCudaBackend.unavailableReason();
        assumeTrue(why == null, () -> "jcuda engine unavailable here: " + why);
        assumeTrue(Fatbins.emulatedImages(), "the jcuda engine is on a real CUDA driver (engram.jcuda.driver unset)");
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

    private static void assertCudaError(String code, Executable call) {
        CudaException e = assertThrows(CudaException.class, call);
        assertEquals(code, e.getMessage());
    }

    @Test
    void saysItIsEmulatedAndIsNeverChosenAutomatically() {
        assertTrue(engine.emulated());
        assertTrue(engine.describe().startsWith("Engram emulated device (host CPU) (emulated CUDA driver "),
                engine.describe());
        assertTrue(engine.describe().contains("not a GPU"), engine.describe());
        assertFalse(Backends.AUTO_ORDER.contains("jcuda"));
        assertNotEquals("jcuda", Backends.select("auto").name());
    }

    @Test
    void copiesOutsideAnAllocationAndDoubleFreesAreErrors() {
        try (JCudaDevice.Scope ignored = engine.device().enter()) {
            CUdeviceptr p = new CUdeviceptr();
            cuMemAlloc(p, 64);
            float[] fresh = new float[16];
            cuMemcpyDtoH(Pointer.to(fresh), p, 64);
            assertTrue(Float.isNaN(fresh[0]) && Float.isNaN(fresh[15]), "fresh device memory reads as NaN");
            byte[] host = new byte[64];
            cuMemcpyHtoD(p, Pointer.to(host), 64);
            assertCudaError("CUDA_ERROR_INVALID_VALUE", () -> cuMemcpyHtoD(p.withByteOffset(32), Pointer.to(host), 64));
            assertCudaError("CUDA_ERROR_INVALID_VALUE", () -> cuMemcpyDtoH(Pointer.to(host), p.withByteOffset(-16), 16));
            assertCudaError("CUDA_ERROR_INVALID_VALUE", () -> cuMemFree(p.withByteOffset(8)));
            cuMemFree(p);
            assertCudaError("CUDA_ERROR_INVALID_VALUE", () -> cuMemFree(p));
            assertCudaError("CUDA_ERROR_INVALID_VALUE", () -> cuMemcpyHtoD(p, Pointer.to(host), 4));
        }
    }

    @Test
    void kernelsAreFoundOnlyInTheirOwnModuleAndSharedMemoryIsLimited() {
        try (JCudaDevice.Scope ignored = engine.device().enter()) {
            CUmodule m = new CUmodule();
            cuModuleLoadData(m, Fatbins.read(KernelTable.RETRIEVE_MERGE.module));
            try {
                CUfunction f = new CUfunction();
                assertCudaError("CUDA_ERROR_NOT_FOUND",
                        () -> cuModuleGetFunction(f, m, KernelTable.RETRIEVE_PARTIAL_F32.symbol));
                assertCudaError("CUDA_ERROR_NOT_FOUND", () -> cuModuleGetFunction(f, m, "engram_kernel_retrieve"));
                cuModuleGetFunction(f, m, KernelTable.RETRIEVE_MERGE.symbol);
                Pointer params = mergeArgs(null).pack();
                assertCudaError("CUDA_ERROR_INVALID_VALUE",  // over 48 KiB without the attribute
                        () -> cuLaunchKernel(f, 1, 1, 1, 256, 1, 1, 64 * 1024, null, params, null));
                assertCudaError("CUDA_ERROR_INVALID_VALUE",  // over the device's 227 KiB opt-in limit
                        () -> cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                                300 * 1024));
                assertCudaError("CUDA_ERROR_INVALID_VALUE",  // over 1024 threads
                        () -> cuLaunchKernel(f, 1, 1, 1, 2048, 1, 1, 0, null, params, null));
                assertCudaError("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES",  // over the kernel's __launch_bounds__(256)
                        () -> cuLaunchKernel(f, 1, 1, 1, 512, 1, 1, 0, null, params, null));
                assertCudaError("CUDA_ERROR_NOT_SUPPORTED",
                        () -> cuLaunchKernel(f, 1, 1, 1, 256, 1, 1, 0, null, null, Pointer.to(new Pointer[1])));
            } finally {
                cuModuleUnload(m);
            }
            assertCudaError("CUDA_ERROR_INVALID_HANDLE", () -> cuModuleUnload(m));
        }
    }

    /** A pointer argument outside every allocation is refused, and the context is then unusable, as after a GPU fault. */
    @Test
    void aBadPointerArgumentPoisonsItsContext() {
        CUdevice dev = new CUdevice();
        cuDeviceGet(dev, 0);
        CUcontext ctx = new CUcontext();
        cuCtxCreate(ctx, 0, dev);
        try {
            CUmodule m = new CUmodule();
            cuModuleLoadData(m, Fatbins.read(KernelTable.RETRIEVE_MERGE.module));
            CUfunction f = new CUfunction();
            cuModuleGetFunction(f, m, KernelTable.RETRIEVE_MERGE.symbol);
            CUdeviceptr buffer = new CUdeviceptr();
            cuMemAlloc(buffer, 4096);
            Pointer params = mergeArgs(buffer.withByteOffset(8192)).pack();
            assertCudaError("CUDA_ERROR_ILLEGAL_ADDRESS",
                    () -> cuLaunchKernel(f, 1, 1, 1, 256, 1, 1, 0, null, params, null));
            assertCudaError("CUDA_ERROR_ILLEGAL_ADDRESS", () -> cuMemAlloc(new CUdeviceptr(), 16));
        } finally {
            cuCtxDestroy(ctx);
        }
        assertCudaError("CUDA_ERROR_INVALID_CONTEXT", () -> cuCtxPopCurrent(new CUcontext()));
    }

    /** The merge kernel's arguments with every pointer null except out_o. */
    private static KernelArgs mergeArgs(CUdeviceptr outO) {
        return KernelArgs.of(KernelTable.RETRIEVE_MERGE)
                .pointer("in_m", null).pointer("in_l", null).pointer("in_t", null).pointer("in_o", null)
                .pointer("in_top_score", null).pointer("in_top_index", null)
                .i32("chunks", 1).i32("batch", 1).i32("dv", 1).i32("k", 0).i64("count", 1).i32("finish", 1)
                .pointer("weights", null).pointer("heads", null).pointer("out_a", null).pointer("out_b", null)
                .pointer("out_c", null).pointer("out_o", outO).pointer("out_top_score", null)
                .pointer("out_top_index", null);
    }

    /** nvcc's fatbins (where this build has them) load too: their kernels are found by name, only in their module. */
    @Test
    void realFatbinsLoadAndTheirKernelsAreFoundByName() {
        String missing = Fatbins.missingCompiled();
        assumeTrue(missing == null, () -> "no nvcc fatbin in this build: " + missing);
        try (JCudaDevice.Scope ignored = engine.device().enter()) {
            CUmodule m = new CUmodule();
            cuModuleLoadData(m, Fatbins.readCompiled(KernelTable.RETRIEVE_MERGE.module));
            try {
                cuModuleGetFunction(new CUfunction(), m, KernelTable.RETRIEVE_MERGE.symbol);
                assertCudaError("CUDA_ERROR_NOT_FOUND",
                        () -> cuModuleGetFunction(new CUfunction(), m, KernelTable.SCORES_PARTIALS.symbol));
            } finally {
                cuModuleUnload(m);
            }
        }
    }

    /** Every kernel of the table is in its module's image with exactly the table's parameter types, in order. */
    @Test
    void kernelTableMatchesTheHostCompiledKernels() {
        Pattern entry = Pattern.compile("^\\.entry (\\w+)\\(([^)]*)\\)$", Pattern.MULTILINE);
        for (KernelTable k : KernelTable.values()) {
            String image = new String(Fatbins.read(k.module), StandardCharsets.ISO_8859_1);
            String compiled = null;
            for (Matcher m = entry.matcher(image); m.find(); ) {
                if (m.group(1).equals(k.symbol)) {
                    compiled = m.group(2);
                }
            }
            assertNotNull(compiled, k.symbol + " is not in the emulated image of " + k.module);
            List<String> want = k.params().stream().map(p -> switch (p.type()) {
                case POINTER -> "ptr";
                case INT -> "i32";
                case LONG -> "i64";
                case FLOAT -> "f32";
                case INTEGRATE_ARGS, QUANTILE_COLUMNS -> "struct" + p.type().bytes;
            }).toList();
            assertEquals(String.join(",", want), compiled, k.symbol);
        }
    }
}
