package dev.engram.engine.ffm;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.TopK;
import dev.engram.tensor.FloatMatrix;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Patterns X (M×d), values V (M×dv, or V = X) and their norms held in device memory by libengram: uploaded once,
 * grown by {@link #append}, rows overwritten in place by {@link #write}, queried many times. Owns a native handle:
 * close it (or let the owning {@link NativeBackend} do so). Thread-safe; calls on one memory are serialised because
 * they share its device workspace.
 */
public final class NativeMemory implements AutoCloseable {
    private final NativeLibrary lib;
    private final int dim;
    private final int valueDim;
    private final boolean valuesArePatterns;
    private final NativeStorage storage;
    private MemorySegment handle;
    /** The {@link PatternMemory#version()} this copy last caught up with; -1 before the first sync. */
    private long versionSeen = -1;
    /** Rows handed to the library by append and write, for tests that check only changed rows travel. */
    private long rowsUploaded;

    private NativeMemory(NativeLibrary lib, int dim, int valueDim, boolean valuesArePatterns, NativeStorage storage,
                         MemorySegment handle) {
        this.lib = lib;
        this.dim = dim;
        this.valueDim = valueDim;
        this.valuesArePatterns = valuesArePatterns;
        this.storage = storage;
        this.handle = handle;
    }

    /** An empty device memory for d-dimensional patterns and dv-dimensional values (or V = X), stored as {@code storage}. */
    static NativeMemory create(NativeLibrary lib, int dim, int valueDim, boolean valuesArePatterns, NativeStorage storage) {
        Objects.requireNonNull(storage, "storage");
        return NativeCall.run("engram_memory_create", c -> {
            MemorySegment out = c.arena().allocate(ValueLayout.ADDRESS);
            c.check((int) lib.memoryCreate.invokeExact(dim, valueDim, valuesArePatterns ? 1 : 0, storage.code, out,
                    c.err(), c.errCap()));
            return new NativeMemory(lib, dim, valueDim, valuesArePatterns, storage, out.get(ValueLayout.ADDRESS, 0));
        });
    }

    public int dim() {
        return dim;
    }

    public int valueDim() {
        return valueDim;
    }

    public NativeStorage storage() {
        return storage;
    }

    private MemorySegment live() {
        if (handle == null) {
            throw new IllegalStateException("this NativeMemory is closed");
        }
        return handle;
    }

    /** Number of stored patterns M. */
    public synchronized long size() {
        MemorySegment h = live();
        return NativeCall.plain("engram_memory_size", () -> (long) lib.memorySize.invokeExact(h));
    }

    /** Device bytes held: patterns, values, norms and the retrieval workspace. */
    public synchronized long deviceBytes() {
        MemorySegment h = live();
        return NativeCall.plain("engram_memory_device_bytes", () -> (long) lib.memoryDeviceBytes.invokeExact(h));
    }

    /** Rows uploaded so far by {@link #append} and {@link #write} (each row counted once per upload). */
    synchronized long rowsUploaded() {
        return rowsUploaded;
    }

    /**
     * Appends n patterns and their values (null when V = X), converted to the storage type and uploaded.
     *
     * @param patterns n×d float32
     * @param values   n×dv float32, or null when V = X
     */
    public synchronized void append(FloatMatrix patterns, FloatMatrix values) {
        checkRows(patterns, values);
        MemorySegment h = live();
        NativeCall.run("engram_memory_append", c -> {
            MemorySegment x = dense(patterns, c.arena());
            MemorySegment v = values == null ? MemorySegment.NULL : dense(values, c.arena());
            c.check((int) lib.memoryAppend.invokeExact(h, x, v, patterns.rows(), c.err(), c.errCap()));
            return null;
        });
        rowsUploaded += patterns.rows();
    }

    /**
     * Overwrites stored rows in place: row {@code rows[i]} gets pattern row i (and value row i; null when V = X),
     * converted to the storage type, its norm recomputed. Ascending rows are cheapest (each run of consecutive rows
     * is one copy).
     *
     * @param rows     n row indices in [0, M)
     * @param patterns n×d float32
     * @param values   n×dv float32, or null when V = X
     */
    public synchronized void write(long[] rows, FloatMatrix patterns, FloatMatrix values) {
        Objects.requireNonNull(rows, "rows");
        checkRows(patterns, values);
        if (rows.length != patterns.rows()) {
            throw new IllegalArgumentException("rows lists " + rows.length + " indices but patterns have "
                    + patterns.rows() + " rows");
        }
        write(rows, patterns, values, false);
    }

    /**
     * engram_memory_write of {@code rows}; their patterns are rows 0..n-1 of x and v, or with {@code gather} rows
     * {@code rows[i]} of x and v (packed into the call's arena).
     */
    private void write(long[] rows, FloatMatrix x, FloatMatrix v, boolean gather) {
        MemorySegment h = live();
        NativeCall.run("engram_memory_write", c -> {
            MemorySegment idx = c.arena().allocateFrom(JAVA_LONG, rows);
            MemorySegment px = gather ? gathered(x, rows, c.arena()) : dense(x, c.arena());
            MemorySegment pv = v == null ? MemorySegment.NULL : gather ? gathered(v, rows, c.arena()) : dense(v, c.arena());
            c.check((int) lib.memoryWrite.invokeExact(h, idx, (long) rows.length, px, pv, c.err(), c.errCap()));
            return null;
        });
        rowsUploaded += rows.length;
    }

    /** Rows {@code rows[i]} of m packed densely into arena. */
    private static MemorySegment gathered(FloatMatrix m, long[] rows, Arena arena) {
        long rowBytes = (long) m.cols() * Float.BYTES;
        MemorySegment packed = arena.allocate(Math.max(1, rows.length * rowBytes), 64);
        for (int i = 0; i < rows.length; i++) {
            MemorySegment.copy(m.segment(), m.offset(rows[i], 0), packed, i * rowBytes, rowBytes);
        }
        return packed;
    }

    private void checkRows(FloatMatrix patterns, FloatMatrix values) {
        Objects.requireNonNull(patterns, "patterns");
        if (patterns.cols() != dim) {
            throw new IllegalArgumentException("patterns have d=" + patterns.cols() + " columns but this memory stores d=" + dim);
        }
        if (values != null && (values.cols() != valueDim || values.rows() != patterns.rows())) {
            throw new IllegalArgumentException("values are " + values.rows() + "×" + values.cols() + " but "
                    + patterns.rows() + "×" + valueDim + " is needed");
        }
    }

    /** The matrix's own off-heap bytes when dense and native (no copy), else a dense native copy in arena. */
    private static MemorySegment dense(FloatMatrix m, Arena arena) {
        if (m.isContiguous() && m.segment().isNative()) {
            return m.segment();
        }
        MemorySegment copy = arena.allocate(Math.max(1, m.rows() * m.cols()) * Float.BYTES, 64);
        for (long r = 0; r < m.rows(); r++) {
            MemorySegment.copy(m.segment(), m.offset(r, 0), copy, r * m.cols() * Float.BYTES, (long) m.cols() * Float.BYTES);
        }
        return copy;
    }

    /**
     * Brings this copy up to date with {@code memory}: rows replaced since the last sync are written in place
     * ({@link PatternMemory#replacedSince}), rows appended since are appended. Every row is rewritten only when the
     * memory's change log no longer reaches back to the last sync, or when more than half the rows changed (then one
     * contiguous upload beats scattered ones).
     */
    synchronized void syncWith(PatternMemory memory) {
        long want = memory.size();
        if (versionSeen == memory.version()) {
            return;
        }
        long have = size();
        if (have > want) {
            throw new IllegalStateException("device copy holds " + have + " patterns but the memory only " + want);
        }
        if (have > 0) {
            PatternMemory.ReplacedRows changed = memory.replacedSince(versionSeen);
            long[] rows = changed.rows();
            int stale = 0;
            while (stale < rows.length && rows[stale] < have) {
                stale++;  // rows at or past `have` travel with the append below
            }
            if (!changed.complete() || stale > have / 2) {
                long[] all = new long[(int) have];
                for (int i = 0; i < all.length; i++) {
                    all[i] = i;
                }
                write(all, memory.patterns().rows(0, have), valuesOf(memory, 0, have), false);
            } else if (stale > 0) {
                write(java.util.Arrays.copyOf(rows, stale), memory.patterns(), valuesOf(memory, 0, have), true);
            }
        }
        if (want > have) {
            append(memory.patterns().rows(have, want), valuesOf(memory, have, want));
        }
        versionSeen = memory.version();
    }

    private static FloatMatrix valuesOf(PatternMemory memory, long from, long to) {
        return memory.valuesArePatterns() ? null : memory.values().rows(from, to);
    }

    /** Queries as the library wants them: their own native segment and row stride, or a dense copy. */
    private record Queries(MemorySegment segment, long stride) {
        static Queries of(FloatMatrix q, Arena arena) {
            if (q.segment().isNative()) {
                return new Queries(q.segment(), q.rows() <= 1 ? q.cols() : q.rowStride());
            }
            return new Queries(dense(q, arena), q.cols());
        }
    }

    private static MemorySegment floats(Arena arena, long n) {
        return arena.allocate(n * Float.BYTES, 64);
    }

    /** The top_index (B×k int64) and top_score (B×k float) outputs; NULL when k = 0. */
    private record TopOut(MemorySegment index, MemorySegment score) {
        static TopOut of(Arena arena, int b, int k) {
            return k == 0 ? new TopOut(MemorySegment.NULL, MemorySegment.NULL)
                    : new TopOut(arena.allocate((long) b * k * Long.BYTES, 64), floats(arena, (long) b * k));
        }

        long[] indices() {
            return index.equals(MemorySegment.NULL) ? new long[0] : index.toArray(JAVA_LONG);
        }

        float[] scores() {
            return score.equals(MemorySegment.NULL) ? new float[0] : score.toArray(JAVA_FLOAT);
        }
    }

    private static MemorySegment launch(LaunchShape shape, Arena arena) {
        MemorySegment s = arena.allocate(4 * Integer.BYTES, 4);  // engram.h's struct engram_launch
        s.set(JAVA_INT, 0, shape.blockThreads());
        s.set(JAVA_INT, 4, shape.chunk());
        s.set(JAVA_INT, 8, shape.queryTile());
        s.set(JAVA_INT, 12, shape.kernel());
        return s;
    }

    /**
     * Finished retrieval over patterns {@code [from, to)}: output (B×dv), entropy, confidence, cosine top-k.
     *
     * @param queries B×d float32
     */
    public synchronized RetrievalResult retrieve(FloatMatrix queries, RetrievalParams params, long from, long to,
                                                 LaunchShape shape) {
        int b = (int) queries.rows();
        int k = params.k();
        MemorySegment h = live();
        return NativeCall.run("engram_retrieve", c -> {
            Arena arena = c.arena();
            Queries q = Queries.of(queries, arena);
            MemorySegment out = floats(arena, (long) b * valueDim);
            MemorySegment entropy = floats(arena, b);
            MemorySegment confidence = floats(arena, b);
            TopOut top = TopOut.of(arena, b, k);
            c.check((int) lib.retrieve.invokeExact(h, q.segment(), (long) b, q.stride(), params.beta(), k, from, to,
                    launch(shape, arena), out, entropy, confidence, top.index, top.score, c.err(), c.errCap()));
            return new RetrievalResult(b, valueDim, k, out.toArray(JAVA_FLOAT), entropy.toArray(JAVA_FLOAT),
                    confidence.toArray(JAVA_FLOAT), top.indices(), top.scores());
        });
    }

    /**
     * The mergeable partial state over patterns {@code [from, to)} (see {@link RetrievalPartial}; the device keeps
     * t relative to m too, so these partials merge with those of the Java engines).
     *
     * @param queries B×d float32
     */
    public synchronized RetrievalPartial retrievePartial(FloatMatrix queries, RetrievalParams params, long from, long to,
                                                         LaunchShape shape) {
        int b = (int) queries.rows();
        int k = params.k();
        MemorySegment h = live();
        return NativeCall.run("engram_retrieve_partial", c -> {
            Arena arena = c.arena();
            Queries q = Queries.of(queries, arena);
            MemorySegment m = floats(arena, b);
            MemorySegment l = floats(arena, b);
            MemorySegment t = floats(arena, b);
            MemorySegment o = floats(arena, (long) b * valueDim);
            TopOut tops = TopOut.of(arena, b, k);
            c.check((int) lib.retrievePartial.invokeExact(h, q.segment(), (long) b, q.stride(), params.beta(), k,
                    from, to, launch(shape, arena), m, l, t, o, tops.index, tops.score, c.err(), c.errCap()));
            long[] idx = tops.indices();
            float[] score = tops.scores();
            double[] max = new double[b];
            double[] sum = new double[b];
            double[] shifted = new double[b];
            double[] out = new double[b * valueDim];
            TopK[] top = new TopK[b];
            for (int i = 0; i < b; i++) {
                max[i] = m.getAtIndex(JAVA_FLOAT, i);
                sum[i] = l.getAtIndex(JAVA_FLOAT, i);
                shifted[i] = t.getAtIndex(JAVA_FLOAT, i);
                top[i] = new TopK(k);
                for (int j = 0; j < k; j++) {
                    long index = idx[i * k + j];
                    if (index >= 0) {
                        top[i].offer(score[i * k + j], index);
                    }
                }
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = o.getAtIndex(JAVA_FLOAT, i);
            }
            return new RetrievalPartial(b, valueDim, k, to - from, max, sum, shifted, out, top);
        });
    }

    /** Frees the device memory. Idempotent. */
    @Override
    public synchronized void close() {
        if (handle != null) {
            MemorySegment h = handle;
            handle = null;
            NativeCall.plain("engram_memory_destroy", () -> {
                lib.memoryDestroy.invokeExact(h);
                return null;
            });
        }
    }

    @Override
    public String toString() {
        return "NativeMemory[" + lib.variant + ", d=" + dim + (valuesArePatterns ? ", V=X" : ", dv=" + valueDim) + ", "
                + storage + (handle == null ? ", closed" : "") + "]";
    }
}
