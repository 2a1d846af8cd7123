package dev.engram.cli;

import dev.engram.tensor.RandomSampling;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.hopfield.PatternStore;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * Pattern-store benchmark per engine: a full store of M patterns (seeded in bulk), then timed inserts with the
 * similarity check (half novel: evict and replace; half near-duplicates: merge), one at a time and batched
 * ({@code insertAll}), single and batched queries; save and load of the full store. Prints ops/s and the ratio to the reference engine; writes JSON.
 */
@Command(name = "store", mixinStandardHelpOptions = true,
        description = {"Times the pattern store (insert with similarity check, query) per engine at --size stored",
                "patterns; the reference engine runs at --reference-size. Writes store-*.json to --out.",
                "Example: engram bench store --size 20000 --reference-size 5000 --no-save"})
final class StoreBenchCommand implements Callable<Integer> {
    @Mixin
    final SeedOption seedOption = new SeedOption(42);

    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Mixin
    final TierOption tier = new TierOption();

    @Option(names = "--size", description = "stored patterns M (default: 1000000)")
    Integer sizeOption;

    @Option(names = "--reference-size",
            description = "M for the reference engine, which is single-threaded (default: 100000 quick, 1000000 full)")
    Integer referenceSizeOption;

    int size;
    int referenceSize;

    @Option(names = "--dim", defaultValue = "32", description = "feature width d (default: ${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--engines", defaultValue = "reference,cpu", split = ",", description = "default: ${DEFAULT-VALUE}")
    List<String> engines;

    @Option(names = "--inserts", defaultValue = "200", description = "timed inserts per engine (default: ${DEFAULT-VALUE})")
    int inserts;

    @Option(names = "--queries", defaultValue = "200", description = "timed single queries per engine (default: ${DEFAULT-VALUE})")
    int queries;

    @Option(names = "--reference-ops", defaultValue = "30",
            description = "inserts and queries timed on the reference engine, ~0.4 s each at M=10^6 (default: ${DEFAULT-VALUE})")
    int referenceOps;

    @Option(names = "--batch", defaultValue = "64", description = "batch size of the batched-query case (default: ${DEFAULT-VALUE})")
    int batch;

    @Option(names = "--k", defaultValue = "10", description = "neighbours per query (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--save", defaultValue = "true", negatable = true, description = "also time save and load")
    boolean save;



    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        BenchResults.write(json, output.out, "store", measure(json));
        return 0;
    }

    ObjectNode measure(ObjectMapper json) throws Exception {
        size = sizeOption != null ? sizeOption : 1_000_000;
        referenceSize = referenceSizeOption != null ? referenceSizeOption : tier.full() ? 1_000_000 : 100_000;
        if (size < 1 || referenceSize < 1 || inserts < 1 || queries < 1 || referenceOps < 1 || batch < 1 || k < 0) {
            throw new IllegalArgumentException("--size, --reference-size, --inserts, --queries and --batch must be >= 1"
                    + " and --k >= 0; got size=" + size + ", reference-size=" + referenceSize + ", inserts=" + inserts
                    + ", queries=" + queries + ", batch=" + batch + ", k=" + k);
        }
        ObjectNode root = json.createObjectNode();
        root.set("machine", Machine.measureAndPrint(json));
        root.put("tier", tier.name());
        root.put("dim", dim).put("k", k).put("batch", batch).put("beta", PatternStore.DEFAULT_BETA);
        ArrayNode results = root.putArray("engines");
        Map<String, double[]> rates = new HashMap<>();
        Map<String, Integer> sizes = new HashMap<>();
        for (String name : engines) {
            Backend engine = Backends.select(name);
            int m = name.equals("reference") ? referenceSize : size;
            sizes.put(name, m);
            System.out.printf("%s: store of M=%d patterns, d=%d (%.0f MB of patterns)%n", name, m, dim, m * (double) dim * 4 / 1e6);
            ObjectNode e = results.addObject();
            e.put("engine", name).put("M", m).put("threads", name.equals("reference") ? 1 : Runtime.getRuntime().availableProcessors());
            rates.put(name, run(engine, m, e));
        }
        ObjectNode ratios = root.putObject("ratios_vs_reference");
        double[] ref = rates.get("reference");
        if (ref != null) {
            String[] ops = {"insert", "query", "batched_query", "batched_insert"};
            for (String name : engines) {
                if (name.equals("reference")) {
                    continue;
                }
                double[] r = rates.get(name);
                boolean same = sizes.get(name).equals(sizes.get("reference"));
                // at different sizes only the scan rate (ops/s × M) compares: every op is one pass over M patterns
                double scale = same ? 1 : sizes.get(name) / (double) sizes.get("reference");
                ObjectNode rn = ratios.putObject(name);
                rn.put("basis", same ? "ops/s at equal M" : "patterns scanned/s (ops/s × M), sizes differ");
                for (int i = 0; i < ops.length; i++) {
                    double ratio = r[i] * scale / ref[i];
                    rn.put(ops[i], ratio);
                    System.out.printf("  %s %s is %.1f× the reference engine (%s)%n", name, ops[i], ratio,
                            same ? "ops/s, same M" : "patterns scanned per second, M differs");
                }
            }
        }
        return root;
    }

    /** Returns ops/s of {insert, single query, batched query (queries/s), batched insert (inserts/s)}. */
    private double[] run(Backend engine, int m, ObjectNode e) throws Exception {
        SplittableRandom rnd = new SplittableRandom(seedOption.seed);
        long t0 = System.nanoTime();
        try (FloatMatrix seedPatterns = RandomMatrices.gaussian(m, dim, seedOption.seed);
             PatternStore store = new PatternStore(PatternStore.Config.defaults(dim, m), engine)) {
            float[] outcomes = new float[m];
            long[] dates = new long[m];
            for (int i = 0; i < m; i++) {
                outcomes[i] = (float) (0.02 * (rnd.nextDouble() - 0.5));
                dates[i] = 1_500_000_000_000L + i * 60_000L;
            }
            store.addDistinct(seedPatterns, outcomes, dates);
            double fillS = (System.nanoTime() - t0) / 1e9;
            e.put("bulk_fill_s", fillS);
            System.out.printf("  bulk fill (no similarity check): %.2f s%n", fillS);
            boolean reference = engine.name().equals("reference");
            int inserts = reference ? Math.min(this.inserts, referenceOps) : this.inserts;
            int queries = reference ? Math.min(this.queries, referenceOps) : this.queries;
            int warm = reference ? 2 : 20;
            for (int i = 0; i < warm; i++) {
                store.query(randomVector(rnd), k);
            }
            // inserts: even i novel (store is full: evict + replace), odd i a near-duplicate of a seed row (merge)
            Map<PatternStore.Action, Integer> actions = new EnumMap<>(PatternStore.Action.class);
            double[] lat = new double[inserts];
            long date = 1_600_000_000_000L;
            for (int i = 0; i < inserts; i++) {
                float[] f = i % 2 == 0 ? randomVector(rnd) : nearCopy(seedPatterns, rnd.nextInt(m), rnd);
                long s = System.nanoTime();
                PatternStore.Insertion ins = store.insert(f, 0.01 * (rnd.nextDouble() - 0.5), date + i);
                lat[i] = (System.nanoTime() - s) / 1e6;
                actions.merge(ins.action(), 1, Integer::sum);
                progress("insert", i, inserts, lat[i]);
            }
            ObjectNode insertNode = e.putObject("insert");
            double insertRate = report(insertNode, "insert (similarity check)", lat);
            ObjectNode an = insertNode.putObject("actions");
            actions.forEach((a, c) -> an.put(a.name().toLowerCase(), c));
            System.out.printf("    actions: %s%n", actions);
            // batched inserts: the same mix, `batch` rows per insertAll call (one engine pass per call)
            int insertReps = reference ? 1 : 5;
            double[] ilat = new double[insertReps];
            Map<PatternStore.Action, Integer> batchActions = new EnumMap<>(PatternStore.Action.class);
            for (int r = 0; r < insertReps; r++) {
                float[] flat = new float[batch * dim];
                double[] ys = new double[batch];
                long[] ds = new long[batch];
                for (int i = 0; i < batch; i++) {
                    float[] f = i % 2 == 0 ? randomVector(rnd) : nearCopy(seedPatterns, rnd.nextInt(m), rnd);
                    System.arraycopy(f, 0, flat, i * dim, dim);
                    ys[i] = 0.01 * (rnd.nextDouble() - 0.5);
                    ds[i] = date + inserts + (long) r * batch + i;
                }
                try (FloatMatrix fb = FloatMatrix.of(flat, batch, dim)) {
                    long s = System.nanoTime();
                    List<PatternStore.Insertion> done = store.insertAll(fb, ys, ds);
                    ilat[r] = (System.nanoTime() - s) / 1e6;
                    done.forEach(x -> batchActions.merge(x.action(), 1, Integer::sum));
                }
            }
            Arrays.sort(ilat);
            double insertBatchMs = ilat[insertReps / 2];
            double insertBatchRate = batch / (insertBatchMs / 1e3);
            ObjectNode ib = e.putObject("batched_insert").put("B", batch).put("ms_per_batch", insertBatchMs)
                    .put("inserts_per_s", insertBatchRate).put("reps", insertReps);
            ObjectNode ba = ib.putObject("actions");
            batchActions.forEach((a, c) -> ba.put(a.name().toLowerCase(), c));
            System.out.printf("  %-26s %9.1f ms per batch of %d  → %10.1f inserts/s  %s%n", "batched insert (insertAll)",
                    insertBatchMs, batch, insertBatchRate, batchActions);
            double[] qlat = new double[queries];
            double confSum = 0;
            for (int i = 0; i < queries; i++) {
                float[] q = i % 2 == 0 ? randomVector(rnd) : nearCopy(seedPatterns, rnd.nextInt(m), rnd);
                long s = System.nanoTime();
                PatternStore.Prediction p = store.query(q, k);
                qlat[i] = (System.nanoTime() - s) / 1e6;
                confSum += p.confidence();
                progress("query", i, queries, qlat[i]);
            }
            ObjectNode queryNode = e.putObject("query");
            double queryRate = report(queryNode, "query (B=1, k=" + k + ")", qlat);
            queryNode.put("mean_confidence", confSum / queries);
            int reps = reference ? 1 : 5;
            double[] blat = new double[reps];
            try (FloatMatrix qb = RandomMatrices.gaussian(batch, dim, seedOption.seed + 99)) {
                if (!reference) {
                    store.query(qb, k);
                }
                for (int r = 0; r < reps; r++) {
                    long s = System.nanoTime();
                    store.query(qb, k);
                    blat[r] = (System.nanoTime() - s) / 1e6;
                }
            }
            Arrays.sort(blat);
            double batchMs = blat[reps / 2];
            double batchRate = batch / (batchMs / 1e3);
            e.putObject("batched_query").put("B", batch).put("ms_per_batch", batchMs).put("queries_per_s", batchRate)
                    .put("reps", reps);
            System.out.printf("  %-26s %9.1f ms per batch of %d  → %10.1f queries/s%n", "batched query", batchMs, batch, batchRate);
            if (save) {
                Path dir = Files.createTempDirectory("engram-store-bench");
                Path f = dir.resolve("store.eps");
                try {
                    long s = System.nanoTime();
                    store.save(f);
                    double saveS = (System.nanoTime() - s) / 1e9;
                    long bytes = Files.size(f);
                    s = System.nanoTime();
                    try (PatternStore loaded = PatternStore.load(f, engine)) {
                        double loadS = (System.nanoTime() - s) / 1e9;
                        if (loaded.size() != store.size()) {
                            throw new IllegalStateException("loaded store holds " + loaded.size() + " patterns, saved " + store.size());
                        }
                        e.putObject("save_load").put("bytes", bytes).put("save_s", saveS).put("load_s", loadS);
                        System.out.printf("  save %.2f s, load %.2f s (%.0f MB, checksum and shape checks included)%n",
                                saveS, loadS, bytes / 1e6);
                    }
                } finally {
                    Files.deleteIfExists(f);
                    Files.deleteIfExists(dir);
                }
            }
            return new double[] {insertRate, queryRate, batchRate, insertBatchRate};
        }
    }

    private static void progress(String what, int i, int n, double ms) {
        System.err.printf("\r  %-7s %d/%d: %.2f ms   ", what, i + 1, n, ms);
        if (i + 1 == n) {
            System.err.print("\r");
        }
    }

    private static double report(ObjectNode n, String label, double[] latMs) {
        double total = 0;
        for (double v : latMs) {
            total += v;
        }
        double[] sorted = latMs.clone();
        Arrays.sort(sorted);
        double rate = latMs.length / (total / 1e3);
        n.put("ops", latMs.length).put("ops_per_s", rate).put("median_ms", sorted[sorted.length / 2])
                .put("p90_ms", sorted[(int) (0.9 * (sorted.length - 1))]);
        System.out.printf("  %-26s %10.1f ops/s  (median %.2f ms, p90 %.2f ms)%n", label, rate, sorted[sorted.length / 2],
                sorted[(int) (0.9 * (sorted.length - 1))]);
        return rate;
    }

    private float[] randomVector(SplittableRandom rnd) {
        float[] v = new float[dim];
        for (int j = 0; j < dim; j++) {
            v[j] = (float) RandomSampling.gaussian(rnd);
        }
        return v;
    }

    /** A seed row plus noise of 2% of its scale per component: cosine ≈ 0.9998, far above the merge threshold. */
    private float[] nearCopy(FloatMatrix seedPatterns, int row, SplittableRandom rnd) {
        float[] v = seedPatterns.row(row);
        for (int j = 0; j < dim; j++) {
            v[j] += (float) (0.02 * (rnd.nextDouble() - 0.5));
        }
        return v;
    }
}
