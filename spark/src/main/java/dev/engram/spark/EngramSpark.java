package dev.engram.spark;

import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FileErrors;
import dev.engram.tensor.FileSet;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.io.PrintWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;

/**
 * {@code engram-spark}: retrieval over a sharded memory on Apache Spark, and the commands that build and maintain
 * the shards. Run through {@code ./engram spark <command>} (local Spark, the JVM flags set) or {@code spark-submit}
 * with this module's jar and the core jar. Every failure is one line on stderr and exit code 2.
 */
@Command(name = "engram spark", mixinStandardHelpOptions = true, version = "engram-spark 0.1.0 (Spark 4.2.0)",
        description = "Retrieval over a memory partitioned across a Spark cluster.",
        subcommands = {EngramSpark.Retrieve.class, EngramSpark.Shard.class, EngramSpark.Append.class,
                EngramSpark.Compact.class, EngramSpark.Bench.class})
public final class EngramSpark implements Runnable {
    static final int INPUT_ERROR = 2;

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new EngramSpark());
        cl.setExecutionExceptionHandler((ex, cmd, parse) -> {
            PrintWriter err = cmd.getErr();
            err.println("engram spark " + cmd.getCommandName() + ": " + message(ex));
            err.flush();
            return INPUT_ERROR;
        });
        return cl;
    }

    /** One line: I/O failures explained, Spark's job failures cut to their first line. */
    static String message(Throwable t) {
        if (t instanceof IOException io) {
            return FileErrors.describe(io);
        }
        if (t instanceof java.io.UncheckedIOException u) {
            return FileErrors.describe(u.getCause());
        }
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /**
     * The Spark context for a command: the running session's (tests, notebooks), else a new one on {@code master}
     * (or spark.master from the configuration, or local[*]); stopped afterwards only if this command started it.
     */
    static final class Session implements AutoCloseable {
        final JavaSparkContext context;
        private final boolean owned;

        Session(String master) {
            boolean running = SparkSession.getDefaultSession().isDefined();
            SparkConf conf = new SparkConf().setAppName("engram-spark")
                    .setIfMissing("spark.ui.showConsoleProgress", "false");
            if (master != null) {
                conf.setMaster(master);
            } else {
                conf.setIfMissing("spark.master", "local[*]");
            }
            this.owned = !running;
            this.context = JavaSparkContext.fromSparkContext(SparkSession.builder().config(conf).getOrCreate().sparkContext());
        }

        @Override
        public void close() {
            if (owned) {
                context.stop();
            }
        }
    }

    @Command(name = "retrieve", mixinStandardHelpOptions = true,
            description = "Retrieves a batch of queries from a sharded memory; writes output.npy, entropy.npy, "
                    + "confidence.npy, topk_indices.npy, topk_scores.npy and summary.json into --out.")
    static final class Retrieve implements Callable<Integer> {
        @Option(names = "--memory", required = true, description = "folder of shard-NNNNN.npy files")
        Path memory;
        @Option(names = "--queries", required = true, description = "B×d float32 .npy")
        Path queries;
        @Option(names = "--out", required = true, description = "output folder")
        Path out;
        @Option(names = "--beta", defaultValue = "1.0", description = "inverse temperature (default ${DEFAULT-VALUE})")
        float beta;
        @Option(names = "--k", defaultValue = "5", description = "top-k per query (default ${DEFAULT-VALUE})")
        int k;
        @Option(names = "--partitions", defaultValue = "0", description = "Spark partitions; 0 = one per shard (default)")
        int partitions;
        @Option(names = "--engine", defaultValue = "auto", description = "engine on each executor: auto, cpu, reference, cuda, ...")
        String engine;
        @Option(names = "--tree-depth", defaultValue = "2", description = "treeReduce depth (default ${DEFAULT-VALUE})")
        int depth;
        @Option(names = "--master", description = "Spark master URL (default: spark.master, else local[*])")
        String master;

        @Override
        public Integer call() throws IOException {
            SparkRetrieval.Options options = new SparkRetrieval.Options(partitions, engine, depth);
            RetrievalParams params = new RetrievalParams(beta, k);
            ShardedMemory mem = ShardedMemory.open(memory);
            try (FloatMatrix q = Npy.readFloat(queries); Session s = new Session(master)) {
                SparkRetrieval.Outcome o = SparkRetrieval.retrieve(s.context, mem, q, params, options);
                RetrievalResult r = o.result();
                int b = r.batch();
                try (FileSet set = FileSet.in(out)) {
                    set.write("output.npy", tmp -> Npy.write(tmp, r.output(), b, r.valueDim()));
                    set.write("entropy.npy", tmp -> Npy.write(tmp, r.entropy(), b));
                    set.write("confidence.npy", tmp -> Npy.write(tmp, r.confidence(), b));
                    set.write("topk_indices.npy", tmp -> Npy.write(tmp, r.topIndices(), b, r.k()));
                    set.write("topk_scores.npy", tmp -> Npy.write(tmp, r.topScores(), b, r.k()));
                    set.write("summary.json", tmp -> Files.writeString(tmp, String.format(Locale.ROOT,
                            "{\"memory\": \"%s\", \"patterns\": %d, \"queries\": %d, \"k\": %d, \"beta\": %s, "
                                    + "\"partitions\": %d, \"master\": \"%s\", \"seconds\": %.3f, \"partial_bytes\": %d, "
                                    + "\"network_bytes\": %d, \"broadcast_bytes\": %d}%n",
                            json(mem.folder().toString()), mem.size(), b, k, beta, o.partitions(), json(s.context.master()),
                            o.seconds(), o.partialBytes(), o.networkBytes(), o.broadcastBytes())));
                    set.commit();
                }
                System.out.printf(Locale.ROOT, "retrieved %d queries from M=%d patterns in %d partitions on %s: %.3f s, "
                                + "%d bytes of partials over the network; results in %s%n", b, mem.size(), o.partitions(),
                        s.context.master(), o.seconds(), o.networkBytes(), out);
            }
            return 0;
        }
    }

    private static String json(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    @Command(name = "shard", mixinStandardHelpOptions = true,
            description = "Cuts a pattern file (and its values) into a new folder of shards.")
    static final class Shard implements Callable<Integer> {
        @Option(names = "--patterns", required = true, description = "M×d float32 .npy")
        Path patterns;
        @Option(names = "--values", description = "M×dv float32 .npy (default: values = patterns)")
        Path values;
        @Option(names = "--rows-per-shard", required = true, description = "rows in each shard (the last one fewer)")
        long rows;
        @Option(names = "--out", required = true, description = "new (or empty) memory folder")
        Path out;

        @Override
        public Integer call() throws IOException {
            try (Arena arena = Arena.ofShared()) {
                FloatMatrix x = Npy.mapFloat(patterns, arena);
                FloatMatrix v = values == null ? null : Npy.mapFloat(values, arena);
                ShardedMemory m = ShardedMemory.write(out, x, v, rows);
                System.out.println("wrote " + m);
            }
            return 0;
        }
    }

    @Command(name = "append", mixinStandardHelpOptions = true,
            description = "Appends patterns (and values) at the end of a sharded memory: the newest shard is filled "
                    + "up to --rows-per-shard, then new shards are started. Existing indices do not change. With "
                    + "--merge-threshold, near-duplicates of a row of the newest shard are merged into it instead.")
    static final class Append implements Callable<Integer> {
        @Option(names = "--memory", required = true, description = "memory folder")
        Path memory;
        @Option(names = "--patterns", required = true, description = "n×d float32 .npy")
        Path patterns;
        @Option(names = "--values", description = "n×dv float32 .npy (only for memories with values)")
        Path values;
        @Option(names = "--rows-per-shard", required = true, description = "largest shard size")
        long rows;
        @Option(names = "--merge-threshold", description = "merge a pattern into its most similar row of the newest "
                + "shard when their cosine similarity exceeds this, in (-1, 1] (default: no merging; the pattern "
                + "store uses 0.95); twins in older shards are not looked at")
        Double mergeThreshold;
        @Option(names = "--merge-rate", defaultValue = "0.3", description = "weight of the new pattern in a merge, "
                + "in (0, 1] (default: ${DEFAULT-VALUE}, as the pattern store)")
        double mergeRate;

        @Override
        public Integer call() throws IOException {
            try (Arena arena = Arena.ofShared()) {
                FloatMatrix x = Npy.mapFloat(patterns, arena);
                FloatMatrix v = values == null ? null : Npy.mapFloat(values, arena);
                ShardedMemory m = ShardedMemory.open(memory);
                if (mergeThreshold == null) {
                    System.out.println("now " + m.append(x, v, rows));
                } else {
                    ShardedMemory.Appended a = m.appendMerging(x, v, rows, mergeThreshold, mergeRate);
                    System.out.println("merged " + a.merged() + ", added " + a.added() + "; now " + a.memory());
                }
            }
            return 0;
        }
    }

    @Command(name = "compact", mixinStandardHelpOptions = true,
            description = "Re-cuts a sharded memory into shards of equal size, keeping every pattern's index.")
    static final class Compact implements Callable<Integer> {
        @Option(names = "--memory", required = true, description = "memory folder")
        Path memory;
        @Option(names = "--rows-per-shard", required = true, description = "rows in each shard (the last one fewer)")
        long rows;

        @Override
        public Integer call() throws IOException {
            System.out.println("now " + ShardedMemory.open(memory).compact(rows));
            return 0;
        }
    }

    @Command(name = "bench", mixinStandardHelpOptions = true,
            description = "Times Spark retrieval against the single-machine engine on random memories (written to "
                    + "a temporary folder, removed afterwards); writes JSON lines to --out.")
    static final class Bench implements Callable<Integer> {
        @Option(names = "--sizes", split = ",", defaultValue = "100000,1000000", description = "memory sizes M")
        List<Long> sizes;
        @Option(names = "--partitions", split = ",", defaultValue = "1,2,4,8", description = "partition counts")
        List<Integer> partitions;
        @Option(names = "--dim", defaultValue = "32", description = "pattern width d")
        int dim;
        @Option(names = "--batch", defaultValue = "16", description = "queries per batch B")
        int batch;
        @Option(names = "--k", defaultValue = "5", description = "top-k")
        int k;
        @Option(names = "--repeats", defaultValue = "3", description = "timed runs per point (the best is kept)")
        int repeats;
        @Option(names = "--engine", defaultValue = "cpu", description = "engine on executors and single-machine")
        String engine;
        @Option(names = "--master", description = "Spark master URL (default: spark.master, else local[*])")
        String master;
        @Option(names = "--out", required = true, description = "JSON lines file")
        Path out;

        @Override
        public Integer call() throws IOException {
            Path tmp = Files.createTempDirectory("engram-spark-bench");
            List<String> lines = new ArrayList<>();
            RetrievalParams params = new RetrievalParams(1f, k);
            try (Session s = new Session(master); FloatMatrix q = RandomMatrices.gaussian(batch, dim, 7)) {
                for (long m : sizes) {
                    Path dir = tmp.resolve("m" + m);
                    long perShard = Math.max(1, (m + 7) / 8);
                    ShardedMemory mem;
                    try (FloatMatrix x = RandomMatrices.gaussian(m, dim, m)) {
                        mem = ShardedMemory.write(dir, x, null, perShard);
                    }
                    // The single-machine peer: the same engine, all cores, over the memory held whole in this JVM.
                    double single = Double.MAX_VALUE;
                    try (PatternMemory whole = load(mem)) {
                        var here = Backends.select(Capability.RETRIEVAL, engine, 0);
                        for (int r = 0; r < repeats; r++) {
                            long t0 = System.nanoTime();
                            here.retrieve(whole, q, params);
                            single = Math.min(single, (System.nanoTime() - t0) * 1e-9);
                        }
                    }
                    for (int p : partitions) {
                        SparkRetrieval.Outcome best = null;
                        for (int r = 0; r < repeats; r++) {
                            SparkRetrieval.Outcome o = SparkRetrieval.retrieve(s.context, mem, q, params,
                                    new SparkRetrieval.Options(p, engine, 2));
                            if (best == null || o.seconds() < best.seconds()) {
                                best = o;
                            }
                        }
                        String line = String.format(Locale.ROOT, "{\"M\": %d, \"d\": %d, \"B\": %d, \"k\": %d, \"engine\": \"%s\", "
                                        + "\"master\": \"%s\", \"partitions\": %d, \"spark_seconds\": %.4f, \"single_seconds\": %.4f, "
                                        + "\"partial_bytes\": %d, \"network_bytes\": %d, \"broadcast_bytes\": %d}",
                                m, dim, batch, k, engine, json(s.context.master()), p, best.seconds(), single,
                                best.partialBytes(), best.networkBytes(), best.broadcastBytes());
                        System.out.println(line);
                        lines.add(line);
                    }
                    deleteTree(dir);
                }
            } finally {
                deleteTree(tmp);
            }
            dev.engram.tensor.AtomicFiles.writeString(out, String.join("\n", lines) + "\n");
            return 0;
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    /** The whole sharded memory in one process (for the single-machine peer; small enough memories only). */
    static PatternMemory load(ShardedMemory mem) throws IOException {
        PatternMemory all = mem.separateValues() ? PatternMemory.create(mem.dim(), mem.valueDim()) : PatternMemory.create(mem.dim());
        for (ShardedMemory.Shard s : mem.shards()) {
            if (s.rows() == 0) {
                continue;
            }
            try (FloatMatrix x = Npy.readFloat(Path.of(s.patterns()));
                 FloatMatrix v = s.values() == null ? null : Npy.readFloat(Path.of(s.values()))) {
                all.append(x, v);
            }
        }
        return all;
    }
}
