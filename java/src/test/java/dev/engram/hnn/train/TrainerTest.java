package dev.engram.hnn.train;

import dev.engram.hnn.DerivativeNetwork;
import dev.engram.hnn.DissipativeHamiltonianNetwork;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.LearnedField;
import dev.engram.hnn.PortHamiltonianNetwork;
import dev.engram.hnn.SeparableHamiltonianNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainerTest {
    static final ForkJoinPool POOL = new ForkJoinPool(2);

    /** Samples of the harmonic oscillator H = (q² + p²)/2 (dq/dt = p, dp/dt = −q), n = dof, m = inputs. */
    static PhaseSpaceSamples oscillator(int count, int dof, int inputs, double noise, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] q = new double[count * dof];
        double[] p = new double[count * dof];
        double[] u = new double[count * inputs];
        double[] dq = new double[count * dof];
        double[] dp = new double[count * dof];
        for (int i = 0; i < count * dof; i++) {
            q[i] = 2 * r.nextDouble() - 1;
            p[i] = 2 * r.nextDouble() - 1;
            dq[i] = p[i] + noise * r.nextGaussian();
            dp[i] = -q[i] + noise * r.nextGaussian();
        }
        for (int i = 0; i < u.length; i++) {
            u[i] = r.nextGaussian();
        }
        return new PhaseSpaceSamples(dof, inputs, q, p, u, dq, dp);
    }

    static List<LearnedField> models() {
        return List.of(HamiltonianNetwork.create(2, new int[] {5, 4}, 1),
                SeparableHamiltonianNetwork.create(2, new int[] {5}, 2),
                DissipativeHamiltonianNetwork.create(2, new int[] {5}, new int[] {3}, 3),
                PortHamiltonianNetwork.create(2, 2, new int[] {5}, new int[] {3}, new int[] {4}, 4),
                DerivativeNetwork.create(2, 0, new int[] {5, 4}, 5));
    }

    /**
     * ∇_θ L of the whole loss (70 samples, i.e. three chunks: batching and the chunk sum are covered) against central
     * differences, h = 1e-5, tolerance 1e-7·max(1, |g|) as in GradientCheckTest.
     */
    @ParameterizedTest
    @MethodSource("models")
    void lossGradientMatchesFiniteDifferences(LearnedField model) {
        PhaseSpaceSamples data = oscillator(70, 2, model.inputCount(), 0.1, 7);
        int[] all = IntStream.range(0, data.size()).toArray();
        double[] grad = new double[model.parameters().length];
        double loss = DerivativeLoss.evaluate(model, data, all, 0, all.length, grad, POOL);
        assertEquals(DerivativeLoss.loss(model, data, POOL), loss, 1e-15);
        double[] th = model.parameters();
        double h = 1e-5;
        double maxAbs = 0;
        for (int i = 0; i < th.length; i++) {
            double old = th[i];
            th[i] = old + h;
            double up = DerivativeLoss.loss(model, data, POOL);
            th[i] = old - h;
            double down = DerivativeLoss.loss(model, data, POOL);
            th[i] = old;
            double fd = (up - down) / (2 * h);
            assertEquals(fd, grad[i], 1e-7 * Math.max(1, Math.abs(fd)), model.kind() + " ∂L/∂θ[" + i + "]");
            maxAbs = Math.max(maxAbs, Math.abs(fd));
        }
        assertTrue(maxAbs > 1e-3);
    }

    @ParameterizedTest
    @MethodSource("models")
    void batchedBackpropEqualsTheSumOfSingleSamples(LearnedField model) {
        SplittableRandom r = new SplittableRandom(3);
        int n = model.dof();
        int m = model.inputCount();
        int batch = 5;
        double[][][] v = new double[5][batch][];
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < 5; k++) {
                int len = k == 2 ? m : n;
                v[k][b] = r.doubles(len, -1, 1).toArray();
            }
        }
        double[] batched = new double[model.parameters().length];
        model.backprop(v[0], v[1], v[2], v[3], v[4], batched);
        double[] single = new double[batched.length];
        for (int b = 0; b < batch; b++) {
            model.backprop(v[0][b], v[1][b], v[2][b], v[3][b], v[4][b], single);
        }
        assertArrayEquals(single, batched, 1e-12);
        double[][] dq = new double[batch][n];
        double[][] dp = new double[batch][n];
        model.predict(v[0], v[1], v[2], dq, dp);
        for (int b = 0; b < batch; b++) {
            double[] q1 = new double[n];
            double[] p1 = new double[n];
            model.predict(v[0][b], v[1][b], v[2][b], q1, p1);
            assertArrayEquals(q1, dq[b], 1e-14);
            assertArrayEquals(p1, dp[b], 1e-14);
        }
    }

    @ParameterizedTest
    @MethodSource("models")
    void lossBackpropEqualsPredictThenBackprop(LearnedField model) {
        SplittableRandom r = new SplittableRandom(4);
        int n = model.dof();
        int batch = 6;
        double[][][] v = new double[5][batch][];
        for (int b = 0; b < batch; b++) {
            for (int k = 0; k < 5; k++) {
                v[k][b] = r.doubles(k == 2 ? model.inputCount() : n, -1, 1).toArray();
            }
        }
        double scale = 0.37;
        double[] fused = new double[model.parameters().length];
        double loss = model.squaredErrorBackprop(v[0], v[1], v[2], v[3], v[4], scale, fused);
        double[][] dq = new double[batch][n];
        double[][] dp = new double[batch][n];
        model.predict(v[0], v[1], v[2], dq, dp);
        double sum = 0;
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                double eq = dq[b][i] - v[3][b][i];
                double ep = dp[b][i] - v[4][b][i];
                sum += eq * eq + ep * ep;
                dq[b][i] = 2 * eq * scale;
                dp[b][i] = 2 * ep * scale;
            }
        }
        double[] plain = new double[fused.length];
        model.backprop(v[0], v[1], v[2], dq, dp, plain);
        assertEquals(sum * scale, loss, 1e-15);
        assertArrayEquals(plain, fused, 1e-15);
    }

    @Test
    void clippingRescalesToTheNormOnlyWhenLarger() {
        double[] g = {3, 4};
        Trainer.clip(g, 1);
        assertArrayEquals(new double[] {0.6, 0.8}, g, 1e-15);
        double[] small = {0.3, 0.4};
        Trainer.clip(small, 1);
        assertArrayEquals(new double[] {0.3, 0.4}, small);
    }

    @Test
    void sameSeedGivesBitIdenticalWeightsWhateverTheThreadCount() {
        PhaseSpaceSamples data = oscillator(200, 1, 0, 0.05, 11);
        TrainingConfig cfg = TrainingConfig.defaults().withEpochs(8).withBatchSize(48)
                .withOptimizer(TrainingConfig.Optimizer.ADAMW, 3e-3, 1e-3).withCosineSchedule(1e-5, 3)
                .withClipNorm(1.0).withValidation(0.2, 0, true).withSeed(5);
        double[][] runs = new double[3][];
        int[] threads = {1, 2, 1};
        for (int i = 0; i < 3; i++) {
            HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {16, 16}, 9);
            Trainer.train(m, data, cfg.withThreads(threads[i]));
            runs[i] = m.parameters().clone();
        }
        assertArrayEquals(runs[0], runs[1], "1 vs 2 threads: bit-identical");
        assertArrayEquals(runs[0], runs[2], "a repeat: bit-identical");
        HamiltonianNetwork other = HamiltonianNetwork.create(1, new int[] {16, 16}, 9);
        Trainer.train(other, data, cfg.withSeed(6));
        assertFalse(java.util.Arrays.equals(runs[0], other.parameters()), "another shuffle seed: other weights");
    }

    @Test
    void trainingFitsTheOscillatorAndLowersTheLoss() {
        PhaseSpaceSamples data = oscillator(256, 1, 0, 0.0, 12);
        HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {32}, 13);
        double before = DerivativeLoss.loss(m, data, POOL);
        TrainingResult r = Trainer.train(m, data, TrainingConfig.defaults().withEpochs(60).withBatchSize(32)
                .withOptimizer(TrainingConfig.Optimizer.ADAM, 1e-2, 0).withCosineSchedule(1e-4, 10));
        double after = DerivativeLoss.loss(m, data, POOL);
        assertEquals(60, r.epochs());
        assertEquals(60 * 8, r.steps());
        assertTrue(after < before / 100, "loss " + before + " → " + after);
        assertTrue(after < 3e-3, "a 32-unit tanh layer fits H = (q² + p²)/2 on [−1, 1]² closely; loss " + after);
    }

    @Test
    void earlyStoppingRestoresTheBestEpoch() {
        // pure-noise targets: the network can only memorise, so the validation loss turns up and patience ends it
        SplittableRandom r = new SplittableRandom(21);
        int count = 40;
        double[] q = r.doubles(count, -1, 1).toArray();
        double[] p = r.doubles(count, -1, 1).toArray();
        double[] dq = r.doubles(count, -1, 1).toArray();
        double[] dp = r.doubles(count, -1, 1).toArray();
        PhaseSpaceSamples data = PhaseSpaceSamples.of(1, q, p, dq, dp);
        DerivativeNetwork m = DerivativeNetwork.create(1, 0, new int[] {64, 64}, 22);
        List<double[]> snapshots = new ArrayList<>();
        TrainingResult res = Trainer.train(m, data, TrainingConfig.defaults().withEpochs(2000).withBatchSize(8)
                        .withOptimizer(TrainingConfig.Optimizer.ADAM, 1e-2, 0).withValidation(0.25, 5, true).withSeed(3),
                (epoch, loss, val, lr) -> snapshots.add(m.parameters().clone()));
        assertTrue(res.stoppedEarly(), "patience should end a run of 2000 epochs on noise");
        assertTrue(res.epochs() < 2000);
        assertEquals(res.epochs(), snapshots.size());
        assertEquals(res.bestEpoch() + 5, res.epochs() - 1, "stops 5 epochs after the best");
        assertTrue(res.restoredBest());
        assertArrayEquals(snapshots.get(res.bestEpoch()), m.parameters(), "the best epoch's parameters are back");
        double min = java.util.Arrays.stream(res.validationLoss()).min().orElseThrow();
        assertEquals(min, res.bestValidationLoss());
        assertEquals(res.validationLoss()[res.bestEpoch()], res.bestValidationLoss());
    }
}
