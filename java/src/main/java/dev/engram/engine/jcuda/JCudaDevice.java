package dev.engram.engine.jcuda;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUfunction_attribute;
import jcuda.driver.CUmodule;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuCtxCreate;
import static jcuda.driver.JCudaDriver.cuCtxDestroy;
import static jcuda.driver.JCudaDriver.cuCtxGetDevice;
import static jcuda.driver.JCudaDriver.cuCtxPopCurrent;
import static jcuda.driver.JCudaDriver.cuCtxPushCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuFuncSetAttribute;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuLaunchKernel;
import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleUnload;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * One CUDA context (made here, or a JCuda user's), a stream of ours in it, and the kernels of {@link KernelTable}
 * loaded from the fatbins. Created in that order and freed in reverse: modules, stream, then the context if it is
 * ours. Every use pushes the context on the calling thread and pops it after ({@link #enter}), so any thread may call.
 */
final class JCudaDevice implements AutoCloseable {
    final CUcontext context;
    final boolean ownsContext;
    final CUstream stream;
    final String name;
    /** True on the emulated CUDA driver (libengram_cudadrv_emu.so: the kernels on the host CPU, not a GPU). */
    final boolean emulated;
    final int multiprocessors;
    final long sharedOptin;
    private final List<CUmodule> modules = new ArrayList<>();
    private final Map<KernelTable, CUfunction> functions = new EnumMap<>(KernelTable.class);
    private final int[] sharedSet = new int[KernelTable.values().length];
    private boolean closed;

    /** How the emulated CUDA driver (cuda/emu/driver_emu.cpp) names its device. */
    static final String EMULATED_DEVICE = "Engram emulated device";

    private JCudaDevice(CUcontext context, boolean ownsContext) {
        this.context = context;
        this.ownsContext = ownsContext;
        CUstream s = null;
        try (Scope ignored = enter()) {
            CUdevice dev = new CUdevice();
            cuCtxGetDevice(dev);
            byte[] nameBytes = new byte[256];
            cuDeviceGetName(nameBytes, nameBytes.length, dev);
            this.name = new String(nameBytes, 0, indexOfZero(nameBytes)).strip();
            this.emulated = name.startsWith(EMULATED_DEVICE);
            this.multiprocessors = attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            this.sharedOptin = attribute(dev, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
            s = new CUstream();
            // a blocking stream: the legacy default stream, on which the synchronous cuMemcpyHtoD/DtoD and cuMemsetD8
            // calls here run, is ordered with it both ways. With CU_STREAM_NON_BLOCKING a kernel could start before an
            // upload from pageable memory had landed (cuMemcpyHtoD returns once the data is staged) or before a
            // memset or device-to-device copy (asynchronous to the host) had run.
            cuStreamCreate(s, CUstream_flags.CU_STREAM_DEFAULT);
            this.stream = s;
            for (String module : KernelTable.modules()) {
                CUmodule m = new CUmodule();
                cuModuleLoadData(m, Fatbins.read(module));
                modules.add(m);
                for (KernelTable k : KernelTable.values()) {
                    if (k.module.equals(module)) {
                        CUfunction f = new CUfunction();
                        cuModuleGetFunction(f, m, k.symbol);
                        functions.put(k, f);
                    }
                }
            }
        } catch (RuntimeException e) {
            freeModulesAndStream(s);
            throw e;
        }
    }

    /**
     * A new context on device {@code ordinal}, owned by the returned object.
     *
     * @throws IllegalStateException when JCuda, the driver, the device or a fatbin is missing (the message says which)
     */
    static JCudaDevice create(int ordinal) {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        CUdevice dev = new CUdevice();
        cuDeviceGet(dev, ordinal);
        CUcontext ctx = new CUcontext();
        cuCtxCreate(ctx, 0, dev);
        cuCtxPopCurrent(new CUcontext());  // cuCtxCreate made it current on this thread; enter() pushes it when used
        try {
            return new JCudaDevice(ctx, true);
        } catch (RuntimeException e) {
            cuCtxDestroy(ctx);
            throw e;
        }
    }

    /** A JCuda user's context (not destroyed on close); device pointers made in it can be retrieved against. */
    static JCudaDevice borrow(CUcontext context) {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        return new JCudaDevice(context, false);
    }

    /**
     * Null when a JCuda engine can run here (JCuda natives, a driver, a device and the fatbins), else why not, in one
     * line. Asks the driver each time after the natives loaded once.
     */
    static String unavailableReason() {
        String fat = Fatbins.missing();
        if (fat != null) {
            return fat;
        }
        String natives = JCudaNatives.unavailableReason(JCudaNatives.DRIVER);
        if (natives != null) {
            return natives;
        }
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            return count[0] == 0 ? "the CUDA driver reports no device" : null;
        } catch (CudaException e) {
            return "the CUDA driver cannot start: " + e.getMessage();
        }
    }

    /** Makes the context current on this thread until the scope closes. */
    Scope enter() {
        cuCtxPushCurrent(context);
        return new Scope();
    }

    /** The context pushed by {@link #enter}; closing pops it. */
    static final class Scope implements AutoCloseable {
        @Override
        public void close() {
            cuCtxPopCurrent(new CUcontext());
        }
    }

    /** Launches {@code args.kernel()} on this device's stream. Caller is inside {@link #enter}. */
    void launch(KernelArgs args, long gridX, long gridY, int blockX, int sharedBytes) {
        KernelTable k = args.kernel();
        CUfunction f = functions.get(k);
        if (sharedBytes > 48 * 1024 && sharedSet[k.ordinal()] < sharedBytes) {
            cuFuncSetAttribute(f, CUfunction_attribute.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, sharedBytes);
            sharedSet[k.ordinal()] = sharedBytes;
        }
        Pointer params = args.pack();
        cuLaunchKernel(f, (int) gridX, (int) gridY, 1, blockX, 1, 1, sharedBytes, stream, params, null);
    }

    void synchronize() {
        cuStreamSynchronize(stream);
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            freeModulesAndStream(stream);
        } finally {
            if (ownsContext) {
                cuCtxDestroy(context);
            }
        }
    }

    private void freeModulesAndStream(CUstream s) {
        cuCtxPushCurrent(context);
        try {
            for (int i = modules.size() - 1; i >= 0; i--) {
                cuModuleUnload(modules.get(i));
            }
            modules.clear();
            if (s != null) {
                cuStreamDestroy(s);
            }
        } finally {
            cuCtxPopCurrent(new CUcontext());
        }
    }

    private static int attribute(CUdevice dev, int attribute) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attribute, dev);
        return v[0];
    }

    private static int indexOfZero(byte[] b) {
        for (int i = 0; i < b.length; i++) {
            if (b[i] == 0) {
                return i;
            }
        }
        return b.length;
    }

    @Override
    public String toString() {
        String context = ownsContext ? "own context" : "shared context";
        if (emulated) {
            return name + " (emulated CUDA driver " + JCudaNatives.emulatedDriver()
                    + ": the kernels run on the host CPU emulator, not a GPU; " + context + ")";
        }
        return name + " (" + multiprocessors + " SMs, " + context + ")";
    }
}
