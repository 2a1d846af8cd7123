package dev.engram.engine.jcuda;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalChecks;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdeviceptr;

import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.WeakHashMap;

/**
 * The JCuda engine: libengram's retrieval kernels (the same .cu sources, compiled to fatbins) launched through the
 * JCuda driver API instead of FFM. It exists for programs that already live in JCuda: it can run in their context
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
    private final Map<PatternMemory, JCudaMemory> uploaded = Collections.synchronizedMap(new WeakHashMap<>());
    private volatile boolean closed;

    private JCudaBackend(JCudaDevice device, JCudaStorage storage, JCudaLaunch launch) {
        this.device = device;
        this.storage = Objects.requireNonNull(storage, "storage");
        this.launch = Objects.requireNonNull(launch, "launch");
    }

    /**
     * An engine with its own context on device {@code ordinal}.
     *
     * @throws IllegalStateException when JCuda's natives, the driver, a device or the fatbins are missing (says which)
     */
    public static JCudaBackend create(int ordinal, JCudaStorage storage, JCudaLaunch launch) {
        if (ordinal < 0) {
            throw new IllegalArgumentException("device ordinal must be >= 0, got " + ordinal);
        }
        Objects.requireNonNull(storage, "storage");
        Objects.requireNonNull(launch, "launch");
        return new JCudaBackend(JCudaDevice.create(ordinal), storage, launch);
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
        return new JCudaBackend(JCudaDevice.borrow(context), storage, launch);
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

    /** One line for logs: device, context, storage, launch. */
    public String describe() {
        return device + ", storage " + storage + ", launch " + launch;
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
