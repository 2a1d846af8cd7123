package dev.engram.engine.cpu;

import dev.engram.engine.Backend;
import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalChecks;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.TrainingModel;
import dev.engram.engine.TrainingSamples;
import dev.engram.engine.TrainingSession;
import dev.engram.tensor.FloatMatrix;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CPU engine: one fused pass over the memory (online softmax, the B×M scores never materialised), Vector API,
 * all cores. The memory range is split across threads, each keeps a {@link RetrievalPartial}, and the partials are
 * merged exactly. Small batches take {@link RowWorker} (vectors along d, memory-bound), larger ones
 * {@link TileWorker} (vectors along queries, register-blocked, compute-bound).
 *
 * <p>Accuracy against the reference engine: scores are float32 dot products (relative error about d·2⁻²⁴ of
 * ‖q‖·‖x‖), sums run in float32 over at most ~2k patterns and then in double. The exponent of the online softmax is
 * z − m with z = beta·s rounded and m the running maximum of the rounded z, so it is never positive: any finite
 * float32 logit works (a logit beyond float32 is an {@code IllegalArgumentException} naming it).
 *
 * <p>Reproducible: the same inputs and {@link Config} give the same bits on every run, at every thread count, at
 * 128-, 256- and 512-bit vectors and in every JIT tier (see {@link ReproducibleMath}: no vector maths library,
 * no unordered lane reductions; pieces of the memory are merged in a fixed order).
 */
public final class CpuBackend implements Backend, AutoCloseable {

    /**
     * Tuning knobs; results do not depend on them beyond round-off (the tests check that), and on the thread count
     * not at all.
     *
     * @param threads            worker threads (the calling thread is one of them)
     * @param chunk              patterns per chunk (the unit of streaming and of the online-softmax update)
     * @param queryTile          queries per tile in the batched path; a multiple of the vector lane count
     * @param rowPathMaxBatch    batches up to this size take the small-batch path
     * @param minPatternsPerTask patterns per piece of the memory handed to a thread (rounded up to whole chunks);
     *                           pieces are fixed by this and the range, never by the thread count
     */
    public record Config(int threads, int chunk, int queryTile, int rowPathMaxBatch, int minPatternsPerTask) {
        public Config {
            if (threads < 1) {
                throw new IllegalArgumentException("threads must be >= 1, got " + threads);
            }
            if (chunk < 1) {
                throw new IllegalArgumentException("chunk must be >= 1, got " + chunk);
            }
            if (queryTile < CpuVectors.LANES || queryTile % CpuVectors.LANES != 0) {
                throw new IllegalArgumentException("queryTile must be a positive multiple of " + CpuVectors.LANES
                        + " (the vector lane count), got " + queryTile);
            }
            if (rowPathMaxBatch < 0) {
                throw new IllegalArgumentException("rowPathMaxBatch must be >= 0, got " + rowPathMaxBatch);
            }
            if (minPatternsPerTask < 1) {
                throw new IllegalArgumentException("minPatternsPerTask must be >= 1, got " + minPatternsPerTask);
            }
        }

        /**
         * All cores, 128-pattern chunks, 64-query tiles, the row path up to B = 5 (measured on 2 Zen 4 cores with
         * the 8×1 tile micro-kernel, d = 32 and 64, M = 10^5 on one thread and 10^6 on two: the row path is faster up
         * to B = 4, the tiled path from B = 6; at M = 10^6, B = 8: 26 ms against 42 ms).
         */
        public static Config defaults() {
            return new Config(Runtime.getRuntime().availableProcessors(), 128,
                    Math.max(CpuVectors.LANES, 64 / CpuVectors.LANES * CpuVectors.LANES), 5, 16384);
        }

        /** These settings with {@code threads} worker threads. */
        public Config withThreads(int threads) {
            return new Config(threads, chunk, queryTile, rowPathMaxBatch, minPatternsPerTask);
        }
    }

    /** How the engine reads stored patterns. */
    public enum Storage {
        /** The memory's own float32 patterns. */
        F32,
        /**
         * A bfloat16 copy of the patterns (and of the values when V = X), made on first use and updated row by row
         * when the memory changes: half the bytes per pass, results as on the rounded patterns. Separate values stay
         * float32.
         */
        BF16,
        /**
         * An 8-bit scalar-quantised copy of the patterns ({@link Sq8Patterns}: one byte per element, a quarter of the
         * bytes per pass), updated as the bf16 copy is. Scores and all sums in float32 on the decoded codes. The
         * top-k is exact: candidates are kept by an upper bound of their float32 cosine and re-ranked against the
         * float32 rows of the candidates only, so it equals the {@link #F32} engine's (when the bound cannot prove
         * that, that query's range is scanned again in float32). The softmax runs on the quantised scores: with
         * ε = {@link CpuBackend#sq8ScoreErrorBounds} the logits move by at most βε, so each output element moves by
         * at most (e^(2βε) − 1)·(hi_j − lo_j)/2 + scale_j/2 from the float32 engine's when V = X (separate values
         * are read in float32: (e^(2βε) − 1)·(max_i v_ij − min_i v_ij)/2), and the entropy by at most
         * 2βε + (e^(2βε) − 1)·β·(max_i q·x_i − min_i q·x_i)/2. Retrieval only: training and ensembles are as F32.
         */
        SQ8
    }

    private static volatile CpuBackend shared;
    private static volatile CpuBackend sharedBf16;
    private static volatile CpuBackend sharedSq8;

    private final Config config;
    private final Storage storage;
    private final ExecutorService pool;
    private final java.util.Map<PatternMemory, Bf16Patterns> bf16 =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    private final java.util.Map<PatternMemory, Sq8Patterns> sq8 =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
    /** SQ8: query ranges whose candidates could not prove the top-k and were scanned again in float32 (tests). */
    private final java.util.concurrent.atomic.AtomicLong sq8Rescans = new java.util.concurrent.atomic.AtomicLong();

    public CpuBackend() {
        this(Config.defaults());
    }

    public CpuBackend(Config config) {
        this(config, Storage.F32);
    }

    public CpuBackend(Config config, Storage storage) {
        this.config = config;
        this.storage = java.util.Objects.requireNonNull(storage, "storage");
        AtomicInteger n = new AtomicInteger();
        this.pool = config.threads() == 1 ? null : Executors.newFixedThreadPool(config.threads() - 1, r -> {
            Thread t = new Thread(r, "engram-cpu-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** The process-wide instance with default settings. */
    public static CpuBackend shared() {
        CpuBackend s = shared;
        if (s == null) {
            synchronized (CpuBackend.class) {
                s = shared;
                if (s == null) {
                    s = new CpuBackend();
                    shared = s;
                }
            }
        }
        return s;
    }

    /** The process-wide instance with default settings reading bfloat16 copies of the patterns. */
    public static CpuBackend sharedBf16() {
        CpuBackend s = sharedBf16;
        if (s == null) {
            synchronized (CpuBackend.class) {
                s = sharedBf16;
                if (s == null) {
                    s = new CpuBackend(Config.defaults(), Storage.BF16);
                    sharedBf16 = s;
                }
            }
        }
        return s;
    }

    /** The process-wide instance with default settings reading 8-bit scalar-quantised copies of the patterns. */
    public static CpuBackend sharedSq8() {
        CpuBackend s = sharedSq8;
        if (s == null) {
            synchronized (CpuBackend.class) {
                s = sharedSq8;
                if (s == null) {
                    s = new CpuBackend(Config.defaults(), Storage.SQ8);
                    sharedSq8 = s;
                }
            }
        }
        return s;
    }

    /** Float lanes per vector in this JVM (16 for 512-bit vectors); see {@code engram.cpu.vectorBits}. */
    public static int vectorLanes() {
        return CpuVectors.LANES;
    }

    public Config config() {
        return config;
    }

    public Storage storage() {
        return storage;
    }

    @Override
    public String name() {
        return switch (storage) {
            case F32 -> "cpu";
            case BF16 -> "cpu-bf16";
            case SQ8 -> "cpu-sq8";
        };
    }

    /** One line on how this engine runs: threads, vector width, storage. */
    public String describe() {
        return config.threads() + " threads, " + CpuVectors.SPECIES.vectorBitSize() + "-bit vectors ("
                + CpuVectors.LANES + " float lanes)" + switch (storage) {
                    case F32 -> "";
                    case BF16 -> ", bfloat16 patterns";
                    case SQ8 -> ", 8-bit scalar-quantised patterns, exact top-k";
                };
    }

    /** The bfloat16 copy of {@code memory}, made on first use and brought up to date (changed rows only). */
    private Bf16Patterns bf16Of(PatternMemory memory) {
        synchronized (bf16) {
            Bf16Patterns p = bf16.computeIfAbsent(memory, m -> new Bf16Patterns(m.dim()));
            p.syncWith(memory);
            return p;
        }
    }

    /** The SQ8 copy of {@code memory}, made on first use and brought up to date. */
    private Sq8Patterns sq8Of(PatternMemory memory) {
        synchronized (sq8) {
            Sq8Patterns p = sq8.computeIfAbsent(memory, m -> new Sq8Patterns(m.dim()));
            p.syncWith(memory);
            return p;
        }
    }

    /**
     * The SQ8 score bound ε per query: |q·x̃ − q·x| ≤ ε for every pattern x of {@code memory} and its quantised
     * x̃, float32 rounding included (see {@link Storage#SQ8} for what it bounds in the output).
     */
    public double[] sq8ScoreErrorBounds(PatternMemory memory, FloatMatrix queries) {
        Sq8Patterns p = sq8Of(memory);
        float[] q = queries.toArray();
        double[] out = new double[(int) queries.rows()];
        for (int b = 0; b < out.length; b++) {
            out[b] = p.scoreErrorBound(q, b * queries.cols());
        }
        return out;
    }

    /** The SQ8 per-dimension range [lo_j, hi_j] and step scale_j of {@code memory}'s copy: {lo, hi, scale}. */
    public float[][] sq8Ranges(PatternMemory memory) {
        Sq8Patterns p = sq8Of(memory);
        return new float[][] {p.lo.clone(), p.hi.clone(), p.scale.clone()};
    }

    /** SQ8: query ranges scanned again in float32 because the candidates could not prove the top-k (tests). */
    long sq8Rescans() {
        return sq8Rescans.get();
    }

    /** Rows encoded into the SQ8 copy of {@code memory} and times its ranges were derived again, for tests. */
    long[] sq8Encoded(PatternMemory memory) {
        synchronized (sq8) {
            Sq8Patterns p = sq8.get(memory);
            return p == null ? new long[2] : new long[] {p.rowsEncoded(), p.rebuilds()};
        }
    }

    /** Rows converted into the bfloat16 copy of {@code memory} so far (0 when there is none), for tests. */
    long bf16RowsConverted(PatternMemory memory) {
        synchronized (bf16) {
            Bf16Patterns p = bf16.get(memory);
            return p == null ? 0 : p.rowsConverted();
        }
    }

    /**
     * The range is cut into pieces of {@link Config#minPatternsPerTask()} patterns (rounded up to whole chunks),
     * counted from {@code from}; threads take pieces as they come free, and the pieces' partials are merged in
     * order. Neither the cut nor the merge order depends on the thread count, so neither do the result's bits.
     */
    @Override
    public RetrievalPartial retrievePartial(PatternMemory memory, long from, long to, FloatMatrix queries,
                                            RetrievalParams params) {
        RetrievalChecks.check(memory, from, to, queries, params);
        if (storage == Storage.SQ8) {
            return retrieveSq8(memory, from, to, queries, params);
        }
        PreparedQueries q = new PreparedQueries(queries);
        Bf16Patterns half = storage == Storage.BF16 ? bf16Of(memory) : null;
        long n = to - from;
        int chunk = config.chunk();
        long piece = ((long) config.minPatternsPerTask() + chunk - 1) / chunk * chunk;
        int pieces = (int) Math.max(1, (n + piece - 1) / piece);
        RetrievalPartial[] parts = new RetrievalPartial[pieces];
        runParallel(pieces, () -> i -> {
            long a = from + i * piece;
            parts[i] = runRange(memory, half, q, params, a, Math.min(to, a + piece));
        }, "retrieval");
        RetrievalPartial acc = parts[0];
        for (int i = 1; i < pieces; i++) {
            acc = acc.merge(parts[i]);
        }
        return acc;
    }

    /** Candidates an SQ8 pass keeps per query for a top-k of k: 2k + 32 (0 for k = 0). */
    static int sq8Candidates(int k) {
        return k == 0 ? 0 : 2 * k + 32;
    }

    /**
     * The SQ8 pass: the row path over the codes for small batches, the tile path over chunks decoded to float32
     * for larger ones (candidates by cosine upper bound), pieces merged as in {@link #retrievePartial}, then per query the candidates re-ranked by their float32 cosine computed exactly
     * as the F32 engine computes it for this batch size ({@link #exactCosine}); o decoded from code space when
     * V = X. The top-k is proven when the k-th exact cosine exceeds the largest bound among the patterns left out
     * (the k'-th candidate's, when k' were kept); otherwise the query's range is scanned again in float32.
     */
    private RetrievalPartial retrieveSq8(PatternMemory memory, long from, long to, FloatMatrix queries,
                                         RetrievalParams params) {
        return retrieveSq8(sq8Of(memory), new ExactRows(new long[] {0, memory.size()},
                        new MemorySegment[] {memory.patterns().segment()}), memory.norms().segment(),
                memory.values().segment(), memory.valueDim(), memory.valuesArePatterns(), from, to, queries, params);
    }

    /**
     * Float32 rows for the exact re-ranking, in shards: shard s holds rows [starts[s], starts[s + 1]) in
     * {@code segments[s]} (row-major, width d).
     */
    record ExactRows(long[] starts, MemorySegment[] segments) {
        int shardOf(long row) {
            int i = java.util.Arrays.binarySearch(starts, row);
            return i >= 0 ? Math.min(i, segments.length - 1) : -i - 2;
        }
    }

    /**
     * Retrieval over {@code memory}'s mapped SQ8 codes ({@link MappedSq8Memory}): V = X, the top-k exact against the
     * float32 shards it was converted from (candidate rows only), the output as for {@link Storage#SQ8}. Runs on this
     * engine's threads whatever its storage. Nothing is copied to the heap: the codes, norms and shards are read
     * where they are mapped.
     */
    public RetrievalPartial retrievePartial(MappedSq8Memory memory, long from, long to, FloatMatrix queries,
                                            RetrievalParams params) {
        java.util.Objects.requireNonNull(memory, "memory");
        java.util.Objects.requireNonNull(queries, "queries");
        java.util.Objects.requireNonNull(params, "params");
        if (from < 0 || to > memory.size() || from >= to) {
            throw new IllegalArgumentException("pattern range [" + from + ", " + to + ") is empty or outside 0.."
                    + memory.size());
        }
        if (queries.rows() < 1 || queries.cols() != memory.dim()) {
            throw new IllegalArgumentException("queries must be B×" + memory.dim() + " with B >= 1, got "
                    + queries.rows() + "×" + queries.cols());
        }
        if (params.k() > to - from) {
            throw new IllegalArgumentException("k=" + params.k() + " exceeds the " + (to - from) + " patterns of the range");
        }
        queries.requireFinite("queries");
        return retrieveSq8(memory.patterns(), memory.rows(), memory.norms(), null, memory.dim(), true, from, to,
                queries, params);
    }

    /** {@link #retrievePartial(MappedSq8Memory, long, long, FloatMatrix, RetrievalParams)} over the whole memory. */
    public dev.engram.engine.RetrievalResult retrieve(MappedSq8Memory memory, FloatMatrix queries,
                                                      RetrievalParams params) {
        return retrievePartial(memory, 0, memory.size(), queries, params).finish();
    }

    private RetrievalPartial retrieveSq8(Sq8Patterns sq, ExactRows rows, MemorySegment norms, MemorySegment vs,
                                         int dv, boolean valuesAreX, long from, long to, FloatMatrix queries,
                                         RetrievalParams params) {
        PreparedQueries q = new PreparedQueries(queries);
        int k = params.k();
        int kc = sq8Candidates(k);
        long n = to - from;
        int chunk = config.chunk();
        long piece = ((long) config.minPatternsPerTask() + chunk - 1) / chunk * chunk;
        int pieces = (int) Math.max(1, (n + piece - 1) / piece);
        RetrievalPartial[] parts = new RetrievalPartial[pieces];
        boolean rowOrder = q.batch <= config.rowPathMaxBatch();
        runParallel(pieces, () -> i -> {
            long a = from + i * piece;
            RangeWorker w = rowOrder
                    ? new RowWorker(q, dv, params.beta(), kc, chunk, null, vs, norms, false, false, sq, valuesAreX)
                    : new TileWorker(q, dv, params.beta(), kc, chunk, config.queryTile(), null, vs, norms, valuesAreX,
                            false, sq);
            parts[i] = w.run(a, Math.min(to, a + piece), Math.max(1, 2048 / chunk));
        }, "retrieval");
        RetrievalPartial acc = parts[0];
        for (int i = 1; i < pieces; i++) {
            acc = acc.merge(parts[i]);
        }
        int batch = q.batch;
        double[] m = new double[batch];
        double[] l = new double[batch];
        double[] t = new double[batch];
        double[] o = new double[batch * dv];
        dev.engram.engine.TopK[] top = new dev.engram.engine.TopK[batch];
        // the row path leaves o in code space when V = X; the tile path decodes the chunks, so o is in value space
        boolean codeSpace = valuesAreX && rowOrder;
        for (int b = 0; b < batch; b++) {
            m[b] = acc.max(b);
            l[b] = acc.sum(b);
            t[b] = acc.shifted(b);
            for (int j = 0; j < dv; j++) {
                o[b * dv + j] = codeSpace ? sq.offset[j] * l[b] + sq.scale[j] * acc.out(b, j) : acc.out(b, j);
            }
            dev.engram.engine.TopK cand = acc.top(b);
            dev.engram.engine.TopK exact = new dev.engram.engine.TopK(k);
            for (int i = 0; i < cand.size(); i++) {
                long row = cand.index(i);
                int s = rows.shardOf(row);
                exact.offer(exactCosine(rows.segments()[s], row - rows.starts()[s], norms, q, b, row, rowOrder), row);
            }
            boolean proven = k == 0 || cand.size() < kc || exact.size() == k && exact.score(k - 1) > cand.threshold();
            if (!proven) {
                sq8Rescans.incrementAndGet();
                exact = rescanF32(rows, norms, queries, b, params, from, to, rowOrder);
            }
            top[b] = exact;
        }
        return new RetrievalPartial(batch, dv, k, n, m, l, t, o, top);
    }

    /**
     * The float32 cosine of query b and pattern {@code row}, bit for bit as the F32 engine computes it: on the row
     * path a dot product in the 16 virtual lanes of {@link ReproducibleMath} (element j in lane j mod 16, one FMA
     * chain per lane, then the lanes' fixed tree), on the tile path one FMA chain over j; then s·(1/‖q‖)·(1/‖x‖).
     */
    static float exactCosine(MemorySegment xs, long localRow, MemorySegment norms, PreparedQueries q, int b, long row,
                             boolean rowOrder) {
        int d = q.dim;
        long base = localRow * d;
        float s;
        if (rowOrder) {
            float[] lanes = new float[ReproducibleMath.VIRTUAL_LANES];
            for (int j = 0; j < d; j++) {
                int lane = j % ReproducibleMath.VIRTUAL_LANES;
                lanes[lane] = Math.fma(xs.getAtIndex(RangeWorker.FLOAT, base + j), q.rows[b * d + j], lanes[lane]);
            }
            float[] out = new float[1];
            ReproducibleMath.sum16Rows(lanes, 1, out, 0);
            s = out[0];
        } else {
            s = 0;
            for (int j = 0; j < d; j++) {
                s = Math.fma(xs.getAtIndex(RangeWorker.FLOAT, base + j), q.rows[b * d + j], s);
            }
        }
        float norm = norms.getAtIndex(RangeWorker.FLOAT, row);
        float xInv = norm == 0 ? 0 : 1f / norm;
        return s * q.inverseNorm[b] * xInv;
    }

    /**
     * Query b's exact top-k over [from, to) by a float32 pass, shard by shard, of the path the F32 engine takes for
     * this batch size (values taken as the patterns: only the top-k is used).
     */
    private dev.engram.engine.TopK rescanF32(ExactRows rows, MemorySegment norms, FloatMatrix queries, int b,
                                            RetrievalParams params, long from, long to, boolean rowOrder) {
        float[] row = new float[queries.cols()];
        for (int j = 0; j < row.length; j++) {
            row[j] = queries.get(b, j);
        }
        int d = row.length;
        dev.engram.engine.TopK out = new dev.engram.engine.TopK(params.k());
        try (FloatMatrix one = FloatMatrix.of(row, 1, d)) {
            PreparedQueries q1 = new PreparedQueries(one);
            for (int s = 0; s < rows.segments().length; s++) {
                long start = rows.starts()[s];
                long lo = Math.max(from, start);
                long hi = Math.min(to, rows.starts()[s + 1]);
                if (lo >= hi) {
                    continue;
                }
                MemorySegment xs = rows.segments()[s];
                MemorySegment ns = norms.asSlice(start * Float.BYTES, (rows.starts()[s + 1] - start) * Float.BYTES);
                RangeWorker w = rowOrder
                        ? new RowWorker(q1, d, params.beta(), params.k(), config.chunk(), xs, xs, ns, false, false)
                        : new TileWorker(q1, d, params.beta(), params.k(), config.chunk(), config.queryTile(), xs, xs,
                                ns, true, false);
                out.addAll(w.run(lo - start, hi - start, Math.max(1, 2048 / config.chunk())).top(0).shifted(start));
            }
        }
        return out;
    }

    /**
     * Integrates the ensemble in blocks of {@code 8 × lanes} trajectories (structure of arrays, see
     * {@link EnsembleBlock}); threads take blocks as they come free. Trajectories are independent, per-trajectory
     * random numbers are counter-based and every operation on a trajectory is the same whichever block or lane it
     * sits in, so the result's bits depend neither on the thread count nor on the vector width.
     */
    @Override
    public EnsembleResult integrate(EnsembleSpec spec, java.util.function.LongConsumer progress) {
        java.util.Objects.requireNonNull(spec, "spec");
        int width = 8 * CpuVectors.LANES;
        int blocks = (spec.trajectories() + width - 1) / width;
        EnsembleRecorder rec = new EnsembleRecorder(spec, progress);
        runParallel(blocks, () -> {
            EnsembleBlock block = new EnsembleBlock(spec, width);
            return blk -> {
                int first = blk * width;
                block.run(first, Math.min(width, spec.trajectories() - first), rec);
            };
        }, "integration");
        return rec.result();
    }

    /**
     * Runs {@code body.accept(i)} for every task i in [0, tasks) on up to {@code threads} threads (the caller is
     * one of them); each thread makes its body once ({@code perThread}) and takes the next task index when free.
     * The first failure stops the hand-out and is rethrown here.
     */
    private void runParallel(int tasks, java.util.function.Supplier<java.util.function.IntConsumer> perThread,
                             String what) {
        AtomicInteger next = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
        Runnable worker = () -> {
            java.util.function.IntConsumer body = perThread.get();
            for (int i; !failed.get() && (i = next.getAndIncrement()) < tasks; ) {
                try {
                    body.accept(i);
                } catch (RuntimeException | Error e) {
                    failed.set(true);
                    throw e;
                }
            }
        };
        int helpers = pool == null ? 0 : Math.min(config.threads(), tasks) - 1;
        List<Future<?>> futures = new ArrayList<>();
        for (int h = 0; h < helpers; h++) {
            futures.add(pool.submit(worker));
        }
        try {
            worker.run();
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException(what + " interrupted", e);
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(what + " worker failed", e.getCause());
        } catch (RuntimeException | Error e) {
            futures.forEach(f -> f.cancel(true));
            throw e;
        }
    }

    private RetrievalPartial runRange(PatternMemory memory, Bf16Patterns half, PreparedQueries q, RetrievalParams params,
                                      long from, long to) {
        MemorySegment xs = half != null ? half.patterns : memory.patterns().segment();
        boolean valuesAreX = memory.valuesArePatterns();
        MemorySegment vs = half != null && valuesAreX ? half.patterns : memory.values().segment();
        MemorySegment norms = half != null ? half.norms : memory.norms().segment();
        boolean halfX = half != null;
        boolean halfV = half != null && valuesAreX;
        int chunk = config.chunk();
        RangeWorker w = q.batch <= config.rowPathMaxBatch()
                ? new RowWorker(q, memory.valueDim(), params.beta(), params.k(), chunk, xs, vs, norms, halfX, halfV)
                : new TileWorker(q, memory.valueDim(), params.beta(), params.k(), chunk, config.queryTile(),
                        xs, vs, norms, valuesAreX, halfX);
        return w.run(from, to, Math.max(1, 2048 / chunk));
    }

    /**
     * A float32 training session on this engine's threads (see {@link CpuTraining}): bit-identical results at any
     * thread count.
     */
    @Override
    public TrainingSession openTraining(TrainingModel model, TrainingSamples samples) {
        return new CpuTraining(java.util.Objects.requireNonNull(model, "model"),
                java.util.Objects.requireNonNull(samples, "samples"), config.threads(), pool);
    }

    /** Flash-attention shaped float32 tiles on this engine's threads (see {@link CpuAttention}). */
    @Override
    public dev.engram.engine.AttentionForward attend(dev.engram.engine.Attention attention) {
        return new CpuAttention(config.threads(), pool, CpuAttention.MIN_MACS_PER_WORKER)
                .forward(java.util.Objects.requireNonNull(attention, "attention"));
    }

    /** Recomputes the attention tile by tile from the forward's maxima and log-normalisers (see {@link CpuAttention}). */
    @Override
    public dev.engram.engine.AttentionGradient attendBackward(dev.engram.engine.Attention attention,
                                                            dev.engram.engine.AttentionForward forward,
                                                            double[] outputGradient) {
        return new CpuAttention(config.threads(), pool, CpuAttention.MIN_MACS_PER_WORKER)
                .backward(java.util.Objects.requireNonNull(attention, "attention"), forward, outputGradient);
    }

    /** Float32 products over chunks of rows on this engine's threads (see {@link CpuProjection}). */
    @Override
    public double[] project(dev.engram.engine.Projection projection) {
        return new CpuProjection(config.threads(), pool, CpuProjection.MIN_MACS_PER_WORKER)
                .forward(java.util.Objects.requireNonNull(projection, "projection"));
    }

    /** ∂W partials per chunk of rows, added in chunk order (see {@link CpuProjection}). */
    @Override
    public dev.engram.engine.Projection.Gradient projectBackward(dev.engram.engine.Projection projection,
                                                                 double[] outputGradient, boolean inputGradient) {
        return new CpuProjection(config.threads(), pool, CpuProjection.MIN_MACS_PER_WORKER)
                .backward(java.util.Objects.requireNonNull(projection, "projection"), outputGradient, inputGradient);
    }

    /** Stops the worker threads (the shared instance is never closed). */
    @Override
    public void close() {
        if (pool != null && this != shared && this != sharedBf16 && this != sharedSq8) {
            pool.shutdownNow();
        }
    }
}
