package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.jcuda.JCublasBaseline;
import dev.engram.engine.jcuda.JCudaBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Side-by-side retrieval benchmark: each engine on the same random memory, then, for the same case, the Python peers
 * on random data of the same shapes (PyTorch's obvious code for everything, PyTorch's scaled-dot-product attention for
 * the output, FAISS IndexFlatIP for the top-k); medians and spreads, the fraction of the machine's measured read
 * bandwidth and float32 peak, ratios against each peer and against the strongest peer of the case, JSON under
 * bench/results/. Each peer's BLAS and threads are printed and recorded; no ratio is reported against a peer on the
 * reference BLAS ({@link PeerResult}).
 *
 * <p>Size caps (stated in the JSON and the summary): the reference engine runs only where B·M ≤
 * {@code --reference-cap} (single-threaded double sums: about 1 s per 10⁶ pattern-queries at d = 32 here); the
 * peers that materialise the B×M scores (PyTorch's obvious code and SDPA) only where B·M ≤ {@code --scores-cap}
 * (their time and the scores' memory). FAISS and the cpu engines run every case.
 */
@Command(name = "retrieval", mixinStandardHelpOptions = true,
        description = {"Times retrieval per engine and against the Python peers, case by case in the same run:",
                "PyTorch (bench/peers/torch_retrieval.py: obvious code, and scaled-dot-product attention for the",
                "output) and FAISS IndexFlatIP for the top-k (bench/peers/faiss_topk.py). Writes",
                "retrieval-*.json to --out.",
                "Example: engram bench retrieval --cases 1x100000x32 --engines cpu,cpu-sq8 --peer none"})
final class RetrievalBenchCommand implements Callable<Integer> {
    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Mixin
    final SeedOption seedOption = new SeedOption(42);

    @Mixin
    final TierOption tier = new TierOption();

    @Option(names = "--cases", split = ",",
            description = "BxMxd cases (default: the tier's grid; quick: B 1,64 × M 1e4,1e5,1e6 × d 32; full: "
                    + "B 1,8,64,256 × M 1e4…1e7 × d 32,64)")
    List<String> cases;

    @Option(names = "--engines", split = ",",
            description = "engines to time (default: reference, cpu, cpu-bf16, cpu-sq8, and cuda where it runs; also emu, "
                    + "jcuda, and jcublas: the cuBLAS baseline, cublasSgemm scores + a scores-to-partials kernel, which "
                    + "needs libcublas.so.12)")
    List<String> engines;

    @Option(names = "--reps", defaultValue = "7", description = "at most this many timed repetitions per engine, "
            + "fewer once the median settles (at least 5 where B·M <= 1e6, else 3; reference: at most 3) (default: "
            + "${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--reference-cap", description = "run the reference engine only where B·M is at most this "
            + "(default: 1e6 quick, 1e7 full)")
    Double referenceCap;

    @Option(names = "--scores-cap", description = "run the peers that materialise the B×M scores (torch, torch-sdpa)"
            + " only where B·M is at most this (default: 1.6e7 quick, 6.4e7 full)")
    Double scoresCap;

    @Option(names = "--beta", defaultValue = "0.125", description = "inverse temperature (default: ${DEFAULT-VALUE})")
    float beta;

    @Option(names = "--k", defaultValue = "10", description = "top-k (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--peer", defaultValue = "auto",
            description = "auto (run each peer whose Python module is installed: torch, faiss) or none")
    String peer;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "python with torch and faiss (default: ${DEFAULT-VALUE})")
    String python;

    /** The tier's grid of cases as BxMxd. */
    static List<String> grid(boolean full) {
        int[] bs = full ? new int[] {1, 8, 64, 256} : new int[] {1, 64};
        long[] ms = full ? new long[] {10_000, 100_000, 1_000_000, 10_000_000} : new long[] {10_000, 100_000, 1_000_000};
        int[] ds = full ? new int[] {32, 64} : new int[] {32};
        List<String> out = new ArrayList<>();
        for (int d : ds) {
            for (int b : bs) {
                for (long m : ms) {
                    out.add(b + "x" + m + "x" + d);
                }
            }
        }
        return out;
    }

    /** Bytes of pattern data an engine streams per stored pattern of width d. */
    static double bytesPerPattern(String engine, int d) {
        return switch (engine) {
            case "cpu-bf16" -> 2.0 * d;
            case "cpu-sq8" -> d;
            default -> 4.0 * d;
        };
    }

    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = measure(json);
        BenchResults.write(json, output.out, "retrieval", root);
        return 0;
    }

    ObjectNode measure(ObjectMapper json) throws Exception {
        if (reps < 3 || k < 0) {
            throw new IllegalArgumentException("--reps must be >= 3 and --k >= 0; got " + reps + ", " + k);
        }
        List<String> caseList = cases != null ? cases : grid(tier.full());
        List<String> engineList = engines != null ? engines : defaultEngines();
        double refCap = referenceCap != null ? referenceCap : tier.full() ? 1e7 : 1e6;
        double scoreCap = scoresCap != null ? scoresCap : tier.full() ? 6.4e7 : 1.6e7;
        ObjectNode root = json.createObjectNode();
        ObjectNode machine = Machine.measureAndPrint(json);
        root.set("machine", machine);
        double readGbs = machine.get("measured_read_GBps").asDouble();
        double peak = machine.get("measured_f32_peak_GFLOPps").asDouble();
        root.put("tier", cases != null ? "custom" : tier.name()).put("beta", beta).put("k", k);
        root.putObject("caps")
                .put("reference_max_BM", refCap)
                .put("scores_materialising_peers_max_BM", scoreCap)
                .put("note", "the reference engine runs where B·M <= reference_max_BM; torch and torch-sdpa "
                        + "(which materialise the B×M scores) where B·M <= scores_materialising_peers_max_BM; "
                        + "the cpu engines and FAISS run every case");
        PythonPeer peers = new PythonPeer(python);
        ArrayNode peerInfo = root.putArray("peers");
        Map<String, PeerResult> peersSeen = new LinkedHashMap<>();
        ArrayNode results = root.putArray("cases");
        int caseNo = 0;
        for (String c : caseList) {
            caseNo++;
            long[] s;
            try {
                s = Arrays.stream(c.toLowerCase().split("x")).mapToLong(v -> (long) Double.parseDouble(v)).toArray();
            } catch (NumberFormatException e) {
                s = new long[0];
            }
            if (s.length != 3 || s[0] < 1 || s[1] < 1 || s[2] < 1 || s[0] > Integer.MAX_VALUE || s[2] > 4096) {
                throw new IllegalArgumentException("--cases: '" + c + "' is not BxMxd with B, M, d >= 1 (e.g. 1x1000000x32)");
            }
            int b = (int) s[0];
            long m = s[1];
            int d = (int) s[2];
            if (k > m) {
                throw new IllegalArgumentException("--k " + k + " exceeds M = " + m + " in case " + c);
            }
            double bm = (double) b * m;
            System.out.printf("case %d/%d: B=%d M=%d d=%d (float32 patterns: %.1f MB)%n", caseNo, caseList.size(),
                    b, m, d, m * d * 4 / 1e6);
            ObjectNode cn = results.addObject();
            cn.put("B", b).put("M", m).put("d", d);
            ArrayNode en = cn.putArray("engines");
            ObjectNode skipped = cn.putObject("skipped");
            Map<String, Double> ms = new LinkedHashMap<>();
            try (FloatMatrix x = RandomMatrices.uniform(m, d, seedOption.seed);
                 FloatMatrix q = RandomMatrices.uniform(b, d, seedOption.seed + 1);
                 PatternMemory mem = PatternMemory.wrap(x, null)) {
                RetrievalParams params = new RetrievalParams(beta, k);
                for (String name : engineList) {
                    boolean ref = name.equals("reference");
                    if (ref && bm > refCap) {
                        skipped.put(name, String.format("B·M = %.3g > reference cap %.3g", bm, refCap));
                        continue;
                    }
                    // jcublas: the cuBLAS baseline (cublasSgemm scores, a scores-to-partials kernel, the merge)
                    JCublasBaseline cublas = null;
                    Backend engine = null;
                    if (name.equals("jcublas")) {
                        String why = JCublasBaseline.unavailableReason();
                        if (why != null) {
                            en.addObject().put("engine", name).put("unavailable", why);
                            System.out.printf("  %-10s unavailable: %s%n", name, why);
                            continue;
                        }
                        cublas = JCublasBaseline.create(0);
                    } else {
                        engine = Backends.select(name);
                        if (engine instanceof JCudaBackend j && j.emulated()) {
                            String why = "the jcuda engine is on the emulated CUDA driver (engram.jcuda.driver): the "
                                    + "host CPU emulator, not a GPU; not timed";
                            skipped.put(name, why);
                            System.out.printf("  %-10s skipped: %s%n", name, why);
                            continue;
                        }
                    }
                    Backend be = engine;
                    JCublasBaseline cb = cublas;
                    Timing.Work call = be != null ? () -> be.retrieve(mem, q, params) : () -> cb.retrieve(mem, q, params);
                    Timing.Stats t;
                    try {
                        if (!ref) {
                            if (be != null && jitWarmed.add(name + "/" + d)) {
                                jitWarmUp(be, d, params);
                            }
                            Timing.warmUp(call, 1.0, 30);
                        }
                        t = ref ? Timing.measure(call, 0, 1, bm <= 1e5 ? 3 : 1, 5)
                                : Timing.measure(call, 0, bm <= 1e6 ? Math.min(5, reps) : 3, reps, 20);
                    } finally {
                        if (cublas != null) {
                            cublas.close();
                        }
                    }
                    ms.put(name, t.medianMs());
                    double gb = m * bytesPerPattern(name, d) / 1e9;
                    double gflop = 4.0 * b * m * d / 1e9;
                    double sec = t.medianMs() / 1e3;
                    double roofline = Math.max(gb / readGbs, gflop / peak);
                    ObjectNode e = t.putInto(en.addObject().put("engine", name));
                    e.put("GBps", gb / sec).put("GFLOPps", gflop / sec)
                            .put("fraction_of_read_bandwidth", gb / sec / readGbs)
                            .put("fraction_of_f32_peak", gflop / sec / peak)
                            .put("roofline_ms", roofline * 1e3)
                            .put("fraction_of_roofline", roofline / sec);
                    System.out.printf("  %-10s %s  %6.2f GB/s (%3.0f%% of read)  %6.1f GFLOP/s (%3.0f%% of peak)%n",
                            name, t.describe(), gb / sec, 100 * gb / sec / readGbs, gflop / sec, 100 * gflop / sec / peak);
                }
            }
            List<PeerResult> caseRuns = runPeers(peers, b, m, d, bm <= scoreCap, skipped);
            ObjectNode peerFigures = cn.putObject("peers");
            for (PeerResult p : caseRuns) {
                if (peersSeen.putIfAbsent(p.peer(), p) == null) {
                    p.describeTo(peerInfo.addObject());
                }
                double pm = p.line().path("ms").asDouble();
                ObjectNode pf = peerFigures.putObject(p.peer()).put("ms", pm);
                for (String key : List.of("min_ms", "max_ms", "p25_ms", "p75_ms")) {
                    if (p.line().has(key)) {
                        pf.put(key, p.line().get(key).asDouble());
                    }
                }
                pf.put("spread", (p.line().path("max_ms").asDouble(pm) - p.line().path("min_ms").asDouble(pm)) / pm)
                        .put("reps", p.line().path("reps").asInt()).put("computes", p.computes())
                        .put("blas", p.blas()).put("threads", p.threads()).put("blas_threads", p.blasThreads());
                System.out.printf("  %-10s %10s  (%s; %s)%n", p.peer(), Timing.ms(pm), p.computes(), p.describeBlas());
            }
            putRatios(cn, ms, caseRuns, "ms", true);
        }
        return root;
    }

    private final java.util.Set<String> jitWarmed = new java.util.HashSet<>();

    /**
     * Runs an engine's row and tile paths on a mid-sized memory (10⁵ patterns, B = 1 and 64) until the JIT has
     * compiled them: a small case alone would otherwise be timed in the interpreter, where the Vector API is
     * hundreds of times slower and too few calls fit in a warm-up to reach C2.
     */
    private void jitWarmUp(Backend engine, int d, RetrievalParams params) throws Exception {
        try (FloatMatrix x = RandomMatrices.uniform(100_000, d, 7); PatternMemory mem = PatternMemory.wrap(x, null);
             FloatMatrix q1 = RandomMatrices.uniform(1, d, 8); FloatMatrix q64 = RandomMatrices.uniform(64, d, 9)) {
            Timing.warmUp(() -> engine.retrieve(mem, q1, params), 2, 60);
            Timing.warmUp(() -> engine.retrieve(mem, q64, params), 2, 60);
        }
    }

    private static List<String> defaultEngines() {
        List<String> out = new ArrayList<>(List.of("reference", "cpu", "cpu-bf16", "cpu-sq8"));
        if (Backends.unavailableReason("cuda") == null) {
            out.add("cuda");
        }
        return out;
    }

    /**
     * Writes the case's ratios: each engine against the reference engine and each peer (peer time / engine time, or
     * engine rate / peer rate), and against the strongest peer of the case: the fastest one whose ratio may be
     * reported ({@link PeerResult#verdict}), whatever part of the work it computes.
     *
     * @param lowerIsBetter true when {@code figure} is a time, false when it is a rate
     */
    static void putRatios(ObjectNode cn, Map<String, Double> mine, List<PeerResult> caseRuns, String figure,
                          boolean lowerIsBetter) {
        ObjectNode ratios = cn.putObject("ratios");
        PeerResult strongest = null;
        for (PeerResult p : caseRuns) {
            if (p.verdict() == PeerResult.Verdict.REFUSE) {
                continue;
            }
            double v = p.line().path(figure).asDouble();
            if (strongest == null || (lowerIsBetter ? v < strongest.line().path(figure).asDouble()
                    : v > strongest.line().path(figure).asDouble())) {
                strongest = p;
            }
        }
        if (strongest != null) {
            cn.putObject("strongest_peer").put("peer", strongest.peer()).put("computes", strongest.computes())
                    .put(figure, strongest.line().path(figure).asDouble()).put("blas", strongest.blas());
        }
        Double ref = mine.get("reference");
        for (Map.Entry<String, Double> e : mine.entrySet()) {
            if (e.getKey().equals("reference")) {
                continue;
            }
            double v = e.getValue();
            if (ref != null) {
                double r = lowerIsBetter ? ref / v : v / ref;
                ratios.put(e.getKey() + "_vs_reference", r);
                System.out.printf("  %s is %.1f× the reference engine%n", e.getKey(), r);
            }
            for (PeerResult p : caseRuns) {
                double pv = p.line().path(figure).asDouble();
                double r = lowerIsBetter ? pv / v : v / pv;
                p.putRatio(ratios, e.getKey(), r);
                System.out.println(p.ratioLine(e.getKey(), r));
            }
            if (strongest != null) {
                double pv = strongest.line().path(figure).asDouble();
                ratios.put(e.getKey() + "_vs_strongest", lowerIsBetter ? pv / v : v / pv);
            }
        }
        if (strongest != null) {
            System.out.printf("  strongest peer here: %s (%s)%n", strongest.peer(), strongest.computes());
        }
    }

    /** Runs the retrieval peers on one case; empty when --peer none or none can run. */
    private List<PeerResult> runPeers(PythonPeer peers, int b, long m, int d, boolean scoresFit, ObjectNode skipped)
            throws Exception {
        List<PeerResult> result = new ArrayList<>();
        if (peer.equals("none")) {
            return result;
        }
        String c = b + "x" + m + "x" + d;
        String threads = String.valueOf(Runtime.getRuntime().availableProcessors());
        String peerReps = String.valueOf(Math.min(reps, 5));
        if (scoresFit) {
            result.addAll(peers.run("torch_retrieval.py", "torch", List.of("--cases", c, "--threads", threads,
                    "--reps", peerReps, "--beta", String.valueOf(beta), "--k", String.valueOf(k))));
        } else {
            String why = String.format("B·M = %.3g > scores cap: materialises the B×M scores", (double) b * m);
            skipped.put("torch", why).put("torch-sdpa", why);
        }
        result.addAll(peers.run("faiss_topk.py", "faiss", List.of("--cases", c, "--threads", threads,
                "--reps", peerReps, "--k", String.valueOf(k))));
        return result;
    }
}
