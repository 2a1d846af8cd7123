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
import dev.engram.tensor.AtomicFiles;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Side-by-side retrieval benchmark: each engine on the same random memory, then, for the same case, the Python peers
 * on random data of the same shapes (PyTorch's obvious code for everything, PyTorch's scaled-dot-product attention for
 * the output, FAISS IndexFlatIP for the top-k), ratios printed, JSON written under bench/results/. Each peer's BLAS
 * and threads are printed and recorded; no ratio is reported against a peer on the reference BLAS
 * ({@link PeerResult}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Times retrieval per engine and against the Python peers, case by case in the same run:",
                "PyTorch (bench/peers/torch_retrieval.py: obvious code, and scaled-dot-product attention for the",
                "output) and FAISS IndexFlatIP for the top-k (bench/peers/faiss_topk.py). Writes JSON to --out."})
final class BenchCommand implements Callable<Integer> {
    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Mixin
    final SeedOption seedOption = new SeedOption(42);

    @Option(names = "--cases", defaultValue = "1x1000000x32,64x1000000x32,256x200000x64", split = ",",
            description = "BxMxd cases (default: ${DEFAULT-VALUE})")
    List<String> cases;

    @Option(names = "--engines", defaultValue = "reference,cpu,cpu-bf16", split = ",",
            description = "engines to time: reference, cpu, cuda, emu, jcuda, auto, and jcublas (the cuBLAS baseline: "
                    + "cublasSgemm scores + a scores-to-partials kernel; needs libcublas.so.12) (default: ${DEFAULT-VALUE})")
    List<String> engines;

    @Option(names = "--reps", defaultValue = "7", description = "timed repetitions per engine (reference: 1)")
    int reps;

    @Option(names = "--beta", defaultValue = "0.125", description = "inverse temperature (default: ${DEFAULT-VALUE})")
    float beta;

    @Option(names = "--k", defaultValue = "10", description = "top-k (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--peer", defaultValue = "auto",
            description = "auto (run each peer whose Python module is installed: torch, faiss) or none")
    String peer;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "python with torch and faiss (default: ${DEFAULT-VALUE})")
    String python;



    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        ObjectNode machine = Machine.describeAndPrint(json);
        root.set("machine", machine);
        double readGbs = Machine.readBandwidthGBs();
        machine.put("measured_read_GBps", readGbs);
        System.out.printf("measured streaming read bandwidth (all cores): %.1f GB/s%n", readGbs);
        root.put("beta", beta);
        root.put("k", k);
        PythonPeer peers = new PythonPeer(python);
        ArrayNode peerInfo = root.putArray("peers");
        Map<String, PeerResult> peersSeen = new LinkedHashMap<>();
        ArrayNode results = root.putArray("cases");
        int caseNo = 0;
        for (String c : cases) {
            caseNo++;
            long[] s = Arrays.stream(c.toLowerCase().split("x")).mapToLong(Long::parseLong).toArray();
            if (s.length != 3) {
                throw new IllegalArgumentException("case '" + c + "' is not BxMxd");
            }
            int b = (int) s[0];
            long m = s[1];
            int d = (int) s[2];
            System.out.printf("case %d/%d: B=%d M=%d d=%d (V = X: %.1f MB streamed per batch)%n", caseNo, cases.size(),
                    b, m, d, m * d * 4 / 1e6);
            ObjectNode cn = results.addObject();
            cn.put("B", b).put("M", m).put("d", d);
            ArrayNode en = cn.putArray("engines");
            Map<String, Double> ms = new LinkedHashMap<>();
            try (FloatMatrix x = RandomMatrices.uniform(m, d, seedOption.seed);
                 FloatMatrix q = RandomMatrices.uniform(b, d, seedOption.seed + 1);
                 PatternMemory mem = PatternMemory.wrap(x, null)) {
                RetrievalParams params = new RetrievalParams(beta, k);
                for (String name : engines) {
                    JCublasBaseline cublas = null;
                    Runnable call;
                    if (name.equals("jcublas")) {
                        String why = JCublasBaseline.unavailableReason();
                        if (why != null) {
                            en.addObject().put("engine", name).put("unavailable", why);
                            System.out.printf("  %-10s unavailable: %s%n", name, why);
                            continue;
                        }
                        cublas = JCublasBaseline.create(0);
                        JCublasBaseline c0 = cublas;
                        call = () -> c0.retrieve(mem, q, params);
                    } else {
                        Backend engine = Backends.select(name);
                        call = () -> engine.retrieve(mem, q, params);
                    }
                    int n = name.equals("reference") ? 1 : reps;
                    double[] t = new double[n];
                    try {
                        if (!name.equals("reference")) {
                            // warm up until the JIT has settled: at least 3 calls and 1.5 s
                            long w0 = System.nanoTime();
                            for (int w = 0; w < 3 || System.nanoTime() - w0 < 1_500_000_000L; w++) {
                                call.run();
                            }
                        }
                        for (int r = 0; r < n; r++) {
                            long t0 = System.nanoTime();
                            call.run();
                            t[r] = (System.nanoTime() - t0) / 1e6;
                            System.err.printf("\r  %-9s rep %d/%d: %.2f ms   ", name, r + 1, n, t[r]);
                        }
                    } finally {
                        if (cublas != null) {
                            cublas.close();
                        }
                    }
                    System.err.print("\r");
                    Arrays.sort(t);
                    double med = t[n / 2];
                    ms.put(name, med);
                    double gb = m * d * (name.equals("cpu-bf16") ? 2.0 : 4.0) / 1e9; // bytes actually streamed
                    double gflop = 4.0 * b * m * d / 1e9;
                    ObjectNode e = en.addObject();
                    e.put("engine", name).put("ms", med).put("min_ms", t[0]).put("reps", n)
                            .put("GBps", gb / (med / 1e3)).put("GFLOPps", gflop / (med / 1e3))
                            .put("fraction_of_read_bandwidth", gb / (med / 1e3) / readGbs);
                    System.out.printf("  %-10s %10.2f ms  %7.2f GB/s (%3.0f%% of measured read)  %7.1f GFLOP/s%n",
                            name, med, gb / (med / 1e3), 100 * gb / (med / 1e3) / readGbs, gflop / (med / 1e3));
                }
            }
            List<PeerResult> caseRuns = runPeers(peers, c);
            ObjectNode peerFigures = cn.putObject("peers");
            for (PeerResult p : caseRuns) {
                if (peersSeen.putIfAbsent(p.peer(), p) == null) {
                    p.describeTo(peerInfo.addObject());
                }
                double pm = p.line().path("ms").asDouble();
                peerFigures.putObject(p.peer()).put("ms", pm).put("min_ms", p.line().path("min_ms").asDouble())
                        .put("reps", p.line().path("reps").asInt()).put("computes", p.computes())
                        .put("blas", p.blas()).put("threads", p.threads())
                        .put("blas_threads", p.blasThreads());
                System.out.printf("  %-10s %10.2f ms  (%s; %s)%n", p.peer(), pm, p.computes(), p.describeBlas());
            }
            ObjectNode ratios = cn.putObject("ratios");
            Double ref = ms.get("reference");
            for (Map.Entry<String, Double> e : ms.entrySet()) {
                if (e.getKey().equals("reference")) {
                    continue;
                }
                if (ref != null) {
                    ratios.put(e.getKey() + "_vs_reference", ref / e.getValue());
                    System.out.printf("  %s is %.1f× the reference engine%n", e.getKey(), ref / e.getValue());
                }
                for (PeerResult p : caseRuns) {
                    double ratio = p.line().path("ms").asDouble() / e.getValue();
                    p.putRatio(ratios, e.getKey(), ratio);
                    System.out.println(p.ratioLine(e.getKey(), ratio));
                }
            }
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path file = output.out.resolve("retrieval-" + stamp + ".json");
        AtomicFiles.writeString(file, json.writeValueAsString(root));
        AtomicFiles.writeString(output.out.resolve("retrieval-latest.json"), json.writeValueAsString(root));
        System.out.println("wrote " + file);
        return 0;
    }

    /** Runs the retrieval peers on one case ("BxMxd"); empty when --peer none or none can run. */
    private List<PeerResult> runPeers(PythonPeer peers, String c) throws Exception {
        List<PeerResult> result = new ArrayList<>();
        if (peer.equals("none")) {
            return result;
        }
        String threads = String.valueOf(Runtime.getRuntime().availableProcessors());
        String peerReps = String.valueOf(Math.min(reps, 5));
        result.addAll(peers.run("torch_retrieval.py", "torch", List.of("--cases", c, "--threads", threads,
                "--reps", peerReps, "--beta", String.valueOf(beta), "--k", String.valueOf(k))));
        result.addAll(peers.run("faiss_topk.py", "faiss", List.of("--cases", c, "--threads", threads,
                "--reps", peerReps, "--k", String.valueOf(k))));
        return result;
    }
}
