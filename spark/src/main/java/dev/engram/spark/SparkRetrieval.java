package dev.engram.spark;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.io.Serial;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Retrieval over a {@link ShardedMemory} on a Spark cluster:
 * <ol>
 *   <li>the driver cuts the memory into partitions of shard slices (file names and row ranges, a few bytes each) and
 *       broadcasts the B×d queries;</li>
 *   <li>each partition maps its rows on its executor and computes the partial state
 *       {@code (m, l, t, o, top-k)} with the best retrieval engine there ({@link Backends#select}: cuda on an
 *       executor with a GPU and libengram, else cpu with {@code spark.task.cpus} threads, else reference);</li>
 *   <li>{@code treeReduce} merges the partials exactly (the retrieval monoid, {@link RetrievalPartial#merge});</li>
 *   <li>the driver finishes output, entropy, confidence and the global top-k.</li>
 * </ol>
 * Only partials ({@link PartialState}, {@code B·(3 + dv + 2k)·8} bytes each) cross the network, never the memory.
 */
public final class SparkRetrieval {
    private SparkRetrieval() {
    }

    /**
     * How to run a distributed retrieval.
     *
     * @param partitions Spark partitions (≥ 1); 0 means one partition per shard
     * @param engine     the retrieval engine on every executor: auto, reference, cpu, cpu-bf16, cuda, emu
     * @param treeDepth  depth of {@code treeReduce} (≥ 1; 2 is Spark's default)
     */
    public record Options(int partitions, String engine, int treeDepth) implements Serializable {
        public Options {
            if (partitions < 0) {
                throw new IllegalArgumentException("partitions must be >= 0 (0 = one per shard), got " + partitions);
            }
            if (treeDepth < 1) {
                throw new IllegalArgumentException("tree depth must be >= 1, got " + treeDepth);
            }
            Objects.requireNonNull(engine, "engine");
            String n = engine.toLowerCase(Locale.ROOT).strip();
            if (!Backends.NAMES.contains(n)) {
                throw new IllegalArgumentException("unknown engine '" + engine + "'; choose one of " + Backends.NAMES);
            }
            engine = n;
        }

        /** One partition per shard, the best engine on each executor, Spark's default tree depth. */
        public static Options defaults() {
            return new Options(0, "auto", 2);
        }
    }

    /**
     * The answer and what it cost.
     *
     * @param partitions   partitions the memory was cut into
     * @param partialBytes bytes of one serialised partial (all have the same size)
     * @param networkBytes bytes of partials sent by the tree reduce: one partial per partition at every level
     * @param broadcastBytes bytes of the serialised query batch, sent once to every executor
     * @param seconds      wall time of the Spark job, driver side
     */
    public record Outcome(RetrievalResult result, int partitions, long partialBytes, long networkBytes,
                          long broadcastBytes, double seconds) {
    }

    /** The computation of one partition, replaceable in tests (to inject failures). */
    @FunctionalInterface
    interface PartitionTask extends Serializable {
        PartialState run(List<ShardedMemory.Slice> slices, QueryBatch queries, RetrievalParams params, int valueDim,
                         String engine);
    }

    /** The queries as shipped to executors: B×d row-major float32 on the heap. */
    record QueryBatch(float[] data, int rows, int cols) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
    }

    /** What a partition runs on its executor: the engine chosen there, with the task's CPU share as its threads. */
    static final PartitionTask ON_EXECUTOR = (slices, q, params, valueDim, engine) -> {
        TaskContext task = TaskContext.get();
        int threads = task == null ? 0 : Math.max(1, task.cpus());
        Backend backend = Backends.select(Capability.RETRIEVAL, engine, threads);
        try (FloatMatrix queries = FloatMatrix.of(q.data(), q.rows(), q.cols())) {
            return PartialState.of(SliceRetrieval.compute(slices, queries, params, valueDim, backend));
        }
    };

    /**
     * {@code softmax(beta·q·Xᵀ)·V}, entropy, confidence and the global cosine top-k of every query over the whole
     * sharded memory; equal to the single-machine retrieval within the engine contract's tolerance.
     *
     * @param queries B×d float32
     * @throws IllegalArgumentException on bad input (empty memory, widths, k &gt; M, non-finite queries)
     */
    public static Outcome retrieve(JavaSparkContext spark, ShardedMemory memory, FloatMatrix queries,
                                   RetrievalParams params, Options options) {
        return retrieve(spark, memory, queries, params, options, ON_EXECUTOR);
    }

    static Outcome retrieve(JavaSparkContext spark, ShardedMemory memory, FloatMatrix queries, RetrievalParams params,
                            Options options, PartitionTask task) {
        Objects.requireNonNull(spark, "spark");
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(queries, "queries");
        Objects.requireNonNull(params, "params");
        Objects.requireNonNull(options, "options");
        check(memory, queries, params);
        long start = System.nanoTime();
        List<List<ShardedMemory.Slice>> plan = options.partitions() == 0 ? memory.planByShard() : memory.plan(options.partitions());
        int batch = (int) queries.rows();
        int valueDim = memory.valueDim();
        QueryBatch q = new QueryBatch(queries.toArray(), batch, queries.cols());
        Broadcast<QueryBatch> shared = spark.broadcast(q);
        String engine = options.engine();
        float beta = params.beta(); // RetrievalParams is not Serializable: ship its two numbers
        int k = params.k();
        try {
            // One element per partition: parallelize cuts a list of P elements into P partitions of one each.
            JavaRDD<List<ShardedMemory.Slice>> parts = spark.parallelize(new ArrayList<>(plan), plan.size());
            PartialState merged = parts
                    .map(slices -> task.run(slices, shared.value(), new RetrievalParams(beta, k), valueDim, engine))
                    .treeReduce(PartialState::merge, options.treeDepth());
            RetrievalResult result = merged.toPartial().finish();
            double seconds = (System.nanoTime() - start) * 1e-9;
            long partialBytes = serializedSize(PartialState.empty(batch, valueDim, params.k()));
            return new Outcome(result, plan.size(), partialBytes,
                    partialBytes * treeReduceMessages(plan.size(), options.treeDepth()), serializedSize(q), seconds);
        } finally {
            shared.destroy();
        }
    }

    /** The single-machine checks, so the distributed retrieval rejects exactly what the engines reject. */
    private static void check(ShardedMemory memory, FloatMatrix queries, RetrievalParams params) {
        if (memory.size() == 0) {
            throw new IllegalArgumentException("memory " + memory.folder() + " is empty: retrieval needs at least one stored pattern");
        }
        if (queries.rows() < 1) {
            throw new IllegalArgumentException("queries must hold at least one row, got 0");
        }
        if (queries.rows() > Integer.MAX_VALUE / Math.max(1, Math.max(memory.valueDim(), params.k()))) {
            throw new IllegalArgumentException("too many queries in one batch: " + queries.rows());
        }
        if (queries.cols() != memory.dim()) {
            throw new IllegalArgumentException("queries have d=" + queries.cols() + " columns but memory " + memory.folder()
                    + " stores patterns of d=" + memory.dim());
        }
        if (params.k() > memory.size()) {
            throw new IllegalArgumentException("k=" + params.k() + " exceeds the number of stored patterns M=" + memory.size());
        }
        queries.requireFinite("queries");
    }

    /**
     * Partials sent by Spark's {@code treeReduce(f, depth)} over P partitions: every partition sends its partial;
     * while many remain, a shuffle level folds them into P/scale partitions, each of which sends one again
     * ({@code scale = max(⌈P^(1/depth)⌉, 2)}, the rule of {@code RDD.treeAggregate}).
     */
    static long treeReduceMessages(int partitions, int depth) {
        long messages = partitions;
        int n = partitions;
        int scale = Math.max((int) Math.ceil(Math.pow(n, 1.0 / depth)), 2);
        while (n > scale + Math.ceil((double) n / scale)) {
            n /= scale;
            messages += n;
        }
        return messages;
    }

    static long serializedSize(Serializable o) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(o);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.size();
    }
}
