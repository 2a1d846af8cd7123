package dev.engram.engine.jcuda;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
import jcuda.runtime.cudaStream_t;

import java.util.Objects;

/**
 * The cuBLAS baseline for retrieval, for the benchmark: what the obvious GPU code does, to show what the fused
 * kernels gain. S = Q·Xᵀ by cublasSgemm (JCublas 12.6, on the JCuda engine's context and stream), then
 * engram_kernel_scores_partials turns the B×M score matrix into the per-chunk partial state (softmax sums, output,
 * cosine top-k) and engram_kernel_retrieve_merge finishes it, as the jcuda engine's own pass 2 does. Float32 storage;
 * it writes and reads the whole score matrix (B·M·4 bytes each way) and reads V once per query, which the fused
 * kernel never does. Results agree with the engines' within the float32 tolerances (the kernel is validated against a
 * C reference in double by cuda/dev/scores.cu, on the emulator in CI).
 *
 * <p>JCublas 12.6 binds {@code libcublas.so.12}; where that library is missing (or only cuBLAS 13 is installed) the
 * baseline is unavailable and {@link #unavailableReason} says so in one line, never a crash.
 */
public final class JCublasBaseline implements AutoCloseable {
    /** The binding class whose static initialiser loads JCublas's JNI library (which links libcublas.so.12). */
    static final String CUBLAS = "jcuda.jcublas.JCublas2";

    private final JCudaBackend engine;
    private final cublasHandle handle;
    private boolean closed;

    private JCublasBaseline(JCudaBackend engine, cublasHandle handle) {
        this.engine = engine;
        this.handle = handle;
    }

    /**
     * Null when the baseline can run here (JCublas's natives with libcublas.so.12, and everything the jcuda engine
     * needs: JCuda's natives, a driver, a device, the fatbins), else one line saying why not.
     */
    public static String unavailableReason() {
        String cublas = JCudaNatives.unavailableReason(CUBLAS);
        if (cublas != null) {
            return "the JCublas baseline (JCublas 12.6 needs libcublas.so.12) is unavailable: " + cublas;
        }
        String engine = JCudaBackend.unavailableReason();
        return engine == null ? null : "the JCublas baseline runs on the jcuda engine, which is unavailable: " + engine;
    }

    /**
     * A baseline with its own context on device {@code ordinal}.
     *
     * @throws IllegalStateException when it cannot run here (the message is {@link #unavailableReason})
     */
    public static JCublasBaseline create(int ordinal) {
        String why = unavailableReason();
        if (why != null) {
            throw new IllegalStateException(why);
        }
        JCudaBackend engine = JCudaBackend.create(ordinal, JCudaStorage.F32, JCudaLaunch.AUTO);
        try {
            JCublas2.setExceptionsEnabled(true);
            cublasHandle h = new cublasHandle();
            try (JCudaDevice.Scope ignored = engine.device().enter()) {
                JCublas2.cublasCreate(h);
                JCublas2.cublasSetStream(h, new cudaStream_t(engine.device().stream));
            }
            return new JCublasBaseline(engine, h);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
    }

    public String name() {
        return "jcublas";
    }

    /** Finished results over all patterns: the same contract as {@link dev.engram.engine.Backend#retrieve}. */
    public RetrievalResult retrieve(PatternMemory memory, FloatMatrix queries, RetrievalParams params) {
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(queries, "queries");
        Objects.requireNonNull(params, "params");
        if (closed) {
            throw new IllegalStateException("this jcublas baseline is closed");
        }
        return engine.retrieveCublas(memory, queries, params, handle);
    }

    /** Destroys the cuBLAS handle, then the engine (device copies, modules, stream, context). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (JCudaDevice.Scope ignored = engine.device().enter()) {
            JCublas2.cublasDestroy(handle);
        } finally {
            engine.close();
        }
    }
}
