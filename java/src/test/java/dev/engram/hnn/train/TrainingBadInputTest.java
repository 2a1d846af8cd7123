package dev.engram.hnn.train;

import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.Mlp;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets an error that names the field and the value. */
class TrainingBadInputTest {

    private static void fails(Executable e, String... parts) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        for (String p : parts) {
            assertTrue(ex.getMessage().contains(p), "'" + ex.getMessage() + "' should mention '" + p + "'");
        }
    }

    @Test
    void nonFiniteStatesAndTargets() {
        double[] ok = {0.1, 0.2};
        fails(() -> PhaseSpaceSamples.of(1, new double[] {0.1, Double.NaN}, ok, ok, ok), "q of sample 1", "NaN");
        fails(() -> PhaseSpaceSamples.of(1, ok, new double[] {Double.POSITIVE_INFINITY, 0}, ok, ok), "p of sample 0",
                "Infinity");
        fails(() -> PhaseSpaceSamples.of(1, ok, ok, ok, new double[] {0, Double.NEGATIVE_INFINITY}), "dpdt of sample 1",
                "-Infinity");
        fails(() -> PhaseSpaceSamples.of(1, ok, ok, new double[] {Double.NaN, 0}, ok), "dqdt of sample 0");
    }

    @Test
    void emptyOrMismatchedData() {
        fails(() -> PhaseSpaceSamples.of(1, new double[0], new double[0], new double[0], new double[0]), "empty");
        fails(() -> PhaseSpaceSamples.of(1, new double[2], new double[3], new double[2], new double[2]), "p has length 3");
        fails(() -> PhaseSpaceSamples.of(2, new double[3], new double[3], new double[3], new double[3]), "dof = 2");
        PhaseSpaceSamples two = PhaseSpaceSamples.of(2, new double[4], new double[4], new double[4], new double[4]);
        fails(() -> Trainer.train(HamiltonianNetwork.create(1, new int[] {4}, 1), two, TrainingConfig.defaults()),
                "model has dof 1", "data has dof 2");
        PhaseSpaceSamples one = PhaseSpaceSamples.of(1, new double[2], new double[2], new double[2], new double[2]);
        fails(() -> Trainer.train(HamiltonianNetwork.create(1, new int[] {4}, 1), one,
                TrainingConfig.defaults().withValidation(0.1, 3, true)), "validationFraction 0.1", "0 for validation");
    }

    @Test
    void badHyperParameters() {
        TrainingConfig d = TrainingConfig.defaults();
        fails(() -> d.withEpochs(0), "epochs", "0");
        fails(() -> d.withBatchSize(-4), "batchSize", "-4");
        fails(() -> d.withOptimizer(TrainingConfig.Optimizer.ADAM, -1e-3, 0), "learningRate", "-0.001");
        fails(() -> d.withOptimizer(TrainingConfig.Optimizer.ADAM, Double.NaN, 0), "learningRate", "NaN");
        fails(() -> d.withOptimizer(TrainingConfig.Optimizer.ADAMW, 1e-3, -0.5), "weightDecay", "-0.5");
        fails(() -> d.withCosineSchedule(1.0, 0), "minLearningRate", "1.0");
        fails(() -> d.withCosineSchedule(0, -2), "warmupSteps", "-2");
        fails(() -> d.withClipNorm(-1), "clipNorm", "-1");
        fails(() -> d.withValidation(1.0, 0, true), "validationFraction", "1.0");
        fails(() -> d.withValidation(0.2, -1, true), "patience", "-1");
        fails(() -> d.withThreads(-1), "threads", "-1");
        fails(() -> new TrainingConfig(1, 0, TrainingConfig.Optimizer.ADAM, 1e-3, 0, 0, false, 0, 1.0, 0.999, 1e-8,
                0, 0, 0, true, 0, 0), "beta1", "1.0");
        fails(() -> new TrainingConfig(1, 0, TrainingConfig.Optimizer.ADAM, 1e-3, 0, 0, false, 0, 0.9, 0.999, 0,
                0, 0, 0, true, 0, 0), "epsilon", "0.0");
        fails(() -> new TrainingConfig(1, 0, null, 1e-3, 0, 0, false, 0, 0.9, 0.999, 1e-8, 0, 0, 0, true, 0, 0),
                "optimizer");
    }

    @Test
    void badModelsAndSettings() {
        fails(() -> Mlp.of(2, 0, 1), "widths[1]", "0");
        fails(() -> Mlp.of(2), "widths needs at least");
        fails(() -> HamiltonianNetwork.create(0, new int[] {4}, 1), "dof", "0");
        fails(() -> new Mlp(new int[] {2, 3, 1}, new double[5], 0), "needs 13 parameters", "theta has 5");
        fails(() -> PhysicsTask.parse("double-pendulum"), "spring or pendulum", "double-pendulum");
        fails(() -> PhysicsExperiment.Settings.paper(PhysicsTask.SPRING, 0).withSize(0, 10), "hidden", "0");
        fails(() -> PhysicsExperiment.Settings.paper(PhysicsTask.SPRING, 0).withSize(8, 0), "steps", "0");
        HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {4}, 1);
        fails(() -> m.gradient(new double[2], new double[1], new double[1], new double[1]), "length n = 1");
    }

    @Test
    void nonFiniteStatesFedToModelsAreNamed() {
        HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {4}, 1);
        fails(() -> m.gradient(new double[] {Double.NaN}, new double[] {0}, new double[1], new double[1]),
                "q[0] of state 0 is NaN");
        fails(() -> m.field().derivatives(0, new double[] {0}, new double[] {Double.POSITIVE_INFINITY},
                new double[1], new double[1]), "p[0] of state 0 is Infinity");
        var port = dev.engram.hnn.PortHamiltonianNetwork.create(1, 2, new int[] {4}, new int[] {2}, new int[] {2}, 1);
        fails(() -> port.predict(new double[] {0}, new double[] {0}, new double[] {0, Double.NaN}, new double[1],
                new double[1]), "u[1] of state 0 is NaN");
    }

    @Test
    void nonFiniteParametersAreRefusedBeforeTraining() {
        HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {4}, 1);
        m.parameters()[3] = Double.NaN;
        PhaseSpaceSamples one = PhaseSpaceSamples.of(1, new double[2], new double[2], new double[2], new double[2]);
        fails(() -> Trainer.train(m, one, TrainingConfig.defaults()), "model parameter 3", "NaN");
    }
}
