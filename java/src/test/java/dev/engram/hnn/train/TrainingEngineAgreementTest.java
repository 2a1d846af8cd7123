package dev.engram.hnn.train;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.TrainingSession;
import dev.engram.hnn.DerivativeNetwork;
import dev.engram.hnn.DissipativeHamiltonianNetwork;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.LearnedField;
import dev.engram.hnn.PortHamiltonianNetwork;
import dev.engram.hnn.SeparableHamiltonianNetwork;
import dev.engram.tensor.RandomSampling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The cpu engine's float32 training path against the reference (the models' double-precision double backprop), for
 * every model kind, on seeded random models (biases non-zero), data and minibatches.
 *
 * <p>Tolerance of one gradient, relative in the Euclidean norm, {@value #GRAD_TOL}: weights, data and every
 * intermediate are float32 (unit round-off u = 2⁻²⁴ ≈ 6e-8); the gradient passes through about six products
 * (forward, ∇ₓH, δ̄, ā, W̄ twice), each a float32 sum of K ≤ 200 terms (widths) or 64 rows (a chunk),
 * whose worst-case relative error is K·u ≈ 1.2e-5 and typical error √K·u ≈ 1e-6; tanh adds ≤ 1.5 ulp. Six worst
 * cases give 7e-5; we allow 2e-4 (2.5×) for the cancellation in the residual (prediction − target). Measured: see
 * the printed figures (about 1e-6).
 */
class TrainingEngineAgreementTest {
    static final double GRAD_TOL = 2e-4;

    static LearnedField model(String kind, int hidden, long seed) {
        int[] h = {hidden, hidden};
        LearnedField m = switch (kind) {
            case "hnn" -> HamiltonianNetwork.create(2, h, seed);
            case "separable" -> SeparableHamiltonianNetwork.create(2, h, seed);
            case "dissipative" -> DissipativeHamiltonianNetwork.create(2, h, new int[] {16}, seed);
            case "port" -> PortHamiltonianNetwork.create(2, 3, h, new int[] {16}, new int[] {8}, seed);
            case "baseline" -> DerivativeNetwork.create(2, 1, h, seed);
            default -> throw new IllegalArgumentException(kind);
        };
        // non-zero biases and a spread of weights, so that every parameter matters
        double[] th = m.parameters();
        SplittableRandom r = new SplittableRandom(seed + 7);
        for (int i = 0; i < th.length; i++) {
            th[i] += 0.1 * RandomSampling.gaussian(r);
        }
        return m;
    }

    static PhaseSpaceSamples data(LearnedField model, int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int n = model.dof();
        int m = model.inputCount();
        return new PhaseSpaceSamples(n, m, RandomSampling.gaussians(r, count * n, 1),
                RandomSampling.gaussians(r, count * n, 1), RandomSampling.gaussians(r, count * m, 1),
                RandomSampling.gaussians(r, count * n, 1), RandomSampling.gaussians(r, count * n, 1));
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String kind : List.of("hnn", "separable", "dissipative", "port", "baseline")) {
            for (int batch : new int[] {1, 37, 200}) {
                out.add(Arguments.of(kind, batch, 11L + batch));
            }
        }
        return out.stream();
    }

    static double relativeError(double[] expected, double[] actual) {
        double d = 0;
        double e = 0;
        for (int i = 0; i < expected.length; i++) {
            d += (expected[i] - actual[i]) * (expected[i] - actual[i]);
            e += expected[i] * expected[i];
        }
        return Math.sqrt(d / e);
    }

    static Backend cpu(int threads) {
        return Backends.select(Capability.TRAINING, "cpu", threads);
    }

    @ParameterizedTest(name = "{0}, batch {1}, seed {2}")
    @MethodSource("cases")
    void gradientAgreesWithTheReference(String kind, int batch, long seed) {
        LearnedField model = model(kind, 40, seed);
        PhaseSpaceSamples data = data(model, 300, seed + 1);
        int[] index = new int[batch];
        SplittableRandom r = new SplittableRandom(seed + 2);
        for (int i = 0; i < batch; i++) {
            index[i] = r.nextInt(data.size());
        }
        double[] theta = model.parameters();
        double[] ref = new double[theta.length];
        double refLoss = DerivativeLoss.evaluate(model, data, index, 0, batch, ref, ForkJoinPool.commonPool());
        double[] fast = new double[theta.length];
        double loss;
        try (TrainingSession s = cpu(0).openTraining(model.toTrainingModel(), Trainer.samples(data))) {
            loss = s.lossAndGradient(theta, index, 0, batch, fast);
            assertEquals(loss, s.lossAndGradient(theta, index, 0, batch, null), 0.0, "loss without the gradient");
        }
        double err = relativeError(ref, fast);
        System.out.printf("%s batch %d: gradient relative error %.2e, loss %.6e vs %.6e%n", kind, batch, err, loss,
                refLoss);
        assertTrue(err <= GRAD_TOL, kind + ": gradient relative error " + err);
        assertEquals(refLoss, loss, 1e-5 * refLoss, kind + ": loss");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void bitsDoNotDependOnTheThreadCountOrTheRun(String kind) {
        // hidden 64 and 647 samples: enough work for the engine to use every worker
        LearnedField model = model(kind, 64, 5);
        PhaseSpaceSamples data = data(model, 700, 6);
        int[] index = IntStream.range(0, data.size()).map(i -> (i * 37) % data.size()).toArray();
        double[] theta = model.parameters();
        double[] first = null;
        double firstLoss = 0;
        for (int threads : new int[] {1, 2, 3, 1}) {
            double[] g = new double[theta.length];
            double loss;
            try (TrainingSession s = cpu(threads).openTraining(model.toTrainingModel(), Trainer.samples(data))) {
                loss = s.lossAndGradient(theta, index, 3, 650, g);
            }
            if (first == null) {
                first = g;
                firstLoss = loss;
            } else {
                assertArrayEquals(first, g, kind + " at " + threads + " threads");
                assertEquals(firstLoss, loss, 0.0);
            }
        }
    }

    static Stream<String> kinds() {
        return Stream.of("hnn", "separable", "dissipative", "port", "baseline");
    }

    /**
     * The cpu gradient against central differences of the cpu loss along a random direction v: with h = 1e-2 the
     * truncation error is ~h²·L''' ≈ 1e-4 relative and float32 round-off in L (~1e-7·L) divided by h adds ~1e-5, so
     * (L(θ + hv) − L(θ − hv))/2h agrees with ∇L·v within 2e-3 relative.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void gradientMatchesFiniteDifferencesOfTheFloatLoss(String kind) {
        LearnedField model = model(kind, 24, 9);
        PhaseSpaceSamples data = data(model, 120, 10);
        int[] index = IntStream.range(0, data.size()).toArray();
        double[] theta = model.parameters().clone();
        SplittableRandom r = new SplittableRandom(12);
        double[] v = RandomSampling.gaussians(r, theta.length, 1);
        double norm = Math.sqrt(Arrays.stream(v).map(x -> x * x).sum());
        for (int i = 0; i < v.length; i++) {
            v[i] /= norm;
        }
        try (TrainingSession s = cpu(0).openTraining(model.toTrainingModel(), Trainer.samples(data))) {
            double[] g = new double[theta.length];
            s.lossAndGradient(theta, index, 0, index.length, g);
            double directional = 0;
            for (int i = 0; i < g.length; i++) {
                directional += g[i] * v[i];
            }
            double h = 1e-2;
            double[] up = theta.clone();
            double[] down = theta.clone();
            for (int i = 0; i < v.length; i++) {
                up[i] += h * v[i];
                down[i] -= h * v[i];
            }
            double fd = (s.lossAndGradient(up, index, 0, index.length, null)
                    - s.lossAndGradient(down, index, 0, index.length, null)) / (2 * h);
            System.out.printf("%s: directional derivative %.6e, central differences %.6e%n", kind, directional, fd);
            assertTrue(Math.abs(fd - directional) <= 2e-3 * Math.abs(directional) + 1e-7,
                    kind + ": finite differences " + fd + " vs gradient " + directional);
        }
    }

    @Test
    void theReferenceEngineTrainsWithTheModelsOwnCode() {
        LearnedField model = model("hnn", 8, 1);
        assertNull(Backends.select(Capability.TRAINING, "reference").openTraining(model.toTrainingModel(),
                Trainer.samples(data(model, 10, 2))));
        assertEquals("cpu", Backends.select(Capability.TRAINING, "auto").name());
    }

    /**
     * 20 full-batch Adam steps (η = 1e-3) from the same weights on both engines. Adam moves each weight by at most
     * about η per step whatever the gradient's scale, so the gap after 20 steps is bounded by 20η = 2e-2 (every step
     * of a weight of opposite sign); with gradients that agree to ~1e-7 relative it is orders below. We ask for
     * max |Δθ| ≤ 1e-3 (5% of that bound: no sign flips but on weights whose gradient is below round-off) and an RMS
     * gap ≤ 1e-5 (0.05% of the bound).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("kinds")
    void weightsAgreeAfterTwentyAdamSteps(String kind) {
        LearnedField ref = model(kind, 40, 21);
        LearnedField fast = model(kind, 40, 21);
        PhaseSpaceSamples data = data(ref, 500, 22);
        TrainingConfig config = TrainingConfig.defaults().withEpochs(20).withSeed(3);
        Trainer.train(ref, data, config, null, Backends.select(Capability.TRAINING, "reference"));
        Trainer.train(fast, data, config, null, cpu(0));
        double max = 0;
        double sq = 0;
        double[] a = ref.parameters();
        double[] b = fast.parameters();
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - b[i]);
            max = Math.max(max, d);
            sq += d * d;
        }
        double rms = Math.sqrt(sq / a.length);
        System.out.printf("%s after 20 Adam steps: max |Δθ| %.2e, RMS %.2e over %d weights%n", kind, max, rms, a.length);
        assertTrue(max <= 1e-3, kind + ": max weight gap " + max);
        assertTrue(rms <= 1e-5, kind + ": RMS weight gap " + rms);
    }

    /**
     * A full training run of the physics experiment's spring (2×32 tanh, 300 full-batch Adam steps, the HNN and the
     * baseline) on both engines: the final training losses within 5% of each other, and the cpu engine's run is
     * reproducible to the bit at another thread count.
     */
    @Test
    void aFullRunEndsWithinFivePercentOfTheReference() {
        PhysicsExperiment.Dataset d = PhysicsExperiment.dataset(PhysicsTask.SPRING, 50, 0.1, 4);
        TrainingConfig config = TrainingConfig.defaults().withEpochs(300).withSeed(4);
        for (String kind : List.of("hnn", "baseline")) {
            LearnedField ref = kind.equals("hnn") ? HamiltonianNetwork.create(1, new int[] {32, 32}, 5)
                    : DerivativeNetwork.create(1, 0, new int[] {32, 32}, 5);
            LearnedField fast = kind.equals("hnn") ? HamiltonianNetwork.create(1, new int[] {32, 32}, 5)
                    : DerivativeNetwork.create(1, 0, new int[] {32, 32}, 5);
            LearnedField again = kind.equals("hnn") ? HamiltonianNetwork.create(1, new int[] {32, 32}, 5)
                    : DerivativeNetwork.create(1, 0, new int[] {32, 32}, 5);
            TrainingResult r = Trainer.train(ref, d.train(), config, null, Backends.select(Capability.TRAINING, "reference"));
            TrainingResult f = Trainer.train(fast, d.train(), config, null, cpu(2));
            Trainer.train(again, d.train(), config, null, cpu(1));
            double lr = r.trainLoss()[r.trainLoss().length - 1];
            double lf = f.trainLoss()[f.trainLoss().length - 1];
            System.out.printf("spring %s, 300 steps: final loss reference %.6e, cpu %.6e (%.3f%%)%n", kind, lr, lf,
                    100 * Math.abs(lf - lr) / lr);
            assertTrue(Math.abs(lf - lr) <= 0.05 * lr, kind + ": final loss " + lf + " vs reference " + lr);
            assertTrue(lf < 0.5 * f.trainLoss()[0], kind + ": the loss fell (" + f.trainLoss()[0] + " to " + lf + ")");
            assertArrayEquals(fast.parameters(), again.parameters(), kind + ": 1 vs 2 threads");
        }
    }
}
