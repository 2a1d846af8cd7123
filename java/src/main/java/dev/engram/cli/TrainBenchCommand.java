package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.train.PhaseSpaceSamples;
import dev.engram.hnn.train.Trainer;
import dev.engram.hnn.train.TrainingConfig;
import dev.engram.tensor.RandomSampling;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * HNN training benchmark: seconds per Adam step of the general HNN per training engine and the PyTorch peer
 * (bench/peers/torch_hnn_train.py, float32 and float64) in the same run, with the fraction of the machine's float32
 * peak. Multiply-adds per sample and step, for widths w_0 … w_L, 1 (L hidden layers): the forward pass, ∇ₓH,
 * δ̄ = ḡ·Wᵀ and the two outer products of W̄ each cost S = Σ_{l=1..L} w_{l−1}·w_l, and ā_{l−1} += z̄_l·W_{l−1} costs
 * S − w_0·w_1, so 6S − w_0·w_1 (the output layer's w_L terms are left out).
 *
 * <p>Two clocks: wall-clock seconds per step (the fraction of peak refers to them) and process CPU seconds per step
 * (all threads). On a shared machine under load the wall clock measures the other tenants as much as the code, so
 * ratios are given for both, from the same run.
 */
@Command(name = "training", mixinStandardHelpOptions = true,
        description = {"Times HNN training steps (forward, ∇H, loss, double backprop, Adam) per engine and against the",
                "PyTorch peer (bench/peers/torch_hnn_train.py), and dense associative memory training steps (fused",
                "attention forward and backward, AdamW; bench/peers/torch_dense_memory.py), in one run.",
                "Writes train-*.json to --out.",
                "Example: engram bench training --cases spring:200:32x2:0:3 --engines cpu --peer none"})
final class TrainBenchCommand implements Callable<Integer> {
    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Mixin
    final TierOption tier = new TierOption();

    @Option(names = "--cases", split = ",",
            description = {"NAME:POINTS:HIDDENxLAYERS:BATCH:STEPS (BATCH 0 = full batch); default quick:",
                    "spring:750:200x2:0:20,minibatch:100000:64x2:1024:98; full adds wide:750:512x2:0:10"})
    List<String> cases;

    @Option(names = "--dense-cases", defaultValue = "dense:100000:32:4x8:32:3", split = ",",
            description = "dense associative memory cases NAME:M:D:HEADSxHEADDIM:BATCH:STEPS, or none (default: ${DEFAULT-VALUE})")
    List<String> denseCases;

    @Option(names = "--engines", defaultValue = "reference,cpu", split = ",")
    List<String> engines;

    @Option(names = "--reps", defaultValue = "3", description = "timed repetitions, the best is the headline, median and spread recorded as ms per step (reference: 1)")
    int reps;

    @Option(names = "--reference-steps", defaultValue = "5", description = "steps the reference engine is timed on")
    int referenceSteps;

    @Option(names = "--peak-gflops",
            description = "the float32 rate the fraction of peak refers to (default: the FMA peak measured at the start)")
    Double peakGflopsOption;

    @Option(names = "--peer", defaultValue = "auto", description = "auto (run PyTorch when installed) or none")
    String peer;

    @Option(names = "--python", defaultValue = "/usr/bin/python3")
    String python;


    private record Case(String name, int points, int hidden, int layers, int batch, int steps) {
        static Case parse(String s) {
            String[] f = s.split(":");
            if (f.length != 5) {
                throw new IllegalArgumentException("--cases: '" + s + "' is not NAME:POINTS:HIDDENxLAYERS:BATCH:STEPS");
            }
            String[] hl = f[2].toLowerCase().split("x");
            Case c = new Case(f[0], Integer.parseInt(f[1]), Integer.parseInt(hl[0]), Integer.parseInt(hl[1]),
                    Integer.parseInt(f[3]), Integer.parseInt(f[4]));
            if (c.points < 1 || c.hidden < 1 || c.layers < 1 || c.batch < 0 || c.steps < 1) {
                throw new IllegalArgumentException("--cases: '" + s + "' needs POINTS, HIDDEN, LAYERS, STEPS >= 1, BATCH >= 0");
            }
            return c;
        }

        int batchSize() {
            return batch == 0 ? points : Math.min(batch, points);
        }
    }

    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        BenchResults.write(json, output.out, "train", measure(json));
        return 0;
    }

    ObjectNode measure(ObjectMapper json) throws Exception {
        List<String> cases = this.cases != null ? this.cases : tier.full()
                ? List.of("spring:750:200x2:0:20", "minibatch:100000:64x2:1024:98", "wide:750:512x2:0:10")
                : List.of("spring:750:200x2:0:20", "minibatch:100000:64x2:1024:98");
        List<Case> parsed = cases.equals(List.of("none")) ? List.of() : cases.stream().map(Case::parse).toList();
        List<DenseMemoryTrainBench.Sizes> dense = denseCases.equals(List.of("none")) ? List.of()
                : denseCases.stream().map(DenseMemoryTrainBench.Sizes::parse).toList();
        ObjectNode root = json.createObjectNode();
        ObjectNode machine = Machine.measureAndPrint(json);
        root.set("machine", machine);
        root.put("tier", this.cases != null ? "custom" : tier.name());
        double peakGflops = peakGflopsOption != null ? peakGflopsOption
                : machine.get("measured_f32_peak_GFLOPps").asDouble();
        root.put("peak_GFLOPps", peakGflops);
        PythonPeer peers = new PythonPeer(python);
        ArrayNode peerInfo = root.putArray("peers");
        ArrayNode results = root.putArray("cases");
        for (Case c : parsed) {
            int[] widths = new int[c.layers + 2];
            widths[0] = 2;
            java.util.Arrays.fill(widths, 1, c.layers + 1, c.hidden);
            widths[c.layers + 1] = 1;
            long s = 0;
            for (int l = 1; l <= c.layers; l++) {
                s += (long) widths[l - 1] * widths[l];
            }
            long macs = 6 * s - (long) widths[0] * widths[1];
            double flopPerStep = 2.0 * macs * c.batchSize();
            System.out.printf("case %s: %d points, 2→%d×%d→1 tanh, batch %d: %d multiply-adds per sample, %.3f GFLOP per step; %.0f GFLOP/s ⇒ ≥ %.2f ms per step%n",
                    c.name, c.points, c.hidden, c.layers, c.batchSize(), macs, flopPerStep / 1e9, peakGflops,
                    1e3 * flopPerStep / (peakGflops * 1e9));
            ObjectNode cn = results.addObject().put("case", c.name).put("points", c.points).put("hidden", c.hidden)
                    .put("layers", c.layers).put("batch", c.batchSize()).put("macs_per_sample", macs)
                    .put("gflop_per_step", flopPerStep / 1e9);
            PhaseSpaceSamples data = springData(c.points, 7);
            Map<String, double[]> perStep = new LinkedHashMap<>();
            for (String name : engines) {
                Backend engine = Backends.select(Capability.TRAINING, name);
                boolean ref = name.equals("reference");
                int steps = ref ? Math.min(c.steps, referenceSteps) : c.steps;
                if (!ref) {
                    // warm-up until the JIT has compiled the kernels
                    Timing.warmUp(() -> time(c, widths, data, engine, Math.min(steps, 10)), 1.0, 30);
                }
                double wall = Double.MAX_VALUE;
                double cpu = Double.MAX_VALUE;
                double[] walls = new double[ref ? 1 : reps];
                for (int r = 0; r < walls.length; r++) {
                    double[] t = time(c, widths, data, engine, steps);
                    walls[r] = 1e3 * t[0] / steps;
                    wall = Math.min(wall, t[0] / steps);
                    cpu = Math.min(cpu, t[1] / steps);
                }
                perStep.put(name, new double[] {wall, cpu});
                double gflops = flopPerStep / wall / 1e9;
                Timing.Stats.of(walls, true).putInto(cn.putObject(name)).put("steps", steps)
                        .put("seconds_per_step", wall).put("cpu_seconds_per_step", cpu)
                        .put("GFLOPps", gflops).put("fraction_of_peak", gflops / peakGflops);
                System.out.printf("  %-10s %8.2f ms per step (%8.2f ms CPU)  %6.1f GFLOP/s  %4.1f%% of peak%n", name,
                        1e3 * wall, 1e3 * cpu, gflops, 100 * gflops / peakGflops);
            }
            List<PeerResult> caseRuns = new ArrayList<>();
            if (!peer.equals("none")) {
                String spec = c.name + ":" + c.points + ":" + c.hidden + "x" + c.layers + ":" + c.batch + ":"
                        + Math.min(c.steps, 20);
                caseRuns = peers.run("torch_hnn_train.py", "torch", List.of("--cases", spec,
                        "--threads", String.valueOf(Runtime.getRuntime().availableProcessors()),
                        "--reps", String.valueOf(reps)));
            }
            ObjectNode peerFigures = cn.putObject("peers");
            for (PeerResult p : caseRuns) {
                if (peerInfo.isEmpty()) {
                    p.describeTo(peerInfo.addObject());
                }
                double wall = p.line().path("min_seconds_per_step").asDouble();
                double cpu = p.line().path("cpu_seconds_per_step").asDouble();
                peerFigures.putObject(p.peer()).put("seconds_per_step", wall).put("cpu_seconds_per_step", cpu)
                        .put("median_seconds_per_step", p.line().path("seconds_per_step").asDouble())
                        .put("computes", p.computes()).put("blas", p.blas()).put("threads", p.threads())
                        .put("blas_threads", p.blasThreads());
                System.out.printf("  %-14s %8.2f ms per step (%8.2f ms CPU)  %6.1f GFLOP/s (%s; %s)%n", p.peer(),
                        1e3 * wall, 1e3 * cpu, flopPerStep / wall / 1e9, p.computes(), p.describeBlas());
            }
            ObjectNode ratios = cn.putObject("ratios");
            for (Map.Entry<String, double[]> e : perStep.entrySet()) {
                if (e.getKey().equals("reference")) {
                    continue;
                }
                double[] mine = e.getValue();
                double[] ref = perStep.get("reference");
                if (ref != null) {
                    ratios.put(e.getKey() + "_vs_reference", ref[0] / mine[0])
                            .put(e.getKey() + "_vs_reference_cpu_time", ref[1] / mine[1]);
                    System.out.printf("  %s is %.1f× the reference engine (%.1f× in CPU time)%n", e.getKey(),
                            ref[0] / mine[0], ref[1] / mine[1]);
                }
                for (PeerResult p : caseRuns) {
                    double wallRatio = p.line().path("min_seconds_per_step").asDouble() / mine[0];
                    double cpuRatio = p.line().path("cpu_seconds_per_step").asDouble() / mine[1];
                    p.putRatio(ratios, e.getKey(), wallRatio);
                    p.putRatio(ratios, e.getKey() + "_cpu_time", cpuRatio);
                    System.out.println(p.ratioLine(e.getKey(), wallRatio) + String.format(" (%.1f× in CPU time)", cpuRatio));
                }
            }
        }
        ArrayNode denseResults = root.putArray("dense_memory");
        for (DenseMemoryTrainBench.Sizes d : dense) {
            DenseMemoryTrainBench.Result r = DenseMemoryTrainBench.measure(d, engines, reps, referenceSteps,
                    peer.equals("none") ? null : peers);
            r.print(peakGflops);
            r.writeTo(denseResults.addObject(), peakGflops);
            for (PeerResult p : r.peers()) {
                if (peerInfo.isEmpty()) {
                    p.describeTo(peerInfo.addObject());
                }
            }
        }
        return root;
    }

    /** Wall-clock and process CPU seconds for {@code steps} Adam steps of a fresh HNN on {@code engine}. */
    private static double[] time(Case c, int[] widths, PhaseSpaceSamples data, Backend engine, int steps) {
        int[] hidden = java.util.Arrays.copyOfRange(widths, 1, widths.length - 1);
        HamiltonianNetwork model = HamiltonianNetwork.create(1, hidden, 1);
        TrainingConfig config = TrainingConfig.defaults().withSeed(1);
        if (c.batch == 0) {
            config = config.withEpochs(steps);
        } else {
            // one epoch of minibatches on the first steps × batch points (a subset keeps the step count exact)
            config = config.withEpochs(1).withBatchSize(c.batchSize());
            int n = Math.min(data.size(), steps * c.batchSize());
            data = data.subset(java.util.stream.IntStream.range(0, n).toArray());
        }
        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        Trainer.train(model, data, config, null, engine);
        return new double[] {(System.nanoTime() - t0) / 1e9, (processCpuNanos() - c0) / 1e9};
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The spring's field at Gaussian states: dq/dt = 2p, dp/dt = −2q. */
    private static PhaseSpaceSamples springData(int points, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] q = RandomSampling.gaussians(r, points, 1);
        double[] p = RandomSampling.gaussians(r, points, 1);
        double[] dq = new double[points];
        double[] dp = new double[points];
        for (int i = 0; i < points; i++) {
            dq[i] = 2 * p[i];
            dp[i] = -2 * q[i];
        }
        return PhaseSpaceSamples.of(1, q, p, dq, dp);
    }
}
