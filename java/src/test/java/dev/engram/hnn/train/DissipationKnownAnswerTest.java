package dev.engram.hnn.train;

import dev.engram.engine.MlpWeights;
import dev.engram.hnn.DissipativeHamiltonianNetwork;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.ModelFile;
import dev.engram.hnn.PhaseSpaceField;
import dev.engram.hnn.PortHamiltonianNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The damped, driven oscillator dq/dt = p, dp/dt = −q − γp + g·u has a unique decomposition into the model forms
 * (dq/dt = ∂H/∂p fixes ∂H/∂p = p, hence ∂H/∂q = q, D = γ, G = g), so trained models must recover γ and g.
 */
class DissipationKnownAnswerTest {
    static final double GAMMA = 0.5;
    static final double GAIN = 0.8;

    @TempDir
    Path dir;

    static PhaseSpaceSamples damped(int count, boolean driven, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] q = new double[count];
        double[] p = new double[count];
        double[] u = new double[driven ? count : 0];
        double[] dq = new double[count];
        double[] dp = new double[count];
        for (int i = 0; i < count; i++) {
            q[i] = 2 * r.nextDouble() - 1;
            p[i] = 2 * r.nextDouble() - 1;
            dq[i] = p[i];
            dp[i] = -q[i] - GAMMA * p[i];
            if (driven) {
                u[i] = 2 * r.nextDouble() - 1;
                dp[i] += GAIN * u[i];
            }
        }
        return new PhaseSpaceSamples(1, driven ? 1 : 0, q, p, u, dq, dp);
    }

    static TrainingConfig config() {
        return TrainingConfig.defaults().withEpochs(150).withBatchSize(64)
                .withOptimizer(TrainingConfig.Optimizer.ADAM, 1e-2, 0).withCosineSchedule(1e-4, 20).withSeed(1);
    }

    /** Mean and max deviation of D over a grid in the data region [−0.8, 0.8]². */
    @Test
    void dissipativeModelRecoversTheDamping() {
        DissipativeHamiltonianNetwork m = DissipativeHamiltonianNetwork.create(1, new int[] {16, 16}, new int[] {8}, 3);
        Trainer.train(m, damped(512, false, 4), config());
        double worst = 0;
        for (double q = -0.8; q <= 0.8; q += 0.2) {
            for (double p = -0.8; p <= 0.8; p += 0.2) {
                double[] d = new double[1];
                m.damping(new double[] {q}, new double[] {p}, d);
                worst = Math.max(worst, Math.abs(d[0] - GAMMA));
            }
        }
        assertTrue(worst < 0.05, "learned D should be γ = 0.5 within 0.05 over the data region, worst error " + worst);
    }

    @Test
    void portModelRecoversTheInputGain() {
        PortHamiltonianNetwork m = PortHamiltonianNetwork.create(1, 1, new int[] {16, 16}, new int[] {8}, new int[] {8}, 5);
        Trainer.train(m, damped(512, true, 6), config());
        double worstG = 0;
        double worstD = 0;
        for (double q = -0.8; q <= 0.8; q += 0.2) {
            double[] g = new double[1];
            m.inputMap(new double[] {q}, g);
            worstG = Math.max(worstG, Math.abs(g[0] - GAIN));
            for (double p = -0.8; p <= 0.8; p += 0.4) {
                double[] dq = new double[1];
                double[] dp0 = new double[1];
                m.predict(new double[] {q}, new double[] {p}, new double[] {0}, dq, dp0);
                worstD = Math.max(worstD, Math.abs(dp0[0] - (-q - GAMMA * p)));
            }
        }
        assertTrue(worstG < 0.05, "learned G should be 0.8 within 0.05, worst error " + worstG);
        assertTrue(worstD < 0.1, "undriven dp/dt should be −q − γp within 0.1, worst error " + worstD);
        // integrating with an input signal: a constant push shifts the rest point to q* = g·u (for u = 1: 0.8)
        PhaseSpaceField f = m.field((t, u) -> u[0] = 1.0);
        double[] dq = new double[1];
        double[] dp = new double[1];
        f.derivatives(0, new double[] {GAIN}, new double[] {0}, dq, dp);
        assertEquals(0, dp[0], 0.1, "near equilibrium at q = g·u");
    }

    /** The README's library example, at a small size, runs as written. */
    @Test
    void readmeExampleRuns() throws Exception {
        PhaseSpaceSamples spring = TrainerTest.oscillator(300, 1, 0, 0.0, 8);
        PhaseSpaceSamples data = PhaseSpaceSamples.of(1, spring.q(), spring.p(), spring.dqdt(), spring.dpdt());
        HamiltonianNetwork hnn = HamiltonianNetwork.create(1, new int[] {16, 16}, 42);
        TrainingConfig config = TrainingConfig.defaults().withEpochs(20).withBatchSize(64)
                .withOptimizer(TrainingConfig.Optimizer.ADAMW, 1e-3, 1e-4)
                .withCosineSchedule(1e-5, 5)
                .withClipNorm(1.0).withValidation(0.2, 20, true)
                .withSeed(7);
        TrainingResult r = Trainer.train(hnn, data, config);
        assertEquals(20, r.validationLoss().length);
        ModelFile.save(hnn, dir.resolve("hnn.safetensors"));
        HamiltonianNetwork back = ModelFile.load(dir.resolve("hnn.safetensors"), HamiltonianNetwork.class);
        assertArrayEquals(hnn.parameters(), back.parameters());
        PhaseSpaceField field = back.field();
        double[] dq = new double[1];
        double[] dp = new double[1];
        field.derivatives(0, new double[] {0.1}, new double[] {0.2}, dq, dp);
        MlpWeights forEngines = back.hamiltonian().toWeights();
        assertEquals(3, forEngines.layers());
    }
}
