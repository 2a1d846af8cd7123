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
 * grown by {@link #append}, queried many times. Owns a native handle: close it (or let the owning
 * {@link NativeBackend} do so). Thread-safe; calls on one memory are serialised because they share its device
 * workspace.
 */
public final class NativeMemory implements AutoCloseable {
    private long rewritesSeen;
    private final NativeLibrary lib;
    private final int dim;
    private final int valueDim;
    private final boolean valuesArePatterns;
    private final NativeStorage storage;
    private MemorySegment handle;

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
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            MemorySegment err = NativeLibrary.errorBuffer(arena);
            int st = (int) lib.memoryCreate.invokeExact(dim, valueDim, valuesArePatterns ? 1 : 0, storage.code, out, err,
                    NativeLibrary.errorCapacity());
            NativeLibrary.check(st, err, "engram_memory_create");
            return new NativeMemory(lib, dim, valueDim, valuesArePatterns, storage, out.get(ValueLayout.ADDRESS, 0));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
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
        try {
            return (long) lib.memorySize.invokeExact(live());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Device bytes held: patterns, values, norms and the retrieval workspace. */
    public synchronized long deviceBytes() {
        try {
            return (long) lib.memoryDeviceBytes.invokeExact(live());
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Appends n patterns and their values (null when V = X), converted to the storage type and uploaded.
     *
     * @param patterns n×d float32
     * @param values   n×dv float32, or null when V = X
     */
    public synchronized void append(FloatMatrix patterns, FloatMatrix values) {
        Objects.requireNonNull(patterns, "patterns");
        if (patterns.cols() != dim) {
            throw new IllegalArgumentException("patterns have d=" + patterns.cols() + " columns but this memory stores d=" + dim);
        }
        if (values != null && (values.cols() != valueDim || values.rows() != patterns.rows())) {
            throw new IllegalArgumentException("values are " + values.rows() + "×" + values.cols() + " but "
                    + patterns.rows() + "×" + valueDim + " is needed");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment err = NativeLibrary.errorBuffer(arena);
            MemorySegment x = dense(patterns, arena);
            MemorySegment v = values == null ? MemorySegment.NULL : dense(values, arena);
            int st = (int) lib.memoryAppend.invokeExact(live(), x, v, patterns.rows(), err, NativeLibrary.errorCapacity());
            NativeLibrary.check(st, err, "engram_memory_append");
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
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
     * True when {@code memory} was edited in place ({@link PatternMemory#replace}) since this copy was synced: the
     * copy must then be rebuilt, appends alone cannot bring it up to date.
     */
    synchronized boolean staleFor(PatternMemory memory) {
        return size() > 0 && rewritesSeen != memory.rewrites();
    }

    /** Uploads the rows of {@code memory} this device copy does not hold yet (appended since the last sync). */
    synchronized void syncWith(PatternMemory memory) {
        long have = size();
        long want = memory.size();
        if (have == 0) {
            rewritesSeen = memory.rewrites();
        }
        if (have == want) {
            return;
        }
        if (have > want) {
            throw new IllegalStateException("device copy holds " + have + " patterns but the memory only " + want);
        }
        append(memory.patterns().rows(have, want), memory.valuesArePatterns() ? null : memory.values().rows(have, want));
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

    private static MemorySegment launch(LaunchShape shape, Arena arena) {
        MemorySegment s = arena.allocate(3 * Integer.BYTES, 4);
        s.set(JAVA_INT, 0, shape.blockThreads());
        s.set(JAVA_INT, 4, shape.chunk());
        s.set(JAVA_INT, 8, shape.queryTile());
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
        try (Arena arena = Arena.ofConfined()) {
            Queries q = Queries.of(queries, arena);
            MemorySegment out = arena.allocate((long) b * valueDim * Float.BYTES, 64);
            MemorySegment entropy = arena.allocate((long) b * Float.BYTES, 64);
            MemorySegment confidence = arena.allocate((long) b * Float.BYTES, 64);
            MemorySegment idx = k == 0 ? MemorySegment.NULL : arena.allocate((long) b * k * Long.BYTES, 64);
            MemorySegment score = k == 0 ? MemorySegment.NULL : arena.allocate((long) b * k * Float.BYTES, 64);
            MemorySegment err = NativeLibrary.errorBuffer(arena);
            int st = (int) lib.retrieve.invokeExact(live(), q.segment(), (long) b, q.stride(), params.beta(), k, from, to,
                    launch(shape, arena), out, entropy, confidence, idx, score, err, NativeLibrary.errorCapacity());
            NativeLibrary.check(st, err, "engram_retrieve");
            return new RetrievalResult(b, valueDim, k, out.toArray(JAVA_FLOAT), entropy.toArray(JAVA_FLOAT),
                    confidence.toArray(JAVA_FLOAT), k == 0 ? new long[0] : idx.toArray(JAVA_LONG),
                    k == 0 ? new float[0] : score.toArray(JAVA_FLOAT));
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
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
        try (Arena arena = Arena.ofConfined()) {
            Queries q = Queries.of(queries, arena);
            MemorySegment m = arena.allocate((long) b * Float.BYTES, 64);
            MemorySegment l = arena.allocate((long) b * Float.BYTES, 64);
            MemorySegment t = arena.allocate((long) b * Float.BYTES, 64);
            MemorySegment o = arena.allocate((long) b * valueDim * Float.BYTES, 64);
            MemorySegment idx = k == 0 ? MemorySegment.NULL : arena.allocate((long) b * k * Long.BYTES, 64);
            MemorySegment score = k == 0 ? MemorySegment.NULL : arena.allocate((long) b * k * Float.BYTES, 64);
            MemorySegment err = NativeLibrary.errorBuffer(arena);
            int st = (int) lib.retrievePartial.invokeExact(live(), q.segment(), (long) b, q.stride(), params.beta(), k,
                    from, to, launch(shape, arena), m, l, t, o, idx, score, err, NativeLibrary.errorCapacity());
            NativeLibrary.check(st, err, "engram_retrieve_partial");
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
                    long index = idx.getAtIndex(JAVA_LONG, (long) i * k + j);
                    if (index >= 0) {
                        top[i].offer(score.getAtIndex(JAVA_FLOAT, (long) i * k + j), index);
                    }
                }
            }
            for (int i = 0; i < out.length; i++) {
                out[i] = o.getAtIndex(JAVA_FLOAT, i);
            }
            return new RetrievalPartial(b, valueDim, k, to - from, max, sum, shifted, out, top);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Frees the device memory. Idempotent. */
    @Override
    public synchronized void close() {
        if (handle != null) {
            try {
                lib.memoryDestroy.invokeExact(handle);
            } catch (Throwable t) {
                throw new IllegalStateException(t);
            } finally {
                handle = null;
            }
        }
    }

    @Override
    public String toString() {
        return "NativeMemory[" + lib.variant + ", d=" + dim + (valuesArePatterns ? ", V=X" : ", dv=" + valueDim) + ", "
                + storage + (handle == null ? ", closed" : "") + "]";
    }
}
