package dev.engram.spark;

import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Distributed retrieval on Spark local mode equals the single-machine reference engine on every layout: shard
 * sizes (uneven, an empty shard, one row per shard), partition counts (one, several, one per shard, more than
 * rows so that some partitions are empty), tree depths, and with a task that fails once and is retried.
 *
 * <p>One Spark context for the class ({@code local[2,2]}: 2 threads, a failed task is tried again once), since
 * starting one costs seconds.
 */
class SparkRetrievalTest {
    static final int M = 61;
    static final int D = 12;
    static final int DV = 3;
    static final int B = 5;
    static final int K = 4;
    static final float BETA = 2.5f;

    @TempDir
    static Path tmp;
    static SparkSession session;
    static JavaSparkContext spark;
    static FloatMatrix x;
    static FloatMatrix v;
    static FloatMatrix q;

    @BeforeAll
    static void start() {
        session = SparkSession.builder().master("local[2,2]").appName("engram-spark-test")
                .config("spark.ui.enabled", "false").config("spark.driver.host", "127.0.0.1")
                .config("spark.ui.showConsoleProgress", "false").getOrCreate();
        spark = JavaSparkContext.fromSparkContext(session.sparkContext());
        x = RandomMatrices.gaussian(M, D, 11);
        v = RandomMatrices.gaussian(M, DV, 12);
        q = RandomMatrices.gaussian(B, D, 13);
    }

    @AfterAll
    static void stop() {
        session.stop();
        x.close();
        v.close();
        q.close();
    }

    /** Writes the test memory as shards of the given sizes (0 allowed) and opens it. */
    static ShardedMemory layout(String name, boolean values, long... sizes) throws IOException {
        Path dir = tmp.resolve(name + (values ? "-v" : "-x"));
        if (dir.toFile().isDirectory()) {
            return ShardedMemory.open(dir);
        }
        dir.toFile().mkdirs();
        long from = 0;
        for (int s = 0; s < sizes.length; s++) {
            long to = from + sizes[s];
            if (values) {
                Npy.write(dir.resolve(ShardedMemory.valuesName(s)), v.rows(from, to));
            }
            Npy.write(dir.resolve(ShardedMemory.patternsName(s)), x.rows(from, to));
            from = to;
        }
        assertEquals(M, from, "layout " + name + " must cover the memory");
        return ShardedMemory.open(dir);
    }

    static RetrievalResult reference(boolean values) {
        try (PatternMemory mem = values ? PatternMemory.of(x, v) : PatternMemory.of(x)) {
            return Backends.select(Capability.RETRIEVAL, "reference").retrieve(mem, q, new RetrievalParams(BETA, K));
        }
    }

    static Stream<Arguments> layouts() {
        long[] uneven = {7, 0, 30, 1, 23};
        return Stream.of(
                Arguments.of("one-shard", new long[] {M}, false, 1, 2),
                Arguments.of("one-shard", new long[] {M}, true, 3, 2),
                Arguments.of("uneven-with-empty", uneven, false, 0, 2),
                Arguments.of("uneven-with-empty", uneven, true, 0, 2),
                Arguments.of("uneven-with-empty", uneven, true, 2, 1),
                Arguments.of("uneven-with-empty", uneven, false, 5, 3),
                Arguments.of("uneven-with-empty", uneven, true, M + 3, 2),
                Arguments.of("row-per-shard", rowPerShard(), false, 0, 4),
                Arguments.of("row-per-shard", rowPerShard(), true, 4, 2));
    }

    static long[] rowPerShard() {
        long[] s = new long[M];
        Arrays.fill(s, 1);
        return s;
    }

    /**
     * The reference engine on the executors: per pattern the same double arithmetic as the single-machine run, so
     * top-k indices and cosine scores are identical, and the softmax sums differ only by the order of double
     * additions (relative 1e-15 before the cast to float32): outputs within 1e-6·max|v|, entropy within 1e-6.
     */
    @ParameterizedTest(name = "{0} {1}, values {2}, {3} partitions (0: one per shard), tree depth {4}")
    @MethodSource("layouts")
    void referenceOnExecutorsEqualsSingleMachine(String name, long[] sizes, boolean values, int partitions, int depth)
            throws IOException {
        ShardedMemory mem = layout(name, values, sizes);
        SparkRetrieval.Outcome o = SparkRetrieval.retrieve(spark, mem, q, new RetrievalParams(BETA, K),
                new SparkRetrieval.Options(partitions, "reference", depth));
        assertEquals(partitions == 0 ? sizes.length : partitions, o.partitions());
        assertSame(reference(values), o.result(), 1e-6, name + (values ? " with values" : ""));
    }

    /**
     * The cpu engine on the executors against the single-machine reference: the engine contract's tolerance. A
     * float32 logit over d terms errs by δs ≤ beta·d·2⁻²⁴·‖q‖·‖x‖ (≈ 2e-5 here); outputs move by about δs·max|v|,
     * entropy by δs·(1 + log M); we allow 4× that plus 2e-5 for float32 sums. Top-k indices are still identical:
     * on this seeded data the cosine gaps between ranks exceed the float32 error by far.
     */
    @Test
    void cpuOnExecutorsAgreesWithTheReferenceWithinTheContract() throws IOException {
        ShardedMemory mem = layout("uneven-with-empty", true, 7, 0, 30, 1, 23);
        SparkRetrieval.Outcome o = SparkRetrieval.retrieve(spark, mem, q, new RetrievalParams(BETA, K),
                new SparkRetrieval.Options(3, "cpu", 2));
        double ds = BETA * D * Math.pow(2, -24) * maxRowNorm(q) * maxRowNorm(x);
        assertSame(reference(true), o.result(), 2e-5 + 4 * ds * (1 + Math.log(M)), "cpu engine");
    }

    static final AtomicInteger FAILURES = new AtomicInteger();

    /** A task that fails on its first attempt at partition 1 is retried by Spark (local[2,2]) to the same answer. */
    @Test
    void aFailedTaskIsRetriedToTheSameAnswer() throws IOException {
        ShardedMemory mem = layout("uneven-with-empty", false, 7, 0, 30, 1, 23);
        FAILURES.set(0);
        SparkRetrieval.PartitionTask failOnce = (slices, queries, params, valueDim, engine) -> {
            TaskContext t = TaskContext.get();
            if (t.partitionId() == 1 && t.attemptNumber() == 0) {
                FAILURES.incrementAndGet();
                throw new IllegalStateException("injected failure of partition 1, attempt 0");
            }
            return SparkRetrieval.ON_EXECUTOR.run(slices, queries, params, valueDim, engine);
        };
        SparkRetrieval.Outcome o = SparkRetrieval.retrieve(spark, mem, q, new RetrievalParams(BETA, K),
                new SparkRetrieval.Options(4, "reference", 2), failOnce);
        assertEquals(1, FAILURES.get(), "the injected failure must have happened once");
        assertSame(reference(false), o.result(), 1e-6, "after a retried task");
    }

    @Test
    void onlyPartialsCrossTheNetwork() throws IOException {
        ShardedMemory mem = layout("one-shard", false, M);
        SparkRetrieval.Outcome o = SparkRetrieval.retrieve(spark, mem, q, new RetrievalParams(BETA, K),
                new SparkRetrieval.Options(8, "reference", 2));
        // B·(3 + dv + 2k) doubles plus B sizes: the partial's payload, whatever M is
        long payload = 8L * B * (3 + D + 2 * K) + 4L * B;
        assertTrue(o.partialBytes() >= payload && o.partialBytes() < payload + 1024,
                "partial of " + o.partialBytes() + " bytes for a payload of " + payload);
        assertTrue(o.partialBytes() < M * D * 4L / 2, "a partial must be far smaller than the memory");
        // treeReduce over 8 partitions at depth 2: scale 3, one shuffle level of 8/3 = 2 partitions
        assertEquals(o.partialBytes() * (8 + 2), o.networkBytes());
    }

    @Test
    void badInputIsRefusedInOneLine() throws IOException {
        ShardedMemory mem = layout("one-shard", false, M);
        try (FloatMatrix wide = RandomMatrices.gaussian(2, D + 1, 1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> SparkRetrieval.retrieve(spark, mem, wide,
                    new RetrievalParams(BETA, K), SparkRetrieval.Options.defaults()));
            assertTrue(e.getMessage().contains("d=13") && e.getMessage().contains("d=12"), e.getMessage());
        }
        var e = assertThrows(IllegalArgumentException.class, () -> SparkRetrieval.retrieve(spark, mem, q,
                new RetrievalParams(BETA, M + 1), SparkRetrieval.Options.defaults()));
        assertTrue(e.getMessage().contains("k=62"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new SparkRetrieval.Options(2, "gpu-please", 2));
        assertTrue(e.getMessage().contains("gpu-please"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ShardedMemory.open(tmp.resolve("no-such-memory")));
        assertTrue(e.getMessage().contains("no-such-memory"), e.getMessage());
    }

    @Test
    void appendAndCompactionKeepEveryIndex() throws IOException {
        Path dir = tmp.resolve("grow");
        ShardedMemory mem = ShardedMemory.write(dir, x.rows(0, 40), v.rows(0, 40), 15); // 15, 15, 10
        assertEquals(java.util.List.of(15L, 15L, 10L), mem.shards().stream().map(ShardedMemory.Shard::rows).toList());
        mem = mem.append(x.rows(40, M), v.rows(40, M), 15); // fills the newest to 15, then 15, 1
        assertEquals(java.util.List.of(15L, 15L, 15L, 15L, 1L), mem.shards().stream().map(ShardedMemory.Shard::rows).toList());
        RetrievalResult before = SparkRetrieval.retrieve(spark, mem, q, new RetrievalParams(BETA, K),
                new SparkRetrieval.Options(0, "reference", 2)).result();
        assertSame(reference(true), before, 1e-6, "after appends");
        mem = mem.compact(25);
        assertEquals(java.util.List.of(25L, 25L, 11L), mem.shards().stream().map(ShardedMemory.Shard::rows).toList());
        RetrievalResult after = SparkRetrieval.retrieve(spark, mem, q, new RetrievalParams(BETA, K),
                new SparkRetrieval.Options(0, "reference", 2)).result();
        assertSame(reference(true), after, 1e-6, "after compaction");
        assertEquals(0, tmp.toFile().list((d, n) -> n.startsWith(".grow")).length,
                "compaction must leave no staging or old folder");
    }

    @Test
    void theCommandLineWritesTheAnswer() throws IOException {
        ShardedMemory mem = layout("uneven-with-empty", false, 7, 0, 30, 1, 23);
        Path queries = tmp.resolve("queries.npy");
        Npy.write(queries, q);
        Path out = tmp.resolve("cli-out");
        int rc = EngramSpark.commandLine().execute("retrieve", "--memory", mem.folder().toString(), "--queries",
                queries.toString(), "--out", out.toString(), "--k", String.valueOf(K), "--beta", String.valueOf(BETA),
                "--partitions", "3", "--engine", "reference");
        assertEquals(0, rc);
        RetrievalResult r = reference(false);
        assertArrayEquals(r.topIndices(), Npy.readLong(out.resolve("topk_indices.npy")));
        try (FloatMatrix o = Npy.readFloat(out.resolve("output.npy"))) {
            float[] got = o.toArray();
            for (int i = 0; i < got.length; i++) {
                assertEquals(r.output()[i], got[i], 1e-6, "output[" + i + "]");
            }
        }
        assertEquals(2, EngramSpark.commandLine().execute("retrieve", "--memory", tmp.resolve("nowhere").toString(),
                "--queries", queries.toString(), "--out", out.toString()));
    }

    static void assertSame(RetrievalResult expected, RetrievalResult actual, double tol, String label) {
        assertEquals(expected.batch(), actual.batch(), label);
        assertEquals(expected.valueDim(), actual.valueDim(), label);
        assertArrayEquals(expected.topIndices(), actual.topIndices(), label + ": top-k indices");
        double vMax = 0;
        for (float f : expected.output()) {
            vMax = Math.max(vMax, Math.abs(f));
        }
        for (int i = 0; i < expected.output().length; i++) {
            assertEquals(expected.output()[i], actual.output()[i], tol * Math.max(1, vMax), label + ": output[" + i + "]");
        }
        for (int b = 0; b < expected.batch(); b++) {
            assertEquals(expected.entropy()[b], actual.entropy()[b], tol * (1 + Math.log(M)), label + ": entropy[" + b + "]");
            assertEquals(expected.confidence()[b], actual.confidence()[b], tol * (1 + Math.log(M)), label + ": confidence[" + b + "]");
        }
        for (int i = 0; i < expected.topScores().length; i++) {
            assertEquals(expected.topScores()[i], actual.topScores()[i], 2e-5 * (1 + D / 32.0), label + ": top score " + i);
        }
    }

    static double maxRowNorm(FloatMatrix m) {
        double best = 0;
        for (long r = 0; r < m.rows(); r++) {
            double s = 0;
            for (float f : m.row(r)) {
                s += (double) f * f;
            }
            best = Math.max(best, Math.sqrt(s));
        }
        return best;
    }
}
