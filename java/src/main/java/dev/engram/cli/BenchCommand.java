package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.tensor.AtomicFiles;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Side-by-side retrieval benchmark: each engine on the same random memory, the PyTorch peer on random data of the
 * same shapes in the same run, ratios printed, JSON written under bench/results/.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Times retrieval per engine and against the PyTorch peer (bench/peers/torch_retrieval.py,",
                "run with /usr/bin/python3 when it has torch). Writes JSON to --out."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--cases", defaultValue = "1x1000000x32,64x1000000x32,256x200000x64", split = ",",
            description = "BxMxd cases (default: ${DEFAULT-VALUE})")
    List<String> cases;

    @Option(names = "--engines", defaultValue = "reference,cpu,cpu-bf16", split = ",",
            description = "engines to time: reference, cpu, cuda, emu, auto (default: ${DEFAULT-VALUE})")
    List<String> engines;

    @Option(names = "--reps", defaultValue = "7", description = "timed repetitions per engine (reference: 1)")
    int reps;

    @Option(names = "--beta", defaultValue = "0.125", description = "inverse temperature (default: ${DEFAULT-VALUE})")
    float beta;

    @Option(names = "--k", defaultValue = "10", description = "top-k (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--peer", defaultValue = "auto", description = "auto (run PyTorch when installed) or none")
    String peer;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "python with torch (default: ${DEFAULT-VALUE})")
    String python;

    @Option(names = "--out", defaultValue = "bench/results", description = "folder for the JSON results")
    Path out;

    @Option(names = "--seed", defaultValue = "42")
    long seed;

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
        Map<String, Double> peerMs = runPeer();
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
            Map<String, Double> ms = new HashMap<>();
            try (FloatMatrix x = RandomMatrices.uniform(m, d, seed);
                 FloatMatrix q = RandomMatrices.uniform(b, d, seed + 1);
                 PatternMemory mem = PatternMemory.wrap(x, null)) {
                RetrievalParams params = new RetrievalParams(beta, k);
                for (String name : engines) {
                    Backend engine = Backends.select(name);
                    int n = name.equals("reference") ? 1 : reps;
                    if (!name.equals("reference")) {
                        // warm up until the JIT has settled: at least 3 calls and 1.5 s
                        long w0 = System.nanoTime();
                        for (int w = 0; w < 3 || System.nanoTime() - w0 < 1_500_000_000L; w++) {
                            engine.retrieve(mem, q, params);
                        }
                    }
                    double[] t = new double[n];
                    for (int r = 0; r < n; r++) {
                        long t0 = System.nanoTime();
                        engine.retrieve(mem, q, params);
                        t[r] = (System.nanoTime() - t0) / 1e6;
                        System.err.printf("\r  %-9s rep %d/%d: %.2f ms   ", name, r + 1, n, t[r]);
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
            ObjectNode ratios = cn.putObject("ratios");
            Double ref = ms.get("reference");
            Double torch = peerMs.get(b + "x" + m + "x" + d);
            if (torch != null) {
                cn.put("torch_ms", torch);
                System.out.printf("  %-10s %10.2f ms  (PyTorch peer, same shapes, same run)%n", "torch", torch);
            }
            for (Map.Entry<String, Double> e : ms.entrySet()) {
                if (ref != null && !e.getKey().equals("reference")) {
                    ratios.put(e.getKey() + "_vs_reference", ref / e.getValue());
                    System.out.printf("  %s is %.1f× the reference engine%n", e.getKey(), ref / e.getValue());
                }
                if (torch != null && !e.getKey().equals("reference")) {
                    ratios.put(e.getKey() + "_vs_torch", torch / e.getValue());
                    System.out.printf("  %s is %.1f× PyTorch%n", e.getKey(), torch / e.getValue());
                }
            }
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        Path file = out.resolve("retrieval-" + stamp + ".json");
        AtomicFiles.writeString(file, json.writeValueAsString(root));
        AtomicFiles.writeString(out.resolve("retrieval-latest.json"), json.writeValueAsString(root));
        System.out.println("wrote " + file);
        return 0;
    }

    /** Runs the PyTorch peer for all cases; returns median ms keyed "BxMxd" (empty when torch is missing). */
    private Map<String, Double> runPeer() throws Exception {
        Map<String, Double> result = new HashMap<>();
        if (peer.equals("none")) {
            return result;
        }
        int threads = Runtime.getRuntime().availableProcessors();
        for (var n : PythonPeer.run(python, "torch_retrieval.py", List.of("--cases", String.join(",", cases),
                "--threads", String.valueOf(threads), "--reps", String.valueOf(Math.min(reps, 5)),
                "--beta", String.valueOf(beta), "--k", String.valueOf(k)))) {
            result.put(n.get("B").asText() + "x" + n.get("M").asText() + "x" + n.get("d").asText(), n.get("ms").asDouble());
        }
        return result;
    }
}
