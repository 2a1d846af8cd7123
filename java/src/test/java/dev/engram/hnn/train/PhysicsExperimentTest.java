package dev.engram.hnn.train;

import org.junit.jupiter.api.Test;

import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Greydanus et al. (2019), table 1, at a size CI affords (2×32 tanh, 400 full-batch steps instead of 2×200 and
 * 2000): the HNN's rollout energy MSE must be more than an order of magnitude below the baseline's on the spring
 * (paper: 3.8e-4 vs 1.7e-1) and below it on the pendulum, while both fit the derivatives about equally (test loss
 * within a factor 3 of each other; paper: 3.6e-2 vs 3.7e-2 on the spring).
 */
class PhysicsExperimentTest {

    @Test
    void trueSystemsConserveEnergyUnderTheRolloutIntegrator() {
        // the yardstick itself: RK4 at h = 0.02 over t ∈ [0, 20] keeps the true energy to ~1e-10
        double[][] x0 = {{1, 0}, {0.2, -0.9}};
        for (PhysicsTask task : PhysicsTask.values()) {
            double mse = PhysicsExperiment.energyMse(task, task.field(), x0, 20, 0.02, ForkJoinPool.commonPool());
            assertTrue(mse < 1e-12, task + " true-field energy MSE " + mse);
        }
    }

    @Test
    void datasetFollowsThePaperRecipe() {
        PhysicsExperiment.Dataset d = PhysicsExperiment.dataset(PhysicsTask.SPRING, 50, 0.1, 3);
        assertEquals(25 * 30, d.train().size());
        assertEquals(25 * 30, d.test().size());
        for (double[] x : d.testInitialStates()) {
            double r = Math.hypot(x[0], x[1]);
            assertTrue(r >= 0.1 && r <= 1.1, "spring radius " + r);
        }
        // targets are the analytic derivatives at the true states: dq/dt = 2p on the noise-free trajectory
        PhysicsExperiment.Dataset clean = PhysicsExperiment.dataset(PhysicsTask.PENDULUM, 4, 0.0, 3);
        PhaseSpaceSamples t = clean.train();
        for (int i = 0; i < t.size(); i++) {
            assertEquals(2 * t.p()[i], t.dqdt()[i], 1e-12);
            assertEquals(-3 * Math.sin(t.q()[i]), t.dpdt()[i], 1e-12);
            double h = PhysicsTask.PENDULUM.energy(new double[] {t.q()[i]}, new double[] {t.p()[i]});
            double r = Math.hypot(clean.testInitialStates()[0][0], clean.testInitialStates()[0][1]);
            assertTrue(h > 0 && r >= 1.3 && r <= 2.3);
        }
    }

    @Test
    void hnnConservesEnergyFarBetterThanTheBaseline() {
        for (PhysicsTask task : PhysicsTask.values()) {
            PhysicsExperiment.Settings s = PhysicsExperiment.Settings.paper(task, 0).withSize(32, 400);
            PhysicsExperiment.Outcome o = PhysicsExperiment.run(s, null);
            double hnn = o.hnn().energyMse();
            double base = o.baseline().energyMse();
            System.out.printf("%s (2×32, 400 steps): test loss baseline %.3e hnn %.3e; energy MSE baseline %.3e hnn %.3e%n",
                    task.label(), o.baseline().testLoss(), o.hnn().testLoss(), base, hnn);
            if (task == PhysicsTask.SPRING) {
                assertTrue(hnn * 10 < base, "spring: HNN energy MSE " + hnn + " should be < baseline " + base + "/10");
            } else {
                assertTrue(hnn < base, "pendulum: HNN energy MSE " + hnn + " should be < baseline " + base);
            }
            double ratio = o.hnn().testLoss() / o.baseline().testLoss();
            assertTrue(ratio > 1.0 / 3 && ratio < 3, task + ": test losses comparable, ratio " + ratio);
        }
    }
}
