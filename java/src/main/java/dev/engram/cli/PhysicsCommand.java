package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.hnn.ModelFile;
import dev.engram.hnn.train.PhysicsExperiment;
import dev.engram.hnn.train.PhysicsTask;
import dev.engram.report.Charts;
import dev.engram.tensor.AtomicFiles;
import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Table 1 of Greydanus et al. (2019) for the ideal mass-spring or pendulum: trains the baseline MLP and the HNN on
 * the same noisy trajectories and reports each one's test derivative loss and rollout energy MSE.
 */
@Command(name = "physics", mixinStandardHelpOptions = true,
        description = {"Reproduces the Hamiltonian-neural-network paper's physics tasks (Greydanus et al. 2019):",
                "trains a baseline MLP and an HNN on noisy spring or pendulum trajectories, prints and writes",
                "physics-<system>.json (test derivative loss and rollout energy MSE of each) and",
                "physics-<system>-energy.png (energy along a rollout: true, HNN, baseline) and both trained",
                "models (hnn-<system>.safetensors, baseline-<system>.safetensors) into --out.",
                "Example (a small version of the paper's 2000 steps at width 200): engram physics --system spring"
                        + " --steps 200 --hidden 32 --out out/physics"})
final class PhysicsCommand implements Callable<Integer> {
    @Mixin
    final EngineOptions engineOptions = new EngineOptions();

    @Mixin
    final SeedOption seedOption = new SeedOption(0);

    @Mixin
    final OutputOption output = new OutputOption("out/physics");

    @Option(names = "--system", defaultValue = "spring", description = "spring or pendulum (default: ${DEFAULT-VALUE})")
    String system;


    @Option(names = {"--steps", "--epochs"}, defaultValue = "2000",
            description = "full-batch Adam steps, one per epoch (default: ${DEFAULT-VALUE}, as in the paper)")
    int steps;

    @Option(names = "--hidden", defaultValue = "200", description = "hidden width (default: ${DEFAULT-VALUE})")
    int hidden;

    @Option(names = "--layers", defaultValue = "2", description = "hidden layers (default: ${DEFAULT-VALUE})")
    int layers;

    @Option(names = "--lr", defaultValue = "1e-3", description = "Adam learning rate (default: ${DEFAULT-VALUE})")
    double learningRate;

    @Option(names = "--rollout-time", defaultValue = "20",
            description = "length of the evaluation rollouts (default: ${DEFAULT-VALUE})")
    double rolloutTime;



    @Override
    public Integer call() throws Exception {
        long seed = seedOption.seed;
        int threads = engineOptions.threads;
        Path out = output.out;
        Backend engine = engineOptions.select(Capability.TRAINING);
        PhysicsTask task = PhysicsTask.parse(system);
        OutputFolder.check("--out", out);
        PhysicsExperiment.Settings p = PhysicsExperiment.Settings.paper(task, seed);
        PhysicsExperiment.Settings s = new PhysicsExperiment.Settings(task, hidden, layers, steps, learningRate,
                p.weightDecay(), p.trajectories(), p.noise(), rolloutTime, p.rolloutStep(), seed, threads);
        System.out.printf("%s: %d trajectories (half train, half test), noise σ=%.2g; %d×%d tanh, %d full-batch Adam "
                        + "steps at %.1e; rollouts t∈[0,%.0f] by RK4 h=%.3g%n", task.label(), s.trajectories(), s.noise(),
                s.layers(), s.hidden(), s.steps(), s.learningRate(), s.rolloutTime(), s.rolloutStep());
        long t0 = System.nanoTime();
        PhysicsExperiment.Outcome o = PhysicsExperiment.run(s, line -> System.out.println("  " + line), engine);
        double seconds = (System.nanoTime() - t0) / 1e9;
        System.out.println("model      test loss    energy MSE   params   train s");
        print("baseline", o.baseline());
        print("hnn", o.hnn());

        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode root = json.createObjectNode();
        root.put("system", task.label()).put("training_engine", engine.name()).put("seed", seed).put("hidden", hidden).put("layers", layers)
                .put("steps", steps).put("learning_rate", learningRate).put("weight_decay", s.weightDecay())
                .put("trajectories", s.trajectories()).put("noise", s.noise()).put("rollout_time", s.rolloutTime())
                .put("rollout_step", s.rolloutStep()).put("seconds", seconds)
                .put("threads", threads == 0 ? Runtime.getRuntime().availableProcessors() : threads);
        put(root.putObject("baseline"), o.baseline());
        put(root.putObject("hnn"), o.hnn());
        root.put("energy_mse_ratio_baseline_over_hnn", o.baseline().energyMse() / o.hnn().energyMse());
        Path report = out.resolve("physics-" + task.label() + ".json");
        AtomicFiles.writeString(report, json.writeValueAsString(root));
        Map<String, double[][]> series = new LinkedHashMap<>();
        series.put("true", thin(o.time(), o.trueEnergy()));
        series.put("HNN", thin(o.time(), o.hnnEnergy()));
        series.put("baseline MLP", thin(o.time(), o.baselineEnergy()));
        Path png = out.resolve("physics-" + task.label() + "-energy.png");
        Charts.line(png, "Energy along a rollout from a test state (" + task.label() + ", " + layers + "×" + hidden
                + " tanh, " + steps + " steps)", "time", "true H(q, p)", series);
        Path hnnFile = out.resolve("hnn-" + task.label() + ".safetensors");
        ModelFile.save(o.hnnModel(), hnnFile);
        ModelFile.save(o.baselineModel(), out.resolve("baseline-" + task.label() + ".safetensors"));
        System.out.println("report: " + report + ", " + png + "; models: " + hnnFile + ", "
                + out.resolve("baseline-" + task.label() + ".safetensors"));
        return 0;
    }

    /** Every k-th point, at most about 400, so that the chart's markers stay readable. */
    private static double[][] thin(double[] x, double[] y) {
        int k = Math.max(1, x.length / 400);
        int n = (x.length + k - 1) / k;
        double[][] out = new double[2][n];
        for (int i = 0; i < n; i++) {
            out[0][i] = x[i * k];
            out[1][i] = y[i * k];
        }
        return out;
    }

    private static void print(String name, PhysicsExperiment.ModelScore m) {
        System.out.printf("%-9s  %.4e   %.4e   %6d   %7.1f%n", name, m.testLoss(), m.energyMse(), m.parameters(),
                m.seconds());
    }

    private static void put(ObjectNode n, PhysicsExperiment.ModelScore m) {
        n.put("train_loss", m.trainLoss()).put("test_loss", m.testLoss()).put("energy_mse", m.energyMse())
                .put("parameters", m.parameters()).put("train_seconds", m.seconds());
    }
}
