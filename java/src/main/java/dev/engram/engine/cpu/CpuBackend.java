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
 * ‖q‖·‖x‖), sums run in float32 over at most ~2k patterns and then in double.
 */
public final class CpuBackend implements Backend, AutoCloseable {

    /**
     * Tuning knobs; results do not depend on them beyond round-off (the tests check that).
     *
     * @param threads            worker threads (the calling thread is one of them)
     * @param chunk              patterns per chunk (the unit of streaming and of the online-softmax update)
     * @param queryTile          queries per tile in the batched path; a multiple of the vector lane count
     * @param rowPathMaxBatch    batches up to this size take the small-batch path
     * @param minPatternsPerTask a range is split across threads only into parts at least this large
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

    @Override
    public RetrievalPartial retrievePartial(PatternMemory memory, long from, long to, FloatMatrix queries,
                                            RetrievalParams params) {
        RetrievalChecks.check(memory, from, to, queries, params);
        PreparedQueries q = new PreparedQueries(queries);
        Bf16Patterns half = storage == Storage.BF16 ? bf16Of(memory) : null;
        long n = to - from;
        int chunk = config.chunk();
        long parts = Math.max(1, Math.min(config.threads(), n / config.minPatternsPerTask()));
        long per = ((n + parts - 1) / parts + chunk - 1) / chunk * chunk;
        List<long[]> ranges = new ArrayList<>();
        for (long a = from; a < to; a += per) {
            ranges.add(new long[] {a, Math.min(to, a + per)});
        }
        if (ranges.size() == 1 || pool == null) {
            RetrievalPartial acc = null;
            for (long[] r : ranges) {
                RetrievalPartial p = runRange(memory, half, q, params, r[0], r[1]);
                acc = acc == null ? p : acc.merge(p);
            }
            return acc;
        }
        List<Future<RetrievalPartial>> futures = new ArrayList<>();
        for (int i = 1; i < ranges.size(); i++) {
            long[] r = ranges.get(i);
            futures.add(pool.submit(() -> runRange(memory, half, q, params, r[0], r[1])));
        }
        RetrievalPartial acc = runRange(memory, half, q, params, ranges.get(0)[0], ranges.get(0)[1]);
        try {
            for (Future<RetrievalPartial> f : futures) {
                acc = acc.merge(f.get());
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("retrieval interrupted", e);
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("retrieval worker failed", e.getCause());
        }
        return acc;
    }

    /**
     * Integrates the ensemble in blocks of {@code 8 × lanes} trajectories (structure of arrays, see
     * {@link EnsembleBlock}), blocks split across threads in contiguous runs. Per-trajectory random numbers are
     * counter-based, so the result does not depend on the thread count.
     */
    @Override
    public EnsembleResult integrate(EnsembleSpec spec, java.util.function.LongConsumer progress) {
        java.util.Objects.requireNonNull(spec, "spec");
        int width = 8 * CpuVectors.LANES;
        int blocks = (spec.trajectories() + width - 1) / width;
        int parts = Math.max(1, Math.min(config.threads(), blocks));
        EnsembleRecorder rec = new EnsembleRecorder(spec, progress);
        List<Future<?>> futures = new ArrayList<>();
        Runnable[] tasks = new Runnable[parts];
        for (int part = 0; part < parts; part++) {
            int b0 = (int) ((long) blocks * part / parts);
            int b1 = (int) ((long) blocks * (part + 1) / parts);
            tasks[part] = () -> {
                EnsembleBlock block = new EnsembleBlock(spec, width);
                for (int blk = b0; blk < b1; blk++) {
                    int first = blk * width;
                    block.run(first, Math.min(width, spec.trajectories() - first), rec);
                }
            };
        }
        for (int part = 1; part < parts; part++) {
            futures.add(pool.submit(tasks[part]));
        }
        tasks[0].run();
        try {
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("integration interrupted", e);
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("integration worker failed", e.getCause());
        }
        return rec.result();
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

    /** Stops the worker threads (the shared instance is never closed). */
    @Override
    public void close() {
        if (pool != null && this != shared && this != sharedBf16) {
            pool.shutdownNow();
        }
    }
}
