package dev.engram.hnn.train;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.hnn.DerivativeNetwork;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.LearnedField;
import dev.engram.hnn.PhaseSpaceField;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The experiment of Greydanus et al. (2019), table 1, for one {@link PhysicsTask}: train the baseline MLP
 * ({@link DerivativeNetwork}) and the HNN ({@link HamiltonianNetwork}) with the same widths on the same data, then
 * report for each the test derivative loss ({@link DerivativeLoss} on the held-out trajectories) and the energy
 * MSE of long rollouts:
 * <pre>
 *   energy MSE = mean over test initial states x₀ and rollout times t_k of ( H(x̂(t_k)) − H(x₀) )²
 * </pre>
 * where x̂ integrates the learned field from the (noise-free) first state of each test trajectory with classical RK4
 * (step {@link Settings#rolloutStep()} up to {@link Settings#rolloutTime()}) and H is the true Hamiltonian.
 */
public final class PhysicsExperiment {
    private PhysicsExperiment() {
    }

    /**
     * @param task          spring or pendulum
     * @param hidden        hidden width (paper: 200)
     * @param layers        hidden layers (paper: 2)
     * @param steps         full-batch Adam steps (paper: 2000)
     * @param learningRate  Adam's η (paper: 1e-3)
     * @param weightDecay   Adam's L2 penalty (authors' code: 1e-4)
     * @param trajectories  trajectories generated, half for training, half for testing (paper: 50)
     * @param noise         σ of the Gaussian noise on observed states (paper: 0.1)
     * @param rolloutTime   length of the evaluation rollouts
     * @param rolloutStep   RK4 step of the rollouts
     * @param seed          seeds the data and both initialisations
     * @param threads       0 = all cores; results do not depend on it
     */
    public record Settings(PhysicsTask task, int hidden, int layers, int steps, double learningRate,
                           double weightDecay, int trajectories, double noise, double rolloutTime, double rolloutStep,
                           long seed, int threads) {
        public Settings {
            if (task == null) {
                throw new IllegalArgumentException("task must be spring or pendulum, got null");
            }
            if (hidden < 1) {
                throw new IllegalArgumentException("hidden must be >= 1, got " + hidden);
            }
            if (layers < 1) {
                throw new IllegalArgumentException("layers must be >= 1, got " + layers);
            }
            if (steps < 1) {
                throw new IllegalArgumentException("steps must be >= 1, got " + steps);
            }
            if (trajectories < 2) {
                throw new IllegalArgumentException("trajectories must be >= 2 (half train, half test), got "
                        + trajectories);
            }
            if (!(noise >= 0) || !Double.isFinite(noise)) {
                throw new IllegalArgumentException("noise must be finite and >= 0, got " + noise);
            }
            if (!(rolloutStep > 0) || !(rolloutTime >= rolloutStep) || !Double.isFinite(rolloutTime)) {
                throw new IllegalArgumentException("need 0 < rolloutStep <= rolloutTime, got rolloutStep "
                        + rolloutStep + ", rolloutTime " + rolloutTime);
            }
            if (threads < 0) {
                throw new IllegalArgumentException("threads must be >= 0, got " + threads);
            }
        }

        /** The paper's setting: 2×200 tanh, 2000 full-batch Adam steps at 1e-3, 50 trajectories, σ = 0.1. */
        public static Settings paper(PhysicsTask task, long seed) {
            return new Settings(task, 200, 2, 2000, 1e-3, 1e-4, 50, 0.1, 20, 0.02, seed, 0);
        }

        public Settings withSize(int hiddenWidth, int trainingSteps) {
            return new Settings(task, hiddenWidth, layers, trainingSteps, learningRate, weightDecay, trajectories,
                    noise, rolloutTime, rolloutStep, seed, threads);
        }
    }

    /** Train and test data, and the true initial states of the test trajectories (rows of (q, p)). */
    public record Dataset(PhaseSpaceSamples train, PhaseSpaceSamples test, double[][] testInitialStates) {
    }

    /**
     * @param trainLoss  derivative loss on the training set after training
     * @param testLoss   derivative loss on the test set
     * @param energyMse  rollout energy MSE over all test initial states
     * @param parameters number of parameters
     * @param seconds    training time
     */
    public record ModelScore(double trainLoss, double testLoss, double energyMse, int parameters, double seconds) {
    }

    /**
     * @param time           rollout times of the first test state
     * @param trueEnergy     H along the true rollout (RK4 of the true field; constant up to RK4's error)
     * @param hnnEnergy      true H along the HNN's rollout
     * @param baselineEnergy true H along the baseline's rollout
     */
    public record Outcome(Settings settings, ModelScore hnn, ModelScore baseline, double[] time, double[] trueEnergy,
                          double[] hnnEnergy, double[] baselineEnergy, HamiltonianNetwork hnnModel,
                          DerivativeNetwork baselineModel) {
    }

    /** The data of the paper's recipe, {@code trajectories/2} for training and the rest for testing. */
    public static Dataset dataset(PhysicsTask task, int trajectories, double noise, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        int k = task.samplesPerTrajectory();
        int trainTrajectories = trajectories / 2;
        int testTrajectories = trajectories - trainTrajectories;
        double[][] all = new double[5][trajectories * k];
        double[][] initial = new double[trajectories][];
        PhaseSpaceField f = task.field();
        double dt = PhysicsTask.DATA_SPAN / (k - 1);
        double[] dq = new double[1];
        double[] dp = new double[1];
        for (int tr = 0; tr < trajectories; tr++) {
            double[] x = task.initialState(rnd);
            initial[tr] = x.clone();
            for (int s = 0; s < k; s++) {
                if (s > 0) {
                    // the "true" trajectory: RK4 at 1/200 of the sample spacing (error far below the noise)
                    rk4(f, x, dt, 200);
                }
                int row = tr * k + s;
                f.derivatives(0, new double[] {x[0]}, new double[] {x[1]}, dq, dp);
                all[0][row] = x[0] + noise * rnd.nextGaussian();
                all[1][row] = x[1] + noise * rnd.nextGaussian();
                all[2][row] = dq[0];
                all[3][row] = dp[0];
            }
        }
        int split = trainTrajectories * k;
        PhaseSpaceSamples train = PhaseSpaceSamples.of(1, Arrays.copyOfRange(all[0], 0, split),
                Arrays.copyOfRange(all[1], 0, split), Arrays.copyOfRange(all[2], 0, split),
                Arrays.copyOfRange(all[3], 0, split));
        PhaseSpaceSamples test = PhaseSpaceSamples.of(1, Arrays.copyOfRange(all[0], split, all[0].length),
                Arrays.copyOfRange(all[1], split, all[0].length), Arrays.copyOfRange(all[2], split, all[0].length),
                Arrays.copyOfRange(all[3], split, all[0].length));
        return new Dataset(train, test, Arrays.copyOfRange(initial, trainTrajectories, trainTrajectories
                + testTrajectories));
    }

    /**
     * Runs the experiment.
     *
     * @param progress receives a line now and then (may be null)
     */
    public static Outcome run(Settings s, java.util.function.Consumer<String> progress) {
        return run(s, progress, Backends.select(Capability.TRAINING, "auto", s.threads()));
    }

    /**
     * Runs the experiment, training both models on {@code engine} (a {@link Capability#TRAINING} engine).
     *
     * @param progress receives a line now and then (may be null)
     */
    public static Outcome run(Settings s, java.util.function.Consumer<String> progress, Backend engine) {
        Dataset data = dataset(s.task(), s.trajectories(), s.noise(), s.seed());
        int[] hidden = new int[s.layers()];
        Arrays.fill(hidden, s.hidden());
        TrainingConfig config = TrainingConfig.defaults().withEpochs(s.steps())
                .withOptimizer(TrainingConfig.Optimizer.ADAM, s.learningRate(), s.weightDecay())
                .withSeed(s.seed()).withThreads(s.threads());
        DerivativeNetwork baseline = DerivativeNetwork.create(1, 0, hidden, s.seed() + 1);
        HamiltonianNetwork hnn = HamiltonianNetwork.create(1, hidden, s.seed() + 2);
        int threads = s.threads() == 0 ? Runtime.getRuntime().availableProcessors() : s.threads();
        ForkJoinPool pool = new ForkJoinPool(threads);
        try {
            ModelScore base = trainAndScore("baseline", baseline, data, config, s, pool, progress, engine);
            ModelScore h = trainAndScore("hnn", hnn, data, config, s, pool, progress, engine);
            double[] x0 = data.testInitialStates()[0];
            double[][] trueRoll = rollout(s.task().field(), x0, s.rolloutTime(), s.rolloutStep());
            double[][] hnnRoll = rollout(hnn.field(), x0, s.rolloutTime(), s.rolloutStep());
            double[][] baseRoll = rollout(baseline.field(), x0, s.rolloutTime(), s.rolloutStep());
            double[] time = new double[trueRoll.length];
            for (int i = 0; i < time.length; i++) {
                time[i] = i * s.rolloutStep();
            }
            return new Outcome(s, h, base, time, energies(s.task(), trueRoll), energies(s.task(), hnnRoll),
                    energies(s.task(), baseRoll), hnn, baseline);
        } finally {
            pool.shutdown();
        }
    }

    private static ModelScore trainAndScore(String name, LearnedField model, Dataset data, TrainingConfig config,
                                            Settings s, ForkJoinPool pool,
                                            java.util.function.Consumer<String> progress, Backend engine) {
        int every = Math.max(1, s.steps() / 10);
        TrainingResult r = Trainer.train(model, data.train(), config, (epoch, loss, val, lr) -> {
            if (progress != null && ((epoch + 1) % every == 0 || epoch == 0)) {
                progress.accept(String.format("%s %s: step %d/%d, train loss %.4e", s.task().label(), name,
                        epoch + 1, s.steps(), loss));
            }
        }, engine);
        double trainLoss = DerivativeLoss.loss(model, data.train(), pool);
        double testLoss = DerivativeLoss.loss(model, data.test(), pool);
        double mse = energyMse(s.task(), model.field(), data.testInitialStates(), s.rolloutTime(), s.rolloutStep(),
                pool);
        if (progress != null) {
            progress.accept(String.format("%s %s: trained in %.1f s; test loss %.4e, energy MSE %.4e", s.task().label(),
                    name, r.seconds(), testLoss, mse));
        }
        return new ModelScore(trainLoss, testLoss, mse, model.parameters().length, r.seconds());
    }

    /** Mean over the initial states and rollout times of (H(x̂(t)) − H(x₀))², rollouts in parallel. */
    public static double energyMse(PhysicsTask task, PhaseSpaceField field, double[][] initialStates, double time,
                                   double step, ForkJoinPool pool) {
        double[] perState = new double[initialStates.length];
        try {
            pool.submit(() -> IntStream.range(0, initialStates.length).parallel().forEach(i -> {
                double[] x0 = initialStates[i];
                double h0 = task.energy(new double[] {x0[0]}, new double[] {x0[1]});
                double[] e = energies(task, rollout(field, x0, time, step));
                double s = 0;
                for (double v : e) {
                    s += (v - h0) * (v - h0);
                }
                perState[i] = s / e.length;
            })).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
        double s = 0;
        for (double v : perState) {
            s += v;
        }
        return s / perState.length;
    }

    private static double[] energies(PhysicsTask task, double[][] states) {
        double[] e = new double[states.length];
        for (int i = 0; i < states.length; i++) {
            e[i] = task.energy(new double[] {states[i][0]}, new double[] {states[i][1]});
        }
        return e;
    }

    /** States (q, p) at t = 0, h, 2h, … ≤ time, by RK4 with step h. */
    static double[][] rollout(PhaseSpaceField f, double[] x0, double time, double h) {
        int steps = (int) Math.floor(time / h + 1e-9);
        double[][] out = new double[steps + 1][];
        double[] x = x0.clone();
        out[0] = x.clone();
        for (int i = 1; i <= steps; i++) {
            rk4(f, x, h, 1);
            out[i] = x.clone();
        }
        return out;
    }

    /**
     * {@code substeps} classical Runge–Kutta steps of size h/substeps on a one-degree-of-freedom state x = (q, p),
     * in place. Kept private to the experiment; the library's integrators live in {@code dev.engram.hnn.integrate}.
     */
    private static void rk4(PhaseSpaceField f, double[] x, double h, int substeps) {
        double dt = h / substeps;
        double[] q = new double[1];
        double[] p = new double[1];
        double[] dq = new double[1];
        double[] dp = new double[1];
        double[][] k = new double[4][2];
        for (int s = 0; s < substeps; s++) {
            for (int stage = 0; stage < 4; stage++) {
                double c = stage == 0 ? 0 : stage == 3 ? dt : dt / 2;
                q[0] = x[0] + (stage == 0 ? 0 : c * k[stage - 1][0]);
                p[0] = x[1] + (stage == 0 ? 0 : c * k[stage - 1][1]);
                f.derivatives(0, q, p, dq, dp);
                k[stage][0] = dq[0];
                k[stage][1] = dp[0];
            }
            x[0] += dt / 6 * (k[0][0] + 2 * k[1][0] + 2 * k[2][0] + k[3][0]);
            x[1] += dt / 6 * (k[0][1] + 2 * k[1][1] + 2 * k[2][1] + k[3][1]);
        }
    }
}
