package dev.engram.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Adam/AdamW and the learning-rate schedule against their closed forms. */
class OptimTest {

    @Test
    void adamFirstStepMovesEachParameterByTheLearningRate() {
        // after one step m̂ = g and v̂ = g², so Δθ = −η·g/(|g| + ε) ≈ −η·sign(g)
        double[] theta = {1, 2, 3};
        Adam adam = new Adam(Adam.Config.adam(0), theta);
        adam.step(new double[] {0.5, -2, 1e-3}, 0.01);
        double[] g = {0.5, -2, 1e-3};
        double[] expected = new double[3];
        for (int i = 0; i < 3; i++) {
            expected[i] = (i + 1) - 0.01 * g[i] / (Math.abs(g[i]) + 1e-8);
        }
        assertArrayEquals(expected, theta, 1e-15);
        // AdamW with zero gradient: only the decoupled decay θ ← θ(1 − ηλ) acts
        double[] t2 = {1, -4};
        Adam w = new Adam(Adam.Config.adamW(0.1), t2);
        w.step(new double[] {0, 0}, 0.5);
        assertArrayEquals(new double[] {0.95, -3.8}, t2, 1e-12);
        // Adam's L2 penalty goes through the moments: zero gradient still moves by ≈ η·sign(θ)
        double[] t3 = {2};
        Adam l2 = new Adam(Adam.Config.adam(0.1), t3);
        l2.step(new double[] {0}, 0.5);
        assertEquals(1.5, t3[0], 1e-7);
        // a second step on a constant gradient: m̂ = g and v̂ = g² still, so the same move again
        adam.step(g, 0.01);
        for (int i = 0; i < 3; i++) {
            expected[i] -= 0.01 * g[i] / (Math.abs(g[i]) + 1e-8);
        }
        assertArrayEquals(expected, theta, 1e-14);
    }

    @Test
    void cosineScheduleKnownValues() {
        LearningRateSchedule s = new LearningRateSchedule(1e-3, 1e-5, 10, 110, true);
        assertEquals(1e-4, s.rate(0), 1e-18, "warm-up starts at η/W");
        assertEquals(1e-3, s.rate(9), 1e-18, "warm-up ends at η");
        assertEquals(1e-3, s.rate(10), 1e-18, "cosine starts at η");
        assertEquals((1e-3 + 1e-5) / 2, s.rate(60), 1e-18, "half-way: the mean");
        assertEquals(1e-5, s.rate(110), 1e-18, "the end: η_min");
        assertEquals(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + Math.cos(Math.PI * 0.25)), s.rate(35), 1e-18);
        LearningRateSchedule c = new LearningRateSchedule(2e-3, 0, 0, 50, false);
        assertEquals(2e-3, c.rate(0));
        assertEquals(2e-3, c.rate(49));
    }

    @Test
    void badSettingsAreNamed() {
        assertThrows(IllegalArgumentException.class, () -> new Adam.Config(1.0, 0.999, 1e-8, 0, Adam.WeightDecay.L2));
        assertThrows(IllegalArgumentException.class, () -> new Adam.Config(0.9, 0.999, 0, 0, Adam.WeightDecay.L2));
        assertThrows(IllegalArgumentException.class, () -> new Adam.Config(0.9, 0.999, 1e-8, -1, Adam.WeightDecay.L2));
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(0, 0, 0, 10, true));
        assertThrows(IllegalArgumentException.class, () -> new Adam(Adam.Config.adam(0), new double[2]).step(new double[3], 0.1));
    }
}
