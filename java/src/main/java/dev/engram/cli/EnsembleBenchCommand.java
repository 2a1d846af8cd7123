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
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
@Command(name = "ensemble", mixinStandardHelpOptions = true,
        description = {"Times batched HNN leapfrog ensembles per engine and against the PyTorch autograd peer",
                "(bench/peers/torch_leapfrog.py), case by case in the same run. Writes ensemble-*.json to --out.",
                "Example: engram bench ensemble --cases 2000x10 --engines cpu --peer none"})
final class EnsembleBenchCommand implements Callable<Integer> {
    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Mixin
    final TierOption tier = new TierOption();

    @Option(names = "--cases", split = ",",
            description = "NxSTEPS cases (default: quick 1000x100,10000x100,100000x20; full adds 1000000x5)")
    List<String> cases;

    @Option(names = "--hidden", defaultValue = "64", description = "hidden width of the 2n→h→h→1 MLP (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--dof", defaultValue = "1", description = "degrees of freedom n (default: ${DEFAULT-VALUE})")
    int dof;

    @Option(names = "--engines", defaultValue = "reference,cpu", split = ",")
    List<String> engines;

    @Option(names = "--reps", defaultValue = "3", description = "at most this many timed repetitions (at least 3), median reported (reference: 1)")
    int reps;

    @Option(names = "--reference-trajectories", defaultValue = "2000",
            description = "the reference engine runs on at most this many trajectories (throughput is per trajectory)")
    int referenceTrajectories;

    @Option(names = "--peak-gflops",
            description = "the float32 rate the fraction of peak refers to (default: the FMA peak measured at the start)")
    Double peakGflopsOption;

    @Option(names = "--peer", defaultValue = "auto", description = "auto (run PyTorch when installed) or none")
    String peer;

    @Option(names = "--python", defaultValue = "/usr/bin/python3")
    String python;


    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        BenchResults.write(json, output.out, "ensemble", measure(json));
        return 0;
    }

    ObjectNode measure(ObjectMapper json) throws Exception {
        List<String> cases = this.cases != null ? this.cases : tier.full()
                ? List.of("1000x100", "10000x100", "100000x20", "1000000x5")
                : List.of("1000x100", "10000x100", "100000x20");
        ObjectNode root = json.createObjectNode();
        ObjectNode machine = Machine.measureAndPrint(json);
        root.set("machine", machine);
        root.put("tier", this.cases != null ? "custom" : tier.name());
        double peakGflops = peakGflopsOption != null ? peakGflopsOption
                : machine.get("measured_f32_peak_GFLOPps").asDouble();
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
                .put("peak_GFLOPps", peakGflops).put("peak_traj_steps_per_s", peakRate);
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
                    Timing.warmUp(() -> engine.integrate(spec), 1.0, 30);
                }
                Timing.Stats t = Timing.measure(() -> engine.integrate(spec), 0, ref ? 1 : 3,
                        ref ? 1 : Math.max(3, reps), 30);
                double median = t.medianMs() / 1e3;
                double tps = (double) count * steps / median;
                rate.put(name, tps);
                double gflops = tps * flopPerStep / 1e9;
                t.putInto(cn.putObject(name)).put("trajectories", count).put("seconds", median)
                        .put("traj_steps_per_s", tps)
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
            RetrievalBenchCommand.putRatios(cn, rate, caseRuns, "traj_steps_per_s", false);
        }
        return root;
    }

    private static float[] initial(int n, float v) {
        float[] a = new float[n];
        java.util.Arrays.fill(a, v);
        return a;
    }
}
