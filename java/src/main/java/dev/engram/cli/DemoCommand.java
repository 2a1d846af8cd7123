package dev.engram.cli;

import dev.engram.tensor.RandomSampling;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.report.Charts;
import dev.engram.tensor.AtomicFiles;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * Retrieval demo: a seeded memory of unit-norm random patterns, queries that are noisy
 * copies of known stored patterns at increasing noise, retrieval on the chosen engine, a cross-check of a few queries
 * against the reference engine, and a report (JSON + PNG) of recall and confidence against noise.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Retrieval demo on generated data (no network, no GPU): retrieval of noisy",
                "copies of stored patterns; prints recall, confidence and timings; writes report.json and",
                "retrieval.png into --out.",
                "Example: engram demo --memory-size 20000 --dim 32 --queries 64 --out out/demo"})
final class DemoCommand implements Callable<Integer> {
    @Mixin
    final EngineOptions engineOptions = new EngineOptions();

    @Mixin
    final SeedOption seedOption = new SeedOption(7);

    @Mixin
    final OutputOption output = new OutputOption("out/demo");

    @Option(names = "--memory-size", defaultValue = "200000", description = "stored patterns M (default: ${DEFAULT-VALUE})")
    long memorySize;

    @Option(names = "--dim", defaultValue = "64", description = "pattern width d (default: ${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--queries", defaultValue = "256", description = "queries B (default: ${DEFAULT-VALUE})")
    int queries;

    @Option(names = "--beta", defaultValue = "32", description = "inverse temperature (default: ${DEFAULT-VALUE})")
    float beta;

    @Option(names = "--k", defaultValue = "5", description = "top-k (default: ${DEFAULT-VALUE})")
    int k;




    static final double[] NOISE = {0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0};

    @Override
    public Integer call() throws Exception {
        long seed = seedOption.seed;
        Path out = output.out;
        if (memorySize < 1 || dim < 1 || queries < 1) {
            throw new IllegalArgumentException("--memory-size, --dim and --queries must be >= 1, got " + memorySize + ", "
                    + dim + ", " + queries);
        }
        if (k < 1 || k > memorySize) {
            throw new IllegalArgumentException("--k must be between 1 and --memory-size (" + memorySize + "), got " + k);
        }
        if (!(beta > 0) || !Float.isFinite(beta)) {
            throw new IllegalArgumentException("--beta must be a finite number > 0, got " + beta);
        }
        Backend engine = engineOptions.select(Capability.RETRIEVAL);
        OutputFolder.check("--out", out);
        RetrievalParams params = new RetrievalParams(beta, k);
        System.out.printf("memory: %d unit-norm random patterns of d=%d (seed %d); %d queries = stored pattern + noise%n",
                memorySize, dim, seed, queries);
        try (FloatMatrix x = RandomMatrices.gaussian(memorySize, dim, seed);
             FloatMatrix q = FloatMatrix.allocate(queries, dim)) {
            normalizeRows(x);
            long[] source = new long[queries];
            double[] noise = new double[queries];
            makeQueries(x, q, source, noise);
            try (PatternMemory mem = PatternMemory.wrap(x, null)) {
                engine.retrieve(mem, q, params); // warm-up (JIT)
                long t0 = System.nanoTime();
                RetrievalResult r = engine.retrieve(mem, q, params);
                double ms = (System.nanoTime() - t0) / 1e6;
                System.out.printf("retrieval on %s: B=%d against M=%d in %.1f ms (%.2f GB/s of patterns streamed)%n",
                        engine.name(), queries, memorySize, ms, memorySize * dim * 4.0 / 1e6 / ms);

                int check = Math.min(4, queries);
                long t1 = System.nanoTime();
                RetrievalResult ref = new ReferenceBackend().retrieve(mem, q.rows(0, check), params);
                double refMs = (System.nanoTime() - t1) / 1e6;
                double maxDiff = 0;
                for (int i = 0; i < check * mem.valueDim(); i++) {
                    maxDiff = Math.max(maxDiff, Math.abs(ref.output()[i] - r.output()[i]));
                }
                System.out.printf("cross-check: %d queries on the reference engine in %.1f ms; max |Δoutput| = %.2e%n",
                        check, refMs, maxDiff);
                writeReport(r, source, noise, ms, refMs, check, maxDiff);
            }
        }
        return 0;
    }

    private static void normalizeRows(FloatMatrix x) {
        for (long i = 0; i < x.rows(); i++) {
            double s = 0;
            for (int j = 0; j < x.cols(); j++) {
                s += (double) x.get(i, j) * x.get(i, j);
            }
            float inv = (float) (1 / Math.sqrt(s));
            for (int j = 0; j < x.cols(); j++) {
                x.set(i, j, x.get(i, j) * inv);
            }
        }
    }

    /** Query b = x_src + σ_b·n/√d, σ_b cycling through {@link #NOISE}. */
    private void makeQueries(FloatMatrix x, FloatMatrix q, long[] source, double[] noise) {
        SplittableRandom rnd = new SplittableRandom(seedOption.seed + 1);
        for (int b = 0; b < q.rows(); b++) {
            source[b] = rnd.nextLong(x.rows());
            noise[b] = NOISE[b % NOISE.length];
            for (int j = 0; j < dim; j++) {
                double g = RandomSampling.gaussian(rnd);
                q.set(b, j, (float) (x.get(source[b], j) + noise[b] * g / Math.sqrt(dim)));
            }
        }
    }

    private void writeReport(RetrievalResult r, long[] source, double[] noise, double ms, double refMs, int check,
                             double maxDiff) throws Exception {
        int levels = NOISE.length;
        double[] hits = new double[levels];
        double[] conf = new double[levels];
        double[] cos = new double[levels];
        double[] count = new double[levels];
        for (int b = 0; b < r.batch(); b++) {
            int lvl = b % levels;
            count[lvl]++;
            hits[lvl] += r.topIndices(b)[0] == source[b] ? 1 : 0;
            conf[lvl] += r.confidence()[b];
            cos[lvl] += r.topScores(b)[0];
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("memory_size", memorySize).put("dim", dim).put("queries", queries).put("beta", beta).put("k", k)
                .put("seed", seedOption.seed).put("engine", engineOptions.select(Capability.RETRIEVAL).name()).put("retrieval_ms", ms).put("reference_ms", refMs)
                .put("reference_checked_queries", check).put("max_abs_output_diff_vs_reference", maxDiff);
        ArrayNode rows = root.putArray("by_noise");
        System.out.println("noise σ   recall@1   mean confidence   mean top-1 cosine");
        double[] recall = new double[levels];
        for (int i = 0; i < levels; i++) {
            if (count[i] == 0) {
                continue;
            }
            recall[i] = hits[i] / count[i];
            conf[i] /= count[i];
            cos[i] /= count[i];
            rows.addObject().put("noise", NOISE[i]).put("queries", (int) count[i]).put("recall_at_1", recall[i])
                    .put("mean_confidence", conf[i]).put("mean_top1_cosine", cos[i]);
            System.out.printf("%7.2f   %8.3f   %15.3f   %17.3f%n", NOISE[i], recall[i], conf[i], cos[i]);
        }
        AtomicFiles.writeString(output.out.resolve("report.json"), json.writeValueAsString(root));
        Map<String, double[][]> series = new LinkedHashMap<>();
        series.put("recall@1", new double[][] {NOISE, recall});
        series.put("mean confidence", new double[][] {NOISE, conf});
        series.put("mean top-1 cosine", new double[][] {NOISE, cos});
        Charts.line(output.out.resolve("retrieval.png"), "Retrieval of noisy stored patterns (M=" + memorySize + ", d=" + dim
                + ", beta=" + beta + ")", "noise σ (relative to pattern norm)", "", series);
        System.out.println("report: " + output.out.resolve("report.json") + ", " + output.out.resolve("retrieval.png"));
    }
}
