package dev.engram.engine.ffm;

import dev.engram.engine.Backend;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalChecks;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;

import java.lang.ref.Cleaner;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The native engine: libengram's retrieval and ensemble-integration kernels through FFM, either on a CUDA GPU ({@code cuda}) or compiled for
 * the host by the execution-model emulator ({@code emu}: the very same kernel source, for tests and CI, slow).
 *
 * <p>Matrices pass to the library as their own off-heap segments, without copies. The first retrieval against a
 * {@link PatternMemory} uploads it to device memory; later ones reuse that copy and send only what changed since:
 * rows appended, and rows overwritten through {@link PatternMemory#replace} (written in place on the device, see
 * {@link PatternMemory#replacedSince}). Device copies are freed when this engine is closed, or when their
 * PatternMemory becomes unreachable. For explicit control use {@link #upload} and {@link NativeMemory} directly. A
 * memory made by {@link PatternMemory#wrap} whose caller-owned matrices are changed behind its back is not noticed.
 *
 * <p>Accuracy against the reference engine: dot products in float32 (error about d·2⁻²⁴·‖q‖·‖x‖), softmax sums in
 * float32 within a memory chunk and in double across chunks; top-k cosines in float32. With fp16/bf16 storage the
 * result equals the reference run on the rounded patterns, to the same tolerances.
 *
 * <p>Integration ({@link #integrate}): every model kind and scheme of the cpu engine, by the FP32 kernel (one thread
 * per trajectory, float32 arithmetic, Philox noise identical to {@link dev.engram.engine.Philox}); agrees with the
 * reference engine as the cpu engine does (float32 round-off). {@link IntegrationLaunch.Kernel#TENSOR_BF16} selects
 * the tensor-core kernel for the general Hamiltonian with leapfrog (bf16 weights and activations: see its tolerance).
 */
public final class NativeBackend implements Backend, AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    /** The process-wide engines by variant, made on first use (a failed attempt stores nothing). */
    private static final Map<String, NativeBackend> SHARED = new ConcurrentHashMap<>();

    private final NativeLibrary lib;
    private final NativeStorage storage;
    private final LaunchShape shape;
    private final IntegrationLaunch integration;
    private final Map<PatternMemory, NativeMemory> uploaded = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile boolean closed;

    private NativeBackend(NativeLibrary lib, NativeStorage storage, LaunchShape shape) {
        this(lib, storage, shape, IntegrationLaunch.AUTO);
    }

    private NativeBackend(NativeLibrary lib, NativeStorage storage, LaunchShape shape, IntegrationLaunch integration) {
        this.lib = lib;
        this.storage = Objects.requireNonNull(storage, "storage");
        this.shape = Objects.requireNonNull(shape, "shape");
        this.integration = Objects.requireNonNull(integration, "integration");
        if (shape.blockThreads() > lib.limits.maxBlockThreads()) {
            throw new IllegalArgumentException("blockThreads=" + shape.blockThreads() + " exceeds " + lib
                    + "'s limit of " + lib.limits.maxBlockThreads() + " threads per block");
        }
    }

    /**
     * The emulated kernels (libengram_emu), float32 storage, shape chosen by the library.
     *
     * @throws NativeEngineException when the emulation library is not in this build (no cmake/C++ at build time)
     */
    public static NativeBackend emulated() {
        return emulated(NativeStorage.F32, LaunchShape.configured());
    }

    /** The emulated kernels with the given storage and launch shape. */
    public static NativeBackend emulated(NativeStorage storage, LaunchShape shape) {
        return new NativeBackend(NativeLibrary.load(NativeLibrary.EMU), storage, shape);
    }

    /**
     * The CUDA kernels (libengram_cuda) on device 0, float32 storage.
     *
     * @throws NativeEngineException when the library is missing or there is no usable GPU/driver (the message says
     *                               which)
     */
    public static NativeBackend cuda() {
        return cuda(NativeStorage.F32, LaunchShape.configured());
    }

    /** The CUDA kernels with the given storage and launch shape. */
    public static NativeBackend cuda(NativeStorage storage, LaunchShape shape) {
        NativeLibrary lib = NativeLibrary.load(NativeLibrary.CUDA);
        lib.deviceInfo();  // throws NO_DEVICE with the runtime's reason
        return new NativeBackend(lib, storage, shape);
    }

    /** Process-wide emulated engine (never closed), for {@link dev.engram.engine.Backends}. */
    public static NativeBackend sharedEmulated() {
        return SHARED.computeIfAbsent(NativeLibrary.EMU, v -> emulated());
    }

    /** Process-wide CUDA engine (never closed), for {@link dev.engram.engine.Backends}. */
    public static NativeBackend sharedCuda() {
        return SHARED.computeIfAbsent(NativeLibrary.CUDA, v -> cuda());
    }

    /**
     * Null when the CUDA engine can run here (library present, driver and a device found), else why not, in one
     * sentence. Cheap after the first call for the library; asks the driver each time.
     */
    public static String cudaUnavailableReason() {
        String why = NativeLibrary.unavailableReason(NativeLibrary.CUDA);
        if (why != null) {
            return why;
        }
        try {
            NativeLibrary.load(NativeLibrary.CUDA).deviceInfo();
            return null;
        } catch (NativeEngineException e) {
            return e.getMessage();
        }
    }

    /** Null when the emulated engine can run here, else why not. */
    public static String emulatedUnavailableReason() {
        return NativeLibrary.unavailableReason(NativeLibrary.EMU);
    }

    @Override
    public String name() {
        return lib.variant;
    }

    /** One line for logs: variant, device, storage, shape. */
    public String describe() {
        String device;
        try {
            device = lib.deviceInfo();
        } catch (RuntimeException e) {
            device = e.getMessage();
        }
        return lib + ", " + device + ", storage " + storage + ", launch " + shape + ", retrieval kernel "
                + retrievalKernel() + ", integration " + integration;
    }

    /** Which retrieval pass-1 kernel runs: what the shape asks for, or what automatic picks and why. */
    public String retrievalKernel() {
        return switch (shape.kernel()) {
            case 1 -> "1 (asked for)";
            case 2 -> "2 (asked for: tensor cores, d = dv in {32, 64, 128})";
            default -> lib.limits.retrieveV2Auto()
                    ? "automatic: 2 (tensor cores) where d = dv in {32, 64, 128} and its shared memory fits, else 1"
                    : "automatic: 1 (version 2, tensor cores, is available with --retrieval-kernel 2 or -D"
                    + LaunchShape.KERNEL_PROPERTY + "=2, but not yet validated on a GPU)";
        };
    }

    public NativeStorage storage() {
        return storage;
    }

    public LaunchShape shape() {
        return shape;
    }

    public IntegrationLaunch integration() {
        return integration;
    }

    /** This engine's library and a different storage/shape (shares nothing else: its own device copies). */
    public NativeBackend with(NativeStorage storage, LaunchShape shape) {
        return new NativeBackend(lib, storage, shape, integration);
    }

    /** This engine's library, storage and shape with another integration kernel/launch shape (no shared copies). */
    public NativeBackend with(IntegrationLaunch integration) {
        return new NativeBackend(lib, storage, shape, integration);
    }

    /**
     * Integrates the ensemble on the device (or the emulated device): see {@link Backend#integrate}. The kernel
     * writes every sample; quantiles are computed on the host by {@link dev.engram.engine.EnsembleRecorder}, as for
     * the Java engines. Progress is reported after each range of trajectories (about 2²⁰ per call).
     *
     * @throws NativeEngineException when the device fails or the chosen kernel does not serve this model
     */
    @Override
    public EnsembleResult integrate(EnsembleSpec spec, java.util.function.LongConsumer progress) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(progress, "progress");
        if (closed) {
            throw new IllegalStateException("this " + name() + " engine is closed");
        }
        return NativeEnsemble.run(lib, spec, integration, progress);
    }

    /**
     * Integrates the ensemble and returns only its quantiles, computed on the device (engram_integrate_quantiles:
     * radix select per column, so the samples and final states are never downloaded). The values are those
     * {@link #integrate} reports in {@link EnsembleResult#quantiles()} (the same kernel, the same order statistics,
     * the same interpolation), plus the quantiles of the final states. All trajectories go in one call, so the device
     * must hold spec.trajectories() × (sample count × (2n + 1) + 2n + 1) floats.
     *
     * @throws NativeEngineException when the device fails or the chosen kernel does not serve this model
     */
    public EnsembleQuantiles integrateQuantiles(EnsembleSpec spec) {
        Objects.requireNonNull(spec, "spec");
        if (closed) {
            throw new IllegalStateException("this " + name() + " engine is closed");
        }
        return NativeEnsemble.quantiles(lib, spec, integration);
    }

    /**
     * A new device copy of {@code memory} that the caller owns and must close. For memories retrieved against
     * through this engine, {@link #retrieve} keeps its own copies; this is for explicit lifetime control.
     */
    public NativeMemory upload(PatternMemory memory) {
        Objects.requireNonNull(memory, "memory");
        NativeMemory nm = NativeMemory.create(lib, memory.dim(), memory.valueDim(), memory.valuesArePatterns(), storage);
        try {
            nm.syncWith(memory);
            return nm;
        } catch (RuntimeException e) {
            nm.close();
            throw e;
        }
    }

    /** The cached device copy of memory, created once and brought up to date (changed rows only) as needed. */
    private NativeMemory deviceCopy(PatternMemory memory) {
        if (closed) {
            throw new IllegalStateException("this " + name() + " engine is closed");
        }
        NativeMemory nm;
        synchronized (uploaded) {
            nm = uploaded.get(memory);
            if (nm == null) {
                nm = NativeMemory.create(lib, memory.dim(), memory.valueDim(), memory.valuesArePatterns(), storage);
                uploaded.put(memory, nm);
                // frees the device copy once the PatternMemory is unreachable (the action must not reference it);
                // after close() of this engine the action finds the copy already closed (close is idempotent)
                CLEANER.register(memory, nm::close);
            }
        }
        nm.syncWith(memory);
        return nm;
    }

    /** Number of device copies this engine holds now. */
    public int cachedMemories() {
        return uploaded.size();
    }

    /** Rows sent to the device copy of {@code memory} so far (0 when there is none), for tests. */
    long rowsUploaded(PatternMemory memory) {
        NativeMemory nm = uploaded.get(memory);
        return nm == null ? 0 : nm.rowsUploaded();
    }

    @Override
    public RetrievalPartial retrievePartial(PatternMemory memory, long from, long to, FloatMatrix queries,
                                            RetrievalParams params) {
        RetrievalChecks.check(memory, from, to, queries, params);
        checkK(params);
        return deviceCopy(memory).retrievePartial(queries, params, from, to, shape);
    }

    @Override
    public RetrievalResult retrieve(PatternMemory memory, FloatMatrix queries, RetrievalParams params) {
        RetrievalChecks.check(memory, 0, memory.size(), queries, params);
        checkK(params);
        return deviceCopy(memory).retrieve(queries, params, 0, memory.size(), shape);
    }

    private void checkK(RetrievalParams params) {
        if (params.k() > lib.limits.maxK()) {
            throw new IllegalArgumentException("k=" + params.k() + " exceeds the native engine's limit of "
                    + lib.limits.maxK() + " (per-block top-k lists live in shared memory); use the cpu engine");
        }
    }

    /** Frees every device copy this engine made. Idempotent; the shared engines are never closed. */
    @Override
    public void close() {
        if (SHARED.get(lib.variant) == this) {
            return;
        }
        closed = true;
        synchronized (uploaded) {
            for (NativeMemory nm : uploaded.values()) {
                nm.close();
            }
            uploaded.clear();
        }
    }

    @Override
    public String toString() {
        return "NativeBackend[" + lib.variant + ", " + storage + ", " + shape + "]";
    }
}
