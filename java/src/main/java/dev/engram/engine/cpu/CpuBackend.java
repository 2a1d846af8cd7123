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
         * All cores, 128-pattern chunks, 64-query tiles, the row path up to B = 8 (measured on 2 Zen 4 cores at
         * M = 10^6, d = 32: the row path is faster up to B = 8, the tiled path from B = 12).
         */
        public static Config defaults() {
            return new Config(Runtime.getRuntime().availableProcessors(), 128,
                    Math.max(CpuVectors.LANES, 64 / CpuVectors.LANES * CpuVectors.LANES), 8, 16384);
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
        BF16
    }

    private static volatile CpuBackend shared;
    private static volatile CpuBackend sharedBf16;

    private final Config config;
    private final Storage storage;
    private final ExecutorService pool;
    private final java.util.Map<PatternMemory, Bf16Patterns> bf16 =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

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
        return storage == Storage.F32 ? "cpu" : "cpu-bf16";
    }

    /** One line on how this engine runs: threads, vector width, storage. */
    public String describe() {
        return config.threads() + " threads, " + CpuVectors.SPECIES.vectorBitSize() + "-bit vectors ("
                + CpuVectors.LANES + " float lanes)" + (storage == Storage.BF16 ? ", bfloat16 patterns" : "");
    }

    /** The bfloat16 copy of {@code memory}, made on first use and brought up to date (changed rows only). */
    private Bf16Patterns bf16Of(PatternMemory memory) {
        synchronized (bf16) {
            Bf16Patterns p = bf16.computeIfAbsent(memory, m -> new Bf16Patterns(m.dim()));
            p.syncWith(memory);
            return p;
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
        if (pool != null && this != shared && this != sharedBf16) {
            pool.shutdownNow();
        }
    }
}
