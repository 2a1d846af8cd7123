package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.tensor.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Ensemble integration benchmark: an HNN leapfrog over N trajectories per engine, trajectory-steps per second (median
 * of the repetitions), the fraction of the machine's float32 peak, and, for the same case right after, the PyTorch
 * autograd peer; its BLAS and threads are printed and recorded, and no ratio is reported against it on the reference
 * BLAS ({@link PeerResult}).
 */
@Command(name = "bench-ensemble", mixinStandardHelpOptions = true,
        description = {"Times batched HNN leapfrog ensembles per engine and against the PyTorch autograd peer",
                "(bench/peers/torch_leapfrog.py), case by case in the same run. Writes JSON to --out."})
final class EnsembleBenchCommand implements Callable<Integer> {
    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Option(names = "--cases", defaultValue = "10000x100,100000x20", split = ",",
            description = "NxSTEPS cases (default: ${DEFAULT-VALUE})")
    List<String> cases;

    @Option(names = "--hidden", defaultValue = "64", description = "hidden width of the 2n→h→h→1 MLP (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--dof", defaultValue = "1", description = "degrees of freedom n (default: ${DEFAULT-VALUE})")
    int dof;

    @Option(names = "--engines", defaultValue = "reference,cpu", split = ",")
    List<String> engines;

    @Option(names = "--reps", defaultValue = "3", description = "timed repetitions, median reported (reference: 1)")
    int reps;

    @Option(names = "--reference-trajectories", defaultValue = "2000",
            description = "the reference engine runs on at most this many trajectories (throughput is per trajectory)")
    int referenceTrajectories;

    @Option(names = "--peak-gflops", defaultValue = "180",
            description = "the machine's float32 matrix-multiply rate the fraction of peak refers to (default: ${DEFAULT-VALUE}, measured sgemm on 2 Zen 4 cores)")
    double peakGflops;

    @Option(names = "--peer", defaultValue = "auto", description = "auto (run PyTorch when installed) or none")
    String peer;

    @Option(names = "--python", defaultValue = "/usr/bin/python3")
    String python;


    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.set("machine", Machine.describeAndPrint(json));
        MlpWeights h = MlpWeights.glorot(new int[] {2 * dof, hidden, hidden, 1}, 1);
        // multiply-adds per ∇H: forward Σ w_l·w_{l+1}, backward the same less the output layer's
        long macs = 0;
        int[] w = h.widths();
        for (int l = 0; l + 1 < w.length; l++) {
            macs += 2L * w[l] * w[l + 1];
        }
        macs -= w[w.length - 2];
        double flopPerStep = 3.0 * 2 * macs;
        double peakRate = peakGflops * 1e9 / flopPerStep;
        System.out.printf("MLP %s: %d multiply-adds per gradient, 3 gradients per leapfrog step; %.0f GFLOP/s ⇒ at most %.2f M trajectory-steps/s%n",
                java.util.Arrays.toString(w), macs, peakGflops, peakRate / 1e6);
        root.put("widths", java.util.Arrays.toString(w)).put("macs_per_gradient", macs)
                .put("peak_gflops_assumed", peakGflops).put("peak_traj_steps_per_s", peakRate);
        PythonPeer peers = new PythonPeer(python);
        ArrayNode peerInfo = root.putArray("peers");
        ArrayNode results = root.putArray("cases");
        for (String c : cases) {
            String[] parts = c.toLowerCase().split("x");
            int n = Integer.parseInt(parts[0]);
            int steps = Integer.parseInt(parts[1]);
            System.out.printf("case N=%d × %d steps (dt 0.01, leapfrog)%n", n, steps);
            ObjectNode cn = results.addObject().put("N", n).put("steps", steps);
            Map<String, Double> rate = new LinkedHashMap<>();
            for (String name : engines) {
                Backend engine = Backends.select(Capability.INTEGRATION, name);
                boolean ref = name.equals("reference");
                int count = ref ? Math.min(n, referenceTrajectories) : n;
                EnsembleSpec spec = EnsembleSpec.of(h, initial(dof, 0.5f), initial(dof, 0f), count, 0.01f, steps,
                        0.1f, 0.1f, 0f, 3, 0);
                if (!ref) {
                    engine.integrate(spec);
                }
                double[] t = new double[ref ? 1 : reps];
                for (int r = 0; r < t.length; r++) {
                    long t0 = System.nanoTime();
                    engine.integrate(spec);
                    t[r] = (System.nanoTime() - t0) / 1e9;
                }
                java.util.Arrays.sort(t);
                double median = t[t.length / 2];
                double tps = (double) count * steps / median;
                rate.put(name, tps);
                double gflops = tps * flopPerStep / 1e9;
                cn.putObject(name).put("trajectories", count).put("seconds", median).put("min_seconds", t[0])
                        .put("reps", t.length).put("traj_steps_per_s", tps)
                        .put("GFLOPps", gflops).put("fraction_of_peak", tps / peakRate);
                System.out.printf("  %-10s %8.3f s for %d trajectories  %8.3f M traj-steps/s  %6.1f GFLOP/s  %4.0f%% of peak%n",
                        name, median, count, tps / 1e6, gflops, 100 * tps / peakRate);
            }
            List<PeerResult> caseRuns = new ArrayList<>();
            if (!peer.equals("none")) {
                caseRuns = peers.run("torch_leapfrog.py", "torch", List.of("--cases", n + "x" + steps,
                        "--hidden", String.valueOf(hidden), "--dof", String.valueOf(dof),
                        "--threads", String.valueOf(Runtime.getRuntime().availableProcessors()),
                        "--reps", String.valueOf(reps)));
            }
            ObjectNode peerFigures = cn.putObject("peers");
            for (PeerResult p : caseRuns) {
                if (peerInfo.isEmpty()) {
                    p.describeTo(peerInfo.addObject());
                }
                double pr = p.line().path("traj_steps_per_s").asDouble();
                peerFigures.putObject(p.peer()).put("traj_steps_per_s", pr)
                        .put("seconds", p.line().path("seconds").asDouble()).put("reps", p.line().path("reps").asInt())
                        .put("computes", p.computes()).put("blas", p.blas()).put("threads", p.threads())
                        .put("blas_threads", p.blasThreads());
                System.out.printf("  %-10s %30.3f M traj-steps/s (%s; %s)%n", p.peer(), pr / 1e6, p.computes(),
                        p.describeBlas());
            }
            ObjectNode ratios = cn.putObject("ratios");
            for (Map.Entry<String, Double> e : rate.entrySet()) {
                if (e.getKey().equals("reference")) {
                    continue;
                }
                if (rate.containsKey("reference")) {
                    ratios.put(e.getKey() + "_vs_reference", e.getValue() / rate.get("reference"));
                    System.out.printf("  %s is %.1f× the reference engine%n", e.getKey(), e.getValue() / rate.get("reference"));
                }
                for (PeerResult p : caseRuns) {
                    double ratio = e.getValue() / p.line().path("traj_steps_per_s").asDouble();
                    p.putRatio(ratios, e.getKey(), ratio);
                    System.out.println(p.ratioLine(e.getKey(), ratio));
                }
            }
        }
        String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"));
        AtomicFiles.writeString(output.out.resolve("ensemble-" + stamp + ".json"), json.writeValueAsString(root));
        AtomicFiles.writeString(output.out.resolve("ensemble-latest.json"), json.writeValueAsString(root));
        System.out.println("wrote " + output.out.resolve("ensemble-" + stamp + ".json"));
        return 0;
    }

    private static float[] initial(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
