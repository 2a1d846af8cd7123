package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleModel;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.hnn.AnalyticHamiltonians;
import dev.engram.hnn.LearnedField;
import dev.engram.hnn.ModelFile;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.report.Charts;
import dev.engram.tensor.AtomicFiles;
import dev.engram.tensor.FileErrors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Monte-Carlo forecast with a Hamiltonian MLP: N perturbed, noisy trajectories on the chosen engine; per-time
 * quantiles of every coordinate and of the energy, written as JSON and plotted as fan charts.
 */
@Command(name = "ensemble", mixinStandardHelpOptions = true,
        description = {"Integrates N trajectories of an MLP Hamiltonian from a perturbed initial state (with optional",
                "momentum noise) and writes ensemble.json, fan.png (quantiles of q_0 over time) and energy.png.",
                "Without --model it uses the closed-form MLP of the oscillator H = (q² + p²)/2.",
                "A model with inputs u(t) (port, baseline with m > 0) reads them from --inputs, one row per step,",
                "held constant over the step; without --inputs u = 0.",
                "Example: engram ensemble --trajectories 2000 --steps 200 --out out/ensemble"})
final class EnsembleCommand implements Callable<Integer> {
    @Mixin
    final EngineOptions engineOptions = new EngineOptions();

    @Mixin
    final SeedOption seedOption = new SeedOption(42);

    @Mixin
    final OutputOption output = new OutputOption("out/ensemble");

    @Option(names = "--model", description = "a model file of any kind: hnn, separable, dissipative, port or baseline "
            + "(.safetensors from `engram physics` or ModelFile.save)")
    Path model;

    @Option(names = "--inputs", description = "u(t) for a model with inputs: a float .npy of shape steps×m (1-D when "
            + "m = 1); row i applies on [i·dt, (i+1)·dt). Default: u = 0")
    Path inputs;

    @Option(names = "--trajectories", defaultValue = "100000", description = "N (default: ${DEFAULT-VALUE})")
    int trajectories;

    @Option(names = "--steps", defaultValue = "628", description = "steps (default: ${DEFAULT-VALUE})")
    int steps;

    @Option(names = "--dt", defaultValue = "0.01", description = "step size (default: ${DEFAULT-VALUE})")
    float dt;

    @Option(names = "--q0", defaultValue = "1", split = ",", description = "initial q, n values (default: ${DEFAULT-VALUE})")
    List<Float> q0;

    @Option(names = "--p0", defaultValue = "0", split = ",", description = "initial p, n values (default: ${DEFAULT-VALUE})")
    List<Float> p0;

    @Option(names = "--sigma-q", defaultValue = "0.05", description = "initial perturbation of q (default: ${DEFAULT-VALUE})")
    float sigmaQ;

    @Option(names = "--sigma-p", defaultValue = "0.05", description = "initial perturbation of p (default: ${DEFAULT-VALUE})")
    float sigmaP;

    @Option(names = "--noise", defaultValue = "0.1", description = "momentum noise σ per √time (default: ${DEFAULT-VALUE})")
    float noise;

    @Option(names = "--scheme", description = "LEAPFROG, STORMER_VERLET, TAO or RK4 (default: the model kind's own: "
            + "LEAPFROG for hnn, STORMER_VERLET for separable, RK4 for the others)")
    EnsembleSpec.Scheme scheme;

    @Option(names = "--samples", defaultValue = "60", description = "sample times for the quantiles (default: ${DEFAULT-VALUE})")
    int samples;



    @Option(names = "--max-energy-change", defaultValue = "10",
            description = "a trajectory whose energy changes by more than this many times its initial size (beyond "
                    + "what the noise adds) counts as diverged (default: ${DEFAULT-VALUE})")
    double maxEnergyChange;


    @Override
    public Integer call() throws Exception {
        if (model != null) {
            LearnedField net;
            try {
                net = ModelFile.load(model);
            } catch (IOException e) {
                throw FileErrors.reading(model, e);
            }
            return run(net.toEnsembleModel(inputTable(net.kind(), net.inputCount())),
                    net.kind() + " model " + model.getFileName());
        }
        inputTable("hnn", 0);
        return run(new EnsembleModel.Hamiltonian(AnalyticHamiltonians.quadraticMlp(0.05)),
                "closed-form MLP of H = (q² + p²)/2");
    }

    /** The --inputs table as steps×m floats, or null (u = 0) when none is given. */
    private float[] inputTable(String kind, int m) throws java.io.IOException {
        if (inputs == null) {
            if (m > 0) {
                System.out.printf("the %s model takes %d inputs; no --inputs given, so u = 0%n", kind, m);
            }
            return null;
        }
        if (m == 0) {
            throw new IllegalArgumentException("--inputs " + inputs + ": the " + kind
                    + " model takes no inputs; leave --inputs out");
        }
        try (FloatMatrix u = Npy.readFloat(inputs)) {
            boolean oneD = m == 1 && u.rows() == 1 && u.cols() == steps;
            if (!oneD && (u.rows() != steps || u.cols() != m)) {
                throw new IllegalArgumentException("--inputs " + inputs + " has shape " + u.rows() + "×" + u.cols()
                        + ", expected steps×m = " + steps + "×" + m + " (one row of u per integration step)");
            }
            return u.toArray();
        }
    }

    int run(EnsembleModel m, String source) throws Exception {
        Path out = output.out;
        EnsembleSpec.Scheme s = scheme == null ? m.defaultScheme() : scheme;
        EnsembleSpec spec = spec(m, s);
        Backend engine = engineOptions.select(Capability.INTEGRATION);
        OutputFolder.check("--out", out);
        MlpWeights h = hamiltonianOf(m);
        EnsembleStability stability = h == null ? null : new EnsembleStability(h, spec.q0(), spec.p0(), dt, s);
        if (stability != null && !stability.stepStable()) {
            System.err.printf("engram ensemble: warning: --dt %s is beyond the %s stability limit here: h·ρ = %.3g > %.3g "
                            + "(ρ = %.3g, the fastest rate of the linearised flow at the initial state); expect the "
                            + "energy to grow without bound; use --dt %.2g or less%n", dt, s, stability.stepRho,
                    stability.limit, stability.rho, 0.5 * stability.limit / stability.rho);
        }
        System.out.printf("integrating %d trajectories × %d steps (dt %s, %s) of %s on %s ...%n", trajectories, steps, dt,
                s, source, engine.name());
        long t0 = System.nanoTime();
        long[] shown = {-1};
        java.util.function.LongConsumer progress = done -> {
            long pct = 100 * done / trajectories;
            synchronized (shown) {
                if (pct >= shown[0] + 5 || done == trajectories) {
                    shown[0] = pct;
                    System.err.printf("\r  %d/%d trajectories (%d%%)", done, trajectories, pct);
                }
            }
        };
        EnsembleResult r = engine.integrate(spec, progress);
        System.err.println();
        double sec = (System.nanoTime() - t0) / 1e9;
        double noiseEnergy = stability == null ? 0 : stability.noiseEnergy(noise, (double) steps * dt);
        boolean[] energyDiverged = m.hasEnergy() ? EnsembleStability.energyDiverged(r, maxEnergyChange, noiseEnergy)
                : new boolean[trajectories];
        int energyCount = 0;
        for (boolean d : energyDiverged) {
            energyCount += d ? 1 : 0;
        }
        System.out.printf("done in %.2f s (%.2f M trajectory-steps/s); %d diverged%n", sec,
                (double) trajectories * steps / sec / 1e6, r.divergedCount() + energyCount);
        if (energyCount > 0) {
            System.err.printf("engram ensemble: warning: %d of %d trajectories changed energy beyond the tolerance (%s) "
                            + "and count as diverged; lower --dt (or raise --max-energy-change if the change is real)%n",
                    energyCount, trajectories, EnsembleStability.rule(maxEnergyChange, noiseEnergy));
        }
        write(r, source, s, m.hasEnergy(), sec, stability, energyDiverged, energyCount, noiseEnergy);
        return 0;
    }

    /** The spec, after checking every option with its command-line name (the spec's own checks use API names). */
    private EnsembleSpec spec(EnsembleModel m, EnsembleSpec.Scheme scheme) {
        int n = m.dof();
        if (trajectories < 1) {
            throw new IllegalArgumentException("--trajectories must be >= 1, got " + trajectories);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("--steps must be >= 1, got " + steps);
        }
        if (!(dt > 0) || !Float.isFinite(dt)) {
            throw new IllegalArgumentException("--dt must be a finite number > 0, got " + dt);
        }
        if (samples < 1) {
            throw new IllegalArgumentException("--samples must be >= 1, got " + samples);
        }
        requireNonNegative("--sigma-q", sigmaQ);
        requireNonNegative("--sigma-p", sigmaP);
        requireNonNegative("--noise", noise);
        if (!(maxEnergyChange > 0)) {
            throw new IllegalArgumentException("--max-energy-change must be > 0 (a factor; Infinity counts none), got "
                    + maxEnergyChange);
        }
        requireState("--q0", q0, n);
        requireState("--p0", p0, n);
        int sampleEvery = Math.max(1, steps / samples);
        long sampleCount = sampleEvery >= steps ? 2 : (steps + sampleEvery - 1) / sampleEvery + 1;
        if (sampleCount * trajectories * (2L * n + 1) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(String.format("--trajectories %d with --samples %d keeps %d × %d × %d "
                            + "values, more than one array can hold (2^31); lower --trajectories or --samples",
                    trajectories, samples, sampleCount, trajectories, 2 * n + 1));
        }
        EnsembleSpec spec = new EnsembleSpec(m, toArray(q0), toArray(p0), null, trajectories, dt, steps, sigmaQ, sigmaP,
                noise, seedOption.seed, sampleEvery, false, EnsembleSpec.FAN, scheme, EnsembleSpec.DEFAULT_TAO_OMEGA);
        long need = EnsembleRecorder.requiredBytes(spec);
        long available = EnsembleRecorder.availableHeap();
        if (need > available) {
            System.gc(); // count only live data, not garbage
            available = EnsembleRecorder.availableHeap();
        }
        if (need > available) {
            throw new IllegalArgumentException(String.format("--trajectories %d with --samples %d needs %.2f GiB of "
                            + "memory for the samples and the result (%d samples × %d trajectories × %d coordinates, "
                            + "float32, plus per-trajectory state) but %.2f GiB is available (maximum heap %.2f GiB); "
                            + "lower --trajectories or --samples, or raise the heap (ENGRAM_JAVA_OPTS=-Xmx…)",
                    trajectories, samples, need / (double) (1L << 30), sampleCount, trajectories, 2 * n + 1,
                    available / (double) (1L << 30), Runtime.getRuntime().maxMemory() / (double) (1L << 30)));
        }
        return spec;
    }

    /** The Hamiltonian MLP whose linearised flow bounds the step size, for the kinds that have one. */
    private static MlpWeights hamiltonianOf(EnsembleModel m) {
        return switch (m) {
            case EnsembleModel.Hamiltonian h -> h.h();
            case EnsembleModel.Dissipative d -> d.h();
            case EnsembleModel.PortHamiltonian p -> p.h();
            default -> null;
        };
    }

    private static void requireNonNegative(String option, float v) {
        if (!(v >= 0) || !Float.isFinite(v)) {
            throw new IllegalArgumentException(option + " must be a finite number >= 0, got " + v);
        }
    }

    private static void requireState(String option, List<Float> v, int n) {
        if (v.size() != n) {
            throw new IllegalArgumentException(option + " has " + v.size() + " value(s) but the model has n = " + n
                    + " degrees of freedom; give " + n + " comma-separated values");
        }
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(v.get(i))) {
                throw new IllegalArgumentException(option + " value " + (i + 1) + " must be finite, got " + v.get(i));
            }
        }
    }

    private static float[] toArray(List<Float> v) {
        float[] a = new float[v.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = v.get(i);
        }
        return a;
    }

    private void write(EnsembleResult r, String source, EnsembleSpec.Scheme used, boolean hasEnergy, double sec,
                       EnsembleStability stability, boolean[] energyDiverged, int energyCount, double noiseEnergy)
            throws Exception {
        Path out = output.out;
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("model", source).put("trajectories", trajectories).put("steps", steps).put("dt", dt)
                .put("scheme", used.name()).put("sigma_q", sigmaQ).put("sigma_p", sigmaP).put("noise", noise)
                .put("seed", seedOption.seed).put("engine", engineOptions.select(Capability.INTEGRATION).name()).put("seconds", sec)
                .put("diverged", r.divergedCount() + energyCount)
                .put("diverged_non_finite", r.divergedCount()).put("diverged_energy", energyCount);
        root.putObject("energy_divergence").put("rule", EnsembleStability.rule(maxEnergyChange, noiseEnergy))
                .put("max_energy_change", maxEnergyChange).put("noise_energy", noiseEnergy);
        if (stability != null) {
            root.putObject("step_check").put("rho", stability.rho).put("h_rho", stability.stepRho)
                    .put("limit", stability.limit).put("stable", stability.stepStable());
        }
        ArrayNode levels = root.putArray("quantile_levels");
        for (double l : r.quantileLevels()) {
            levels.add(l);
        }
        int n = r.dof();
        int s = r.sampleSteps().length;
        double h = Double.parseDouble(Float.toString(dt)); // 0.02f as 0.02, not 0.0199999995
        ArrayNode times = root.putArray("times");
        for (int step : r.sampleSteps()) {
            times.add(step * h);
        }
        ObjectNode q = root.putObject("quantiles");
        for (int c = 0; c < r.coordinates(); c++) {
            String name = c < n ? "q" + c : c < 2 * n ? "p" + (c - n) : "H";
            ArrayNode rows = q.putArray(name);
            for (int t = 0; t < s; t++) {
                ArrayNode row = rows.addArray();
                for (int l = 0; l < r.quantileLevels().length; l++) {
                    row.add(r.quantile(t, c, l));
                }
            }
        }
        double meanRel = 0;
        int finite = 0;
        for (int i = 0; i < r.trajectories(); i++) {
            if (r.divergedAtStep()[i] < 0) {
                meanRel += Math.abs(r.finalEnergy()[i] - r.initialEnergy()[i]) / Math.max(1e-30, Math.abs(r.initialEnergy()[i]));
                finite++;
            }
        }
        if (hasEnergy && finite > 0) {
            root.put("mean_relative_energy_change", meanRel / finite);
        } else {
            root.putNull("mean_relative_energy_change"); // the baseline has no energy; or nothing stayed finite
        }
        AtomicFiles.writeString(out.resolve("ensemble.json"), json.writeValueAsString(root));
        double[] t = new double[s];
        for (int i = 0; i < s; i++) {
            t[i] = r.sampleSteps()[i] * h;
        }
        Charts.line(out.resolve("fan.png"), "Monte-Carlo fan of q_0 (" + trajectories + " trajectories)", "time", "q_0",
                quantileSeries(r, 0, t));
        if (hasEnergy) {
            Charts.line(out.resolve("energy.png"), "Energy H over time: quantiles across trajectories", "time", "H",
                    quantileSeries(r, 2 * n, t));
        }
        System.out.println("wrote " + out.resolve("ensemble.json") + ", fan.png" + (hasEnergy ? ", energy.png" : ""));
    }

    private static Map<String, double[][]> quantileSeries(EnsembleResult r, int c, double[] t) {
        Map<String, double[][]> series = new LinkedHashMap<>();
        for (int l = 0; l < r.quantileLevels().length; l++) {
            double[] y = new double[t.length];
            for (int i = 0; i < t.length; i++) {
                y[i] = r.quantile(i, c, l);
            }
            series.put(String.format("%.0f%%", 100 * r.quantileLevels()[l]), new double[][] {t, y});
        }
        return series;
    }
}
