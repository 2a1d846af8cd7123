package dev.engram.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Attention;
import dev.engram.engine.AttentionForward;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.hopfield.DenseAssociativeMemory;
import dev.engram.tensor.RandomSampling;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Training-step benchmark of the trainable dense associative memory ({@link DenseAssociativeMemory}): seconds per
 * AdamW step per training engine, and the attention alone (the fused {@link Backend#attend} +
 * {@link Backend#attendBackward} at the step's shapes), against the PyTorch peer bench/peers/torch_dense_memory.py
 * (the same model, float32 and float64, materialised softmax) in one run. Independent of any command: give it the
 * sizes, get the figures back, print or write them.
 *
 * <pre>
 *   DenseMemoryTrainBench.Sizes s = DenseMemoryTrainBench.Sizes.parse("dense:100000:32:4x8:32:3");
 *   DenseMemoryTrainBench.Result r = DenseMemoryTrainBench.measure(s, List.of("reference", "cpu"), 3, 1,
 *           new PythonPeer("/usr/bin/python3"));   // null: no peer
 *   r.print(180);  r.writeTo(jsonNode, 180);
 * </pre>
 *
 * <p>Work per step (multiply-adds; exp and the normalisations left out), H heads of width h, batch B, M stored
 * rows of width d, values of width 1: the attention 7·H·B·M·h (forward: the scores and the outputs, H·B·M·h each;
 * backward: the scores again, ∂P, ∂V, ∂K and ∂Q, H·B·M·h each), and the projections of the stored rows
 * 3·M·H·h·(d + 1) (forward, ∂W and ∂κ).
 */
final class DenseMemoryTrainBench {
    private DenseMemoryTrainBench() {
    }

    /** Value width of the benchmarked model (a next-period return). */
    static final int VALUE_DIM = 1;
    /** Model width of the benchmarked model. */
    static final int MODEL_DIM = 16;

    /**
     * @param name    label
     * @param memory  M stored rows
     * @param dim     d, input and key width
     * @param heads   H
     * @param headDim h
     * @param batch   B samples per step
     * @param steps   timed steps
     */
    record Sizes(String name, int memory, int dim, int heads, int headDim, int batch, int steps) {
        Sizes {
            if (memory < 2 || dim < 1 || heads < 1 || headDim < 1 || batch < 1 || steps < 1) {
                throw new IllegalArgumentException("dense memory case '" + name + "' needs M >= 2 and every other size"
                        + " >= 1, got M=" + memory + " d=" + dim + " heads=" + heads + "x" + headDim + " batch="
                        + batch + " steps=" + steps);
            }
        }

        /** NAME:M:D:HEADSxHEADDIM:BATCH:STEPS, e.g. dense:100000:32:4x8:32:3. */
        static Sizes parse(String s) {
            String[] f = s.split(":");
            String[] hh = f.length == 6 ? f[3].toLowerCase().split("x") : new String[0];
            if (hh.length != 2) {
                throw new IllegalArgumentException("dense memory case '" + s + "' is not NAME:M:D:HEADSxHEADDIM:BATCH:STEPS");
            }
            try {
                return new Sizes(f[0], Integer.parseInt(f[1]), Integer.parseInt(f[2]), Integer.parseInt(hh[0]),
                        Integer.parseInt(hh[1]), Integer.parseInt(f[4]), Integer.parseInt(f[5]));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("dense memory case '" + s + "': " + e.getMessage()
                        + " is not a whole number");
            }
        }

        String spec() {
            return name + ":" + memory + ":" + dim + ":" + heads + "x" + headDim + ":" + batch + ":" + steps;
        }

        double attentionMacs() {
            return 7.0 * heads * batch * memory * headDim;
        }

        double projectionMacs() {
            return 3.0 * memory * heads * headDim * (dim + VALUE_DIM);
        }
    }

    /** Wall-clock and process CPU seconds per step, of the whole step and of the attention alone. */
    record Timing(String engine, int steps, double seconds, double cpuSeconds, double attentionSeconds,
                  double attentionCpuSeconds) {
    }

    /** The figures of one case. */
    record Result(Sizes sizes, List<Timing> engines, List<PeerResult> peers) {

        /** Prints one line per engine and peer, fractions of {@code peakGflops}, and the ratios. */
        void print(double peakGflops) {
            double stepFlop = 2 * (sizes.attentionMacs() + sizes.projectionMacs());
            double attFlop = 2 * sizes.attentionMacs();
            System.out.printf("dense memory %s: M=%d, d=%d, %d heads × %d, batch %d: %.3f GFLOP per step (attention %.3f);"
                            + " %.0f GFLOP/s ⇒ ≥ %.2f ms per step%n", sizes.name, sizes.memory, sizes.dim, sizes.heads,
                    sizes.headDim, sizes.batch, stepFlop / 1e9, attFlop / 1e9, peakGflops,
                    1e3 * stepFlop / (peakGflops * 1e9));
            for (Timing t : engines) {
                System.out.printf("  %-14s step %9.2f ms (%9.2f ms CPU) %5.1f%% of peak | attention %9.2f ms (%9.2f ms CPU)"
                                + " %5.1f%% of peak%n", t.engine, 1e3 * t.seconds, 1e3 * t.cpuSeconds,
                        100 * stepFlop / t.seconds / 1e9 / peakGflops, 1e3 * t.attentionSeconds,
                        1e3 * t.attentionCpuSeconds, 100 * attFlop / t.attentionSeconds / 1e9 / peakGflops);
            }
            for (PeerResult p : peers) {
                boolean step = p.line().path("part").asText().equals("step");
                double wall = p.line().path("min_seconds_per_step").asDouble();
                System.out.printf("  %-14s %s %9.2f ms (%9.2f ms CPU) %5.1f%% of peak (%s)%n", p.peer(),
                        step ? "step     " : "attention", 1e3 * wall,
                        1e3 * p.line().path("cpu_seconds_per_step").asDouble(),
                        100 * (step ? stepFlop : attFlop) / wall / 1e9 / peakGflops, p.describeBlas());
            }
            Timing ref = engine("reference");
            for (Timing t : engines) {
                if (t == ref) {
                    continue;
                }
                if (ref != null) {
                    System.out.printf("  %s is %.1f× the reference engine per step (%.1f× in CPU time), %.1f× on the"
                                    + " attention%n", t.engine, ref.seconds / t.seconds, ref.cpuSeconds / t.cpuSeconds,
                            ref.attentionSeconds / t.attentionSeconds);
                }
                for (PeerResult p : peers) {
                    boolean step = p.line().path("part").asText().equals("step");
                    double wall = p.line().path("min_seconds_per_step").asDouble() / (step ? t.seconds : t.attentionSeconds);
                    double cpu = p.line().path("cpu_seconds_per_step").asDouble()
                            / (step ? t.cpuSeconds : t.attentionCpuSeconds);
                    System.out.println(p.ratioLine(t.engine + (step ? " step" : " attention"), wall)
                            + String.format(" (%.1f× in CPU time)", cpu));
                }
            }
        }

        /** Writes the figures and ratios under {@code node}. */
        void writeTo(ObjectNode node, double peakGflops) {
            double stepFlop = 2 * (sizes.attentionMacs() + sizes.projectionMacs());
            double attFlop = 2 * sizes.attentionMacs();
            node.put("case", sizes.name).put("memory", sizes.memory).put("dim", sizes.dim).put("heads", sizes.heads)
                    .put("head_dim", sizes.headDim).put("batch", sizes.batch).put("value_dim", VALUE_DIM)
                    .put("model_dim", MODEL_DIM).put("gflop_per_step", stepFlop / 1e9)
                    .put("attention_gflop", attFlop / 1e9);
            for (Timing t : engines) {
                node.putObject(t.engine).put("steps", t.steps).put("seconds_per_step", t.seconds)
                        .put("cpu_seconds_per_step", t.cpuSeconds)
                        .put("fraction_of_peak", stepFlop / t.seconds / 1e9 / peakGflops)
                        .put("attention_seconds", t.attentionSeconds).put("attention_cpu_seconds", t.attentionCpuSeconds)
                        .put("attention_fraction_of_peak", attFlop / t.attentionSeconds / 1e9 / peakGflops);
            }
            ObjectNode peerNode = node.putObject("peers");
            for (PeerResult p : peers) {
                String part = p.line().path("part").asText();
                peerNode.putObject(p.peer() + "-" + part)
                        .put("seconds_per_step", p.line().path("min_seconds_per_step").asDouble())
                        .put("median_seconds_per_step", p.line().path("seconds_per_step").asDouble())
                        .put("cpu_seconds_per_step", p.line().path("cpu_seconds_per_step").asDouble())
                        .put("blas", p.blas()).put("blas_library", p.blasLibrary()).put("threads", p.threads())
                        .put("blas_threads", p.blasThreads());
            }
            ObjectNode ratios = node.putObject("ratios");
            Timing ref = engine("reference");
            for (Timing t : engines) {
                if (t == ref) {
                    continue;
                }
                if (ref != null) {
                    ratios.put(t.engine + "_vs_reference", ref.seconds / t.seconds)
                            .put(t.engine + "_vs_reference_cpu_time", ref.cpuSeconds / t.cpuSeconds)
                            .put(t.engine + "_attention_vs_reference", ref.attentionSeconds / t.attentionSeconds);
                }
                for (PeerResult p : peers) {
                    boolean step = p.line().path("part").asText().equals("step");
                    String key = t.engine + (step ? "" : "_attention");
                    p.putRatio(ratios, key, p.line().path("min_seconds_per_step").asDouble()
                            / (step ? t.seconds : t.attentionSeconds));
                    p.putRatio(ratios, key + "_cpu_time", p.line().path("cpu_seconds_per_step").asDouble()
                            / (step ? t.cpuSeconds : t.attentionCpuSeconds));
                }
            }
        }

        private Timing engine(String name) {
            return engines.stream().filter(t -> t.engine.equals(name)).findFirst().orElse(null);
        }
    }

    /**
     * Times {@code sizes} on each training engine (best of {@code reps}, after a warm-up; the reference engine once,
     * on at most {@code referenceSteps} steps) and, when {@code peer} is not null, the PyTorch peer.
     */
    static Result measure(Sizes sizes, List<String> engines, int reps, int referenceSteps, PythonPeer peer)
            throws IOException, InterruptedException {
        List<Timing> timings = new ArrayList<>();
        for (String name : engines) {
            Backend engine = Backends.select(Capability.TRAINING, name);
            boolean ref = name.equals("reference");
            int steps = ref ? Math.min(sizes.steps, referenceSteps) : sizes.steps;
            if (!ref) {
                step(sizes, engine, 2);  // warm-up: the JIT compiles the kernels
                attention(sizes, engine, 2);
            }
            double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
            for (int r = 0; r < (ref ? 1 : reps); r++) {
                double[] s = step(sizes, engine, steps);
                double[] a = attention(sizes, engine, steps);
                best[0] = Math.min(best[0], s[0] / steps);
                best[1] = Math.min(best[1], s[1] / steps);
                best[2] = Math.min(best[2], a[0] / steps);
                best[3] = Math.min(best[3], a[1] / steps);
            }
            timings.add(new Timing(name, steps, best[0], best[1], best[2], best[3]));
        }
        List<PeerResult> peers = peer == null ? List.of() : peer.run("torch_dense_memory.py", "torch",
                List.of("--cases", sizes.spec(), "--threads", String.valueOf(Runtime.getRuntime().availableProcessors()),
                        "--reps", String.valueOf(reps)));
        return new Result(sizes, List.copyOf(timings), List.copyOf(peers));
    }

    /** Wall-clock and process CPU seconds of {@code steps} training steps of a fresh model on {@code engine}. */
    private static double[] step(Sizes s, Backend engine, int steps) {
        var cfg = new DenseAssociativeMemory.Config(s.dim, VALUE_DIM, s.memory, s.heads, s.headDim, MODEL_DIM,
                DenseAssociativeMemory.DEFAULT_BETA, true);
        SplittableRandom rnd = new SplittableRandom(7);
        int n = 4096;
        double[][] f = new double[n][];
        double[] y = new double[n];
        for (int i = 0; i < n; i++) {
            f[i] = RandomSampling.gaussians(rnd, s.dim, 1);
            y[i] = 0.5 * Math.tanh(f[i][0] - f[i][1]);
        }
        var tc = new DenseAssociativeMemory.TrainingConfig(steps, s.batch, 3e-3, 3e-4, 0, 1e-4, 1e-2, 1);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 3)) {
            long c0 = processCpuNanos();
            long t0 = System.nanoTime();
            dam.train(engine, f, y, tc);
            return new double[] {(System.nanoTime() - t0) / 1e9, (processCpuNanos() - c0) / 1e9};
        }
    }

    /** Wall-clock and process CPU seconds of {@code steps} attention forward + backward passes at the step's shapes. */
    private static double[] attention(Sizes s, Backend engine, int steps) {
        SplittableRandom rnd = new SplittableRandom(11);
        int h = s.heads;
        Attention a = new Attention(h, s.batch, s.memory, s.headDim, s.headDim,
                unitRows(rnd, h * s.batch, s.headDim), unitRows(rnd, h * s.memory, s.headDim),
                RandomSampling.gaussians(rnd, h * s.memory * s.headDim, 1), DenseAssociativeMemory.DEFAULT_BETA);
        double[] dOut = RandomSampling.gaussians(rnd, h * s.batch * s.headDim, 1);
        long c0 = processCpuNanos();
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            AttentionForward f = engine.attend(a);
            engine.attendBackward(a, f, dOut);
        }
        return new double[] {(System.nanoTime() - t0) / 1e9, (processCpuNanos() - c0) / 1e9};
    }

    /** n rows of width w, each of unit length (the cosine-normalised keys and queries of the model). */
    private static double[] unitRows(SplittableRandom rnd, int n, int w) {
        double[] x = RandomSampling.gaussians(rnd, n * w, 1);
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < w; j++) {
                s += x[i * w + j] * x[i * w + j];
            }
            double inv = 1 / Math.sqrt(s);
            for (int j = 0; j < w; j++) {
                x[i * w + j] *= inv;
            }
        }
        return x;
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
