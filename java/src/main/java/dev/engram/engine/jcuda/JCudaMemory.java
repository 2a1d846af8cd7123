package dev.engram.engine.jcuda;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.TopK;
import dev.engram.tensor.FloatMatrix;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoD;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

/**
 * Patterns X (M×d), values V (M×dv, or X itself) and the norms ‖x_i‖ in device memory of one {@link JCudaDevice},
 * plus the retrieval workspace, as libengram's memory handle holds them. Either owned (uploaded from a
 * {@link PatternMemory}, grown by appends, changed rows rewritten) or borrowed: X and V are device pointers a JCuda
 * user already holds in the same context ({@link JCudaBackend#wrap}); then only the norms and the workspace are ours,
 * and X and V are never written or freed here.
 *
 * <p>Calls on one memory are serialised (one workspace).
 */
public final class JCudaMemory implements AutoCloseable {
    private static final int UPLOAD_ROWS = 1 << 14;  // rows converted and copied per host→device transfer

    private final JCudaDevice device;
    private final int dim;
    private final int valueDim;
    private final boolean valuesArePatterns;
    private final JCudaStorage storage;
    private final boolean borrowed;
    private CUdeviceptr x;
    private CUdeviceptr v;
    private CUdeviceptr norms;
    private long size;
    private long capacity;
    private CUdeviceptr workspace;
    private long workspaceBytes;
    private long versionSeen = -1;
    private boolean closed;

    private JCudaMemory(JCudaDevice device, int dim, int valueDim, boolean valuesArePatterns, JCudaStorage storage,
                        boolean borrowed) {
        this.device = device;
        this.dim = dim;
        this.valueDim = valueDim;
        this.valuesArePatterns = valuesArePatterns;
        this.storage = storage;
        this.borrowed = borrowed;
    }

    static JCudaMemory owned(JCudaDevice device, int dim, int valueDim, boolean valuesArePatterns, JCudaStorage storage) {
        return new JCudaMemory(device, dim, valueDim, valuesArePatterns, storage, false);
    }

    /**
     * Borrows X (rows×d) and V (rows×dv; null when V = X) at {@code x}, {@code v} in {@code device}'s context, stored
     * as {@code storage}. Reads X back once (in slices) to compute the norms.
     */
    static JCudaMemory borrow(JCudaDevice device, CUdeviceptr x, CUdeviceptr v, long rows, int dim, int valueDim,
                              JCudaStorage storage) {
        Objects.requireNonNull(x, "x");
        Objects.requireNonNull(storage, "storage");
        if (rows < 1) {
            throw new IllegalArgumentException("rows must be >= 1, got " + rows);
        }
        if (dim < 1 || valueDim < 1) {
            throw new IllegalArgumentException("dim and valueDim must be >= 1, got dim=" + dim + ", valueDim=" + valueDim);
        }
        if (v == null && valueDim != dim) {
            throw new IllegalArgumentException("v is null (V = X) but valueDim=" + valueDim + " differs from dim=" + dim);
        }
        JCudaMemory m = new JCudaMemory(device, dim, valueDim, v == null, storage, true);
        m.x = x;
        m.v = v;
        m.size = rows;
        m.capacity = rows;
        try (JCudaDevice.Scope ignored = device.enter()) {
            m.norms = alloc(rows * 4);
            long es = storage.bytes;
            for (long r = 0; r < rows; r += UPLOAD_ROWS) {
                int n = (int) Math.min(UPLOAD_ROWS, rows - r);
                ByteBuffer host = ByteBuffer.allocateDirect((int) (n * dim * es)).order(ByteOrder.nativeOrder());
                cuMemcpyDtoH(Pointer.to(host), x.withByteOffset(r * dim * es), (long) n * dim * es);
                float[] nr = StoredRows.norms(host, n, dim, storage);
                cuMemcpyHtoD(m.norms.withByteOffset(r * 4), Pointer.to(nr), (long) n * 4);
            }
        }
        return m;
    }

    public long size() {
        return size;
    }

    public int dim() {
        return dim;
    }

    public int valueDim() {
        return valueDim;
    }

    public JCudaStorage storage() {
        return storage;
    }

    /** True when X and V are a JCuda user's device pointers (not freed here). */
    public boolean borrowed() {
        return borrowed;
    }

    /** Brings an owned copy up to date with {@code memory}: appended rows, then rewritten rows (or all, when many). */
    synchronized void syncWith(PatternMemory memory) {
        checkOpen();
        if (versionSeen == memory.version()) {
            return;
        }
        long want = memory.size();
        if (size > want) {
            throw new IllegalStateException("device copy holds " + size + " patterns but the memory only " + want);
        }
        try (JCudaDevice.Scope ignored = device.enter()) {
            if (size > 0) {
                PatternMemory.ReplacedRows changed = versionSeen < 0
                        ? new PatternMemory.ReplacedRows(new long[0], false) : memory.replacedSince(versionSeen);
                if (!changed.complete() || changed.rows().length > size / 2) {
                    upload(memory, 0, 0, size);
                } else {
                    for (long r : changed.rows()) {
                        if (r < size) {
                            upload(memory, r, r, 1);
                        }
                    }
                }
            }
            if (want > size) {
                grow(want);
                upload(memory, size, size, want - size);
                size = want;
            }
        }
        versionSeen = memory.version();
    }

    private void grow(long need) {
        if (need <= capacity) {
            return;
        }
        long cap = Math.max(need, Math.max(2 * capacity, 1024));
        long es = storage.bytes;
        CUdeviceptr nx = null;
        CUdeviceptr nv = null;
        CUdeviceptr nn = null;
        try {
            nx = alloc(cap * dim * es);
            nv = valuesArePatterns ? null : alloc(cap * valueDim * es);
            nn = alloc(cap * 4);
            if (size > 0) {
                cuMemcpyDtoD(nx, x, size * dim * es);
                if (nv != null) {
                    cuMemcpyDtoD(nv, v, size * valueDim * es);
                }
                cuMemcpyDtoD(nn, norms, size * 4);
            }
        } catch (RuntimeException e) {
            free(nx);
            free(nv);
            free(nn);
            throw e;
        }
        free(x);
        free(v);
        free(norms);
        x = nx;
        v = nv;
        norms = nn;
        capacity = cap;
    }

    /** Converts rows [from, from + n) of memory and writes them at device row {@code at}. Inside the context. */
    private void upload(PatternMemory memory, long from, long at, long n) {
        long es = storage.bytes;
        for (long r = 0; r < n; r += UPLOAD_ROWS) {
            int c = (int) Math.min(UPLOAD_ROWS, n - r);
            float[] xs = rows(memory.patterns(), from + r, c);
            ByteBuffer sx = StoredRows.encode(xs, c, dim, storage, "patterns");
            float[] nr = StoredRows.norms(sx, c, dim, storage);
            cuMemcpyHtoD(x.withByteOffset((at + r) * dim * es), Pointer.to(sx), (long) c * dim * es);
            if (!valuesArePatterns) {
                ByteBuffer sv = StoredRows.encode(rows(memory.values(), from + r, c), c, valueDim, storage, "values");
                cuMemcpyHtoD(v.withByteOffset((at + r) * valueDim * es), Pointer.to(sv), (long) c * valueDim * es);
            }
            cuMemcpyHtoD(norms.withByteOffset((at + r) * 4), Pointer.to(nr), (long) c * 4);
        }
    }

    private static float[] rows(FloatMatrix m, long from, int n) {
        int w = m.cols();
        float[] out = new float[n * w];
        for (int i = 0; i < n; i++) {
            m.copyRow(from + i, out, i * w);
        }
        return out;
    }

    /** Finished results over patterns [from, to); arguments checked by the caller. */
    synchronized RetrievalResult retrieve(FloatMatrix queries, RetrievalParams params, long from, long to,
                                          JCudaLaunch launch) {
        Outputs o = run(queries, params, from, to, launch, true);
        return new RetrievalResult(o.batch, valueDim, params.k(), o.out, o.a, o.b, o.topIndex, o.topScore);
    }

    /** The mergeable partial over patterns [from, to); arguments checked by the caller. */
    synchronized RetrievalPartial retrievePartial(FloatMatrix queries, RetrievalParams params, long from, long to,
                                                  JCudaLaunch launch) {
        Outputs o = run(queries, params, from, to, launch, false);
        int b = o.batch;
        int k = params.k();
        double[] max = new double[b];
        double[] sum = new double[b];
        double[] shifted = new double[b];
        double[] out = new double[b * valueDim];
        TopK[] top = new TopK[b];
        for (int i = 0; i < b; i++) {
            max[i] = o.a[i];
            sum[i] = o.b[i];
            shifted[i] = o.c[i];
            top[i] = new TopK(k);
            for (int j = 0; j < k; j++) {
                long index = o.topIndex[i * k + j];
                if (index >= 0) {
                    top[i].offer(o.topScore[i * k + j], index);
                }
            }
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = o.out[i];
        }
        return new RetrievalPartial(b, valueDim, k, to - from, max, sum, shifted, out, top);
    }

    private record Outputs(int batch, float[] a, float[] b, float[] c, float[] out, long[] topIndex, float[] topScore) {
    }

    /** Both passes, as libengram's run(): pass 1 per (chunk, query tile), pass 2 per query. */
    private Outputs run(FloatMatrix queries, RetrievalParams params, long from, long to, JCudaLaunch launch,
                        boolean finish) {
        checkOpen();
        int batch = (int) queries.rows();
        int k = params.k();
        int d = dim;
        int dv = valueDim;
        boolean valuesInXs = valuesArePatterns && d <= LaunchPlan.MAX_DIM_TILE;
        long count = to - from;
        LaunchPlan plan = LaunchPlan.plan(storage, d, dv, valuesArePatterns, k, batch, count, launch,
                device.multiprocessors, device.sharedOptin);
        // partials: one per (chunk, query) for version 1, one per (chunk, warp, query) for version 2
        long parts = plan.partials();
        if (parts > Integer.MAX_VALUE) {
            throw new UnsupportedOperationException(parts + " partials per query exceed the merge kernel's limit"
                    + " (2^31 - 1); use a larger chunk");
        }
        long cb = parts * batch;
        Workspace w = new Workspace();
        long q = w.take((long) batch * d * 4);
        long pm = w.take(cb * 4);
        long pl = w.take(cb * 4);
        long pt = w.take(cb * 4);
        long po = w.take(cb * dv * 4);
        long ps = w.take(cb * k * 4);
        long pi = w.take(cb * k * 8);
        long wt = w.take(cb * 8);
        long hd = w.take(cb * 4);
        long oa = w.take(batch * 4L);
        long ob = w.take(batch * 4L);
        long oc = w.take(batch * 4L);
        long oo = w.take((long) batch * dv * 4);
        long os = w.take((long) batch * k * 4);
        long oi = w.take((long) batch * k * 8);
        float[] a = new float[batch];
        float[] b = new float[batch];
        float[] c = new float[batch];
        float[] out = new float[batch * dv];
        long[] topIndex = new long[batch * k];
        float[] topScore = new float[batch * k];
        try (JCudaDevice.Scope ignored = device.enter()) {
            if (w.bytes > workspaceBytes) {
                free(workspace);
                workspace = null;
                workspaceBytes = 0;
                workspace = alloc(w.bytes);
                workspaceBytes = w.bytes;
            }
            cuMemcpyHtoD(at(q), Pointer.to(rows(queries, 0, batch)), (long) batch * d * 4);
            if (plan.version() == 2) {
                // grid (query tiles, chunks); V null when V = X
                KernelArgs partial = KernelArgs.of(KernelTable.partialV2For(storage, d))
                        .pointer("x", x).pointer("v", valuesArePatterns ? null : v).pointer("norms", norms)
                        .i64("from", from).i64("to", to).pointer("queries", at(q)).i32("batch", batch)
                        .f32("beta", params.beta()).i32("k", k).i32("chunk", plan.chunk())
                        .pointer("m", at(pm)).pointer("l", at(pl)).pointer("t", at(pt)).pointer("o", at(po))
                        .pointer("top_score", at(ps)).pointer("top_index", at(pi));
                device.launch(partial, plan.queryTiles(), plan.chunks(), plan.threads(), plan.sharedBytes());
            } else {
                CUdeviceptr values = valuesInXs ? null : (valuesArePatterns ? x : v);
                KernelArgs partial = KernelArgs.of(KernelTable.partialFor(storage))
                        .pointer("x", x).pointer("v", values).pointer("norms", norms)
                        .i64("from", from).i64("to", to).i32("d", d).i32("dv", dv).pointer("queries", at(q))
                        .i32("batch", batch).f32("beta", params.beta()).i32("k", k).i32("chunk", plan.chunk())
                        .i32("qtile", plan.queryTile()).pointer("m", at(pm)).pointer("l", at(pl)).pointer("t", at(pt))
                        .pointer("o", at(po)).pointer("top_score", at(ps)).pointer("top_index", at(pi));
                device.launch(partial, plan.chunks(), plan.queryTiles(), plan.threads(), plan.sharedBytes());
            }
            KernelArgs merge = KernelArgs.of(KernelTable.RETRIEVE_MERGE)
                    .pointer("in_m", at(pm)).pointer("in_l", at(pl)).pointer("in_t", at(pt)).pointer("in_o", at(po))
                    .pointer("in_top_score", at(ps)).pointer("in_top_index", at(pi))
                    .i32("chunks", (int) parts).i32("batch", batch).i32("dv", dv).i32("k", k)
                    .i64("count", count).i32("finish", finish ? 1 : 0).pointer("weights", at(wt))
                    .pointer("heads", at(hd)).pointer("out_a", at(oa)).pointer("out_b", at(ob))
                    .pointer("out_c", at(oc)).pointer("out_o", at(oo)).pointer("out_top_score", at(os))
                    .pointer("out_top_index", at(oi));
            device.launch(merge, batch, 1, KernelTable.MERGE_THREADS, 0);
            device.synchronize();
            cuMemcpyDtoH(Pointer.to(a), at(oa), batch * 4L);
            cuMemcpyDtoH(Pointer.to(b), at(ob), batch * 4L);
            if (!finish) {
                cuMemcpyDtoH(Pointer.to(c), at(oc), batch * 4L);
            }
            cuMemcpyDtoH(Pointer.to(out), at(oo), (long) batch * dv * 4);
            if (k > 0) {
                cuMemcpyDtoH(Pointer.to(topScore), at(os), (long) batch * k * 4);
                cuMemcpyDtoH(Pointer.to(topIndex), at(oi), (long) batch * k * 8);
            }
        }
        return new Outputs(batch, a, b, c, out, topIndex, topScore);
    }

    /**
     * The cuBLAS baseline ({@link JCublasBaseline}): S = Q·Xᵀ (B × M floats) by cublasSgemm on this memory's
     * float32 X, then the scores → partials kernel and the merge kernel, all on the device's stream. Float32 storage
     * only; patterns [0, size).
     */
    synchronized RetrievalResult retrieveCublas(FloatMatrix queries, RetrievalParams params, jcuda.jcublas.cublasHandle handle) {
        checkOpen();
        if (storage != JCudaStorage.F32) {
            throw new IllegalArgumentException("the cuBLAS baseline needs float32 storage (cublasSgemm), this memory is "
                    + storage);
        }
        if (size > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("the cuBLAS baseline needs M <= 2^31 - 1 patterns (GEMM dimensions are int), got " + size);
        }
        int batch = (int) queries.rows();
        int k = params.k();
        int d = dim;
        int dv = valueDim;
        long count = size;
        long wanted = Math.max(1, 8L * device.multiprocessors / batch);
        int chunk = (int) Math.min(Math.max((count + wanted - 1) / wanted, 256), 1 << 20);
        long chunks = (count + chunk - 1) / chunk;
        long cb = chunks * batch;
        Workspace w = new Workspace();
        long q = w.take((long) batch * d * 4);
        long qn = w.take(batch * 4L);
        long sc = w.take((long) batch * count * 4);
        long pm = w.take(cb * 4);
        long pl = w.take(cb * 4);
        long pt = w.take(cb * 4);
        long po = w.take(cb * dv * 4);
        long ps = w.take(cb * k * 4);
        long pi = w.take(cb * k * 8);
        long wt = w.take(cb * 8);
        long hd = w.take(cb * 4);
        long oa = w.take(batch * 4L);
        long ob = w.take(batch * 4L);
        long oc = w.take(batch * 4L);
        long oo = w.take((long) batch * dv * 4);
        long os = w.take((long) batch * k * 4);
        long oi = w.take((long) batch * k * 8);
        float[] hq = rows(queries, 0, batch);
        float[] hqn = new float[batch];
        for (int b = 0; b < batch; b++) {
            double s2 = 0;
            for (int j = 0; j < d; j++) {
                s2 += (double) hq[b * d + j] * hq[b * d + j];
            }
            hqn[b] = (float) Math.sqrt(s2);
        }
        float[] a = new float[batch];
        float[] b = new float[batch];
        float[] out = new float[batch * dv];
        long[] topIndex = new long[batch * k];
        float[] topScore = new float[batch * k];
        try (JCudaDevice.Scope ignored = device.enter()) {
            if (w.bytes > workspaceBytes) {
                free(workspace);
                workspace = null;
                workspaceBytes = 0;
                workspace = alloc(w.bytes);
                workspaceBytes = w.bytes;
            }
            cuMemcpyHtoD(at(q), Pointer.to(hq), (long) batch * d * 4);
            cuMemcpyHtoD(at(qn), Pointer.to(hqn), batch * 4L);
            // column-major: S' (M × B, ld M) = Xᵀ (X is d × M, ld d) · Q (d × B, ld d): row-major S (B × M)
            jcuda.jcublas.JCublas2.cublasSgemm(handle, jcuda.jcublas.cublasOperation.CUBLAS_OP_T,
                    jcuda.jcublas.cublasOperation.CUBLAS_OP_N, (int) count, batch, d, Pointer.to(new float[] {1f}), x, d,
                    at(q), d, Pointer.to(new float[] {0f}), at(sc), (int) count);
            CUdeviceptr values = valuesArePatterns ? x : v;
            KernelArgs scores = KernelArgs.of(KernelTable.SCORES_PARTIALS)
                    .pointer("scores", at(sc)).i64("lds", count).pointer("v", values).i32("dv", dv)
                    .pointer("norms", norms).i64("from", 0).i64("to", count).pointer("qnorms", at(qn))
                    .i32("batch", batch).f32("beta", params.beta()).i32("k", k).i32("chunk", chunk)
                    .pointer("m", at(pm)).pointer("l", at(pl)).pointer("t", at(pt)).pointer("o", at(po))
                    .pointer("top_score", at(ps)).pointer("top_index", at(pi));
            device.launch(scores, chunks, batch, KernelTable.SCORES_THREADS, 0);
            KernelArgs merge = KernelArgs.of(KernelTable.RETRIEVE_MERGE)
                    .pointer("in_m", at(pm)).pointer("in_l", at(pl)).pointer("in_t", at(pt)).pointer("in_o", at(po))
                    .pointer("in_top_score", at(ps)).pointer("in_top_index", at(pi))
                    .i32("chunks", (int) chunks).i32("batch", batch).i32("dv", dv).i32("k", k)
                    .i64("count", count).i32("finish", 1).pointer("weights", at(wt))
                    .pointer("heads", at(hd)).pointer("out_a", at(oa)).pointer("out_b", at(ob))
                    .pointer("out_c", at(oc)).pointer("out_o", at(oo)).pointer("out_top_score", at(os))
                    .pointer("out_top_index", at(oi));
            device.launch(merge, batch, 1, KernelTable.MERGE_THREADS, 0);
            device.synchronize();
            cuMemcpyDtoH(Pointer.to(a), at(oa), batch * 4L);
            cuMemcpyDtoH(Pointer.to(b), at(ob), batch * 4L);
            cuMemcpyDtoH(Pointer.to(out), at(oo), (long) batch * dv * 4);
            if (k > 0) {
                cuMemcpyDtoH(Pointer.to(topScore), at(os), (long) batch * k * 4);
                cuMemcpyDtoH(Pointer.to(topIndex), at(oi), (long) batch * k * 8);
            }
        }
        return new RetrievalResult(batch, valueDim, k, out, a, b, topIndex, topScore);
    }

    private CUdeviceptr at(long offset) {
        return workspace.withByteOffset(offset);
    }

    /** Offsets of the workspace's parts, each 256-byte aligned (as libengram lays them out). */
    private static final class Workspace {
        long bytes;

        long take(long n) {
            long at = bytes;
            bytes += (n + 255) & ~255L;
            return at;
        }
    }

    private static CUdeviceptr alloc(long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, Math.max(bytes, 1));
        return p;
    }

    private static void free(CUdeviceptr p) {
        if (p != null) {
            cuMemFree(p);
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("this JCuda memory is closed");
        }
    }

    /** Frees the device memory this object owns (never a borrowed X or V). Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try (JCudaDevice.Scope ignored = device.enter()) {
            free(workspace);
            free(norms);
            if (!borrowed) {
                free(v);
                free(x);
            }
        }
    }
}
