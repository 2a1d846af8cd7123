package dev.engram.engine.jcuda;

import dev.engram.engine.Backend;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalChecks;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.ffm.EnsembleQuantiles;
import dev.engram.engine.ffm.IntegrationLaunch;
import dev.engram.tensor.FloatMatrix;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;
import java.util.function.LongConsumer;

/**
 * The JCuda engine: libengram's retrieval and integration kernels (the same .cu sources, compiled to fatbins)
 * launched through the JCuda driver API instead of FFM. Retrieval runs pass-1 kernel version 2 (tensor cores) where
 * it serves the shape and version 1 otherwise, as libengram chooses ({@link JCudaLaunch#kernel()} asks for one);
 * integration runs the FP32 kernel or, asked for, the tensor-core kernel ({@link IntegrationLaunch}), with the host
 * part of libengram's integrate() done in Java ({@link IntegrationPack}). It exists for programs that already live in JCuda: it can run in their context
 * ({@link #sharing}) and retrieve against patterns they already hold in device memory ({@link #wrap}), with no copy.
 *
 * <p>Made with {@link #create}, it owns a context and a stream on the device; {@link #close} frees the device copies,
 * the modules, the stream and the context, in that order. The first retrieval against a {@link PatternMemory}
 * uploads it; later ones send only appended and rewritten rows.
 *
 * <p>Accuracy against the reference engine is that of the native engine (same kernels): dot products and in-chunk
 * softmax sums in float32, sums across chunks in double.
 */
public final class JCudaBackend implements Backend, AutoCloseable {
    private final JCudaDevice device;
    private final JCudaStorage storage;
    private final JCudaLaunch launch;
    private final IntegrationLaunch integration;
    private final Map<PatternMemory, JCudaMemory> uploaded = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile boolean closed;

    private JCudaBackend(JCudaDevice device, JCudaStorage storage, JCudaLaunch launch, IntegrationLaunch integration) {
        this.device = device;
        this.storage = Objects.requireNonNull(storage, "storage");
        this.launch = Objects.requireNonNull(launch, "launch");
        this.integration = Objects.requireNonNull(integration, "integration");
    }

    /**
     * An engine with its own context on device {@code ordinal}, integrating with {@code integration}'s kernel and
     * shape.
     *
     * @throws IllegalStateException when JCuda's natives, the driver, a device or the fatbins are missing (says which)
     */
    public static JCudaBackend create(int ordinal, JCudaStorage storage, JCudaLaunch launch,
                                      IntegrationLaunch integration) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("device ordinal must be >= 0, got " + ordinal);
        }
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(launch, "launch");
        Objects.requireNonNull(integration, "integration");
        return new JCudaBackend(JCudaDevice.create(ordinal), storage, launch, integration);
    }

    /**
     * An engine with its own context on device {@code ordinal}.
     *
     * @throws IllegalStateException when JCuda's natives, the driver, a device or the fatbins are missing (says which)
     */
    public static JCudaBackend create(int ordinal, JCudaStorage storage, JCudaLaunch launch) {
        return create(ordinal, storage, launch, IntegrationLaunch.AUTO);
    }

    /** {@code create(0, F32, AUTO)}. */
    public static JCudaBackend create() {
        return create(0, JCudaStorage.F32, JCudaLaunch.AUTO);
    }

    /**
     * An engine in a JCuda user's context (not destroyed on close), so that device pointers made there can be
     * {@link #wrap}ped.
     */
    public static JCudaBackend sharing(CUcontext context, JCudaStorage storage, JCudaLaunch launch) {
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(launch, "launch");
        return new JCudaBackend(JCudaDevice.borrow(context), storage, launch, IntegrationLaunch.AUTO);
    }

    /** Null when {@link #create} can work here, else one line saying why not. */
    public static String unavailableReason() {
        return JCudaDevice.unavailableReason();
    }

    /**
     * A memory over device pointers the caller holds in this engine's context: X rows×dim and V rows×valueDim
     * ({@code v} null: V = X), stored as this engine's storage kind. The caller keeps ownership of X and V and must
     * keep them alive and unchanged while retrieving; closing the returned memory frees only the norms and workspace.
     */
    public JCudaMemory wrap(CUdeviceptr x, CUdeviceptr v, long rows, int dim, int valueDim) {
        checkOpen();
        return JCudaMemory.borrow(device, x, v, rows, dim, valueDim, storage);
    }

    @Override
    public String name() {
        return "jcuda";
    }

    /** The context, stream and kernels this engine runs on. */
    JCudaDevice device() {
        return device;
    }

    /**
     * True when this engine runs on the emulated CUDA driver (system property engram.jcuda.driver): the kernels on
     * the host CPU emulator, for tests; never a GPU, and never to be timed as one.
     */
    public boolean emulated() {
        return device.emulated;
    }

    /** One line for logs: device, context, storage, launch, retrieval kernel, integration. */
    public String describe() {
        return device + ", storage " + storage + ", launch " + launch + ", retrieval kernel " + retrievalKernel()
                + ", integration " + integration;
    }

    /** Which retrieval pass-1 kernel runs: what the launch asks for, or what automatic picks. */
    public String retrievalKernel() {
        return switch (launch.kernel()) {
            case 1 -> "1 (asked for)";
            case 2 -> "2 (asked for: tensor cores, d = dv in {32, 64, 128})";
            default -> LaunchPlan.V2_AUTO
                    ? "automatic: 2 (tensor cores) where d = dv in {32, 64, 128} and its shared memory fits, else 1"
                    : "automatic: 1";
        };
    }

    public JCudaLaunch launch() {
        return launch;
    }

    public IntegrationLaunch integration() {
        return integration;
    }

    /**
     * Integrates the ensemble on the device with the kernels of the FFM {@code cuda} engine: every model kind and
     * scheme with the FP32 kernel, the general Hamiltonian with leapfrog on the tensor-core kernel when
     * {@link #integration()} asks for it; Philox noise keyed by (seed, trajectory, step), a trajectory frozen at its
     * last finite state. Quantiles are computed on the host by {@link dev.engram.engine.EnsembleRecorder}, as for the
     * other engines; progress is reported after each range of trajectories.
     *
     * @throws UnsupportedOperationException when the asked-for kernel does not serve this model
     */
    @Override
    public EnsembleResult integrate(EnsembleSpec spec, LongConsumer progress) {
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(progress, "progress");
        checkOpen();
        return JCudaEnsemble.run(device, spec, integration, progress);
    }

    /**
     * Integrates the ensemble and returns only its quantiles, computed on the device by the kernels of
     * cuda/quantiles.cu (as the FFM engine's {@code integrateQuantiles}): the samples and final states never leave
     * it. The values are those {@link #integrate} gives (EnsembleRecorder's type-7 quantiles), bit for bit.
     */
    public EnsembleQuantiles integrateQuantiles(EnsembleSpec spec) {
        Objects.requireNonNull(spec, "spec");
        checkOpen();
        return JCudaEnsemble.quantiles(device, spec, integration);
    }

    @Override
    public RetrievalPartial retrievePartial(PatternMemory memory, long from, long to, FloatMatrix queries,
                                            RetrievalParams params) {
        RetrievalChecks.check(memory, from, to, queries, params);
        checkK(params.k());
        return deviceCopy(memory).retrievePartial(queries, params, from, to, launch);
    }

    @Override
    public RetrievalResult retrieve(PatternMemory memory, FloatMatrix queries, RetrievalParams params) {
        RetrievalChecks.check(memory, 0, memory.size(), queries, params);
        checkK(params.k());
        return deviceCopy(memory).retrieve(queries, params, 0, memory.size(), launch);
    }

    /** The cuBLAS baseline's retrieval on this engine's device copy of {@code memory} (float32 storage). */
    RetrievalResult retrieveCublas(PatternMemory memory, FloatMatrix queries, RetrievalParams params,
                                   jcuda.jcublas.cublasHandle handle) {
        RetrievalChecks.check(memory, 0, memory.size(), queries, params);
        checkK(params.k());
        return deviceCopy(memory).retrieveCublas(queries, params, handle);
    }

    /** Retrieval against a {@link #wrap}ped memory, patterns [from, to). */
    public RetrievalResult retrieve(JCudaMemory memory, FloatMatrix queries, RetrievalParams params) {
        checkWrapped(memory, queries, params, 0, memory.size());
        if (params.k() > memory.size()) {
            throw new IllegalArgumentException("k=" + params.k() + " exceeds the number of stored patterns M=" + memory.size());
        }
        return memory.retrieve(queries, params, 0, memory.size(), launch);
    }

    /** The mergeable partial against a {@link #wrap}ped memory over patterns [from, to). */
    public RetrievalPartial retrievePartial(JCudaMemory memory, long from, long to, FloatMatrix queries,
                                            RetrievalParams params) {
        checkWrapped(memory, queries, params, from, to);
        return memory.retrievePartial(queries, params, from, to, launch);
    }

    private void checkWrapped(JCudaMemory memory, FloatMatrix queries, RetrievalParams params, long from, long to) {
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(queries, "queries");
        Objects.requireNonNull(params, "params");
        checkOpen();
        if (from < 0 || to > memory.size() || from >= to) {
            throw new IllegalArgumentException("pattern range [" + from + ", " + to + ") is empty or outside 0.." + memory.size());
        }
        if (queries.rows() < 1) {
            throw new IllegalArgumentException("queries must hold at least one row, got 0");
        }
        if (queries.cols() != memory.dim()) {
            throw new IllegalArgumentException("queries have d=" + queries.cols()
                    + " columns but the memory stores patterns of d=" + memory.dim());
        }
        queries.requireFinite("queries");
        checkK(params.k());
    }

    static void checkK(int k) {
        if (k > LaunchPlan.MAX_K) {
            throw new IllegalArgumentException("k=" + k + " exceeds the jcuda engine's limit of " + LaunchPlan.MAX_K
                    + " (per-block top-k lists live in shared memory); use the cpu engine");
        }
    }

    private JCudaMemory deviceCopy(PatternMemory memory) {
        checkOpen();
        JCudaMemory m;
        synchronized (uploaded) {
            m = uploaded.get(memory);
            if (m == null) {
                m = JCudaMemory.owned(device, memory.dim(), memory.valueDim(), memory.valuesArePatterns(), storage);
                uploaded.put(memory, m);
            }
        }
        m.syncWith(memory);
        return m;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this jcuda engine is closed");
        }
    }

    /** Frees the device copies, then the modules, the stream and (if it is ours) the context. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        synchronized (uploaded) {
            for (JCudaMemory m : uploaded.values()) {
                m.close();
            }
            uploaded.clear();
        }
        device.close();
    }

    @Override
    public String toString() {
        return "JCudaBackend[" + describe() + "]";
    }
}
