package dev.engram.engine;

import dev.engram.hnn.AnalyticHamiltonians;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every check of {@link EnsembleSpec} by its message, the sampling grid, and the copies a spec keeps. */
class EnsembleSpecChecksTest {
    static final MlpWeights H = AnalyticHamiltonians.quadraticMlp(0.05);

    private static void rejected(Executable op, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op);
        assertTrue(e.getMessage().contains(message), "message '" + e.getMessage() + "' should contain '" + message + "'");
    }

    private static EnsembleSpec spec(float[] initial, int trajectories, float dt, int steps, int every, double[] levels) {
        return new EnsembleSpec(H, new float[] {1}, new float[] {0}, initial, trajectories, dt, steps, 0, 0, 0, 1, every,
                false, levels, EnsembleSpec.Scheme.LEAPFROG);
    }

    @Test
    void eachBadSettingIsNamedWithItsValue() {
        double[] fan = EnsembleSpec.FAN;
        rejected(() -> spec(null, 0, 0.1f, 10, 1, fan), "trajectories must be >= 1, got 0");
        rejected(() -> spec(null, 1, 0f, 10, 1, fan), "dt must be a finite number > 0, got 0.0");
        rejected(() -> spec(null, 1, Float.POSITIVE_INFINITY, 10, 1, fan), "dt must be a finite number > 0, got Infinity");
        rejected(() -> spec(null, 1, 0.1f, 0, 1, fan), "steps must be >= 1, got 0");
        rejected(() -> spec(null, 1, 0.1f, 10, -1, fan), "sampleEvery must be >= 0, got -1");
        rejected(() -> spec(null, 1, 0.1f, 10, 1, new double[] {0.5, 1.01}), "quantile levels must lie in [0, 1], got 1.01");
        rejected(() -> spec(null, 1, 0.1f, 10, 1, new double[] {-0.01}), "got -0.01");
        rejected(() -> spec(null, 1, 0.1f, 10, 1, new double[] {Double.NaN}), "got NaN");
        rejected(() -> spec(new float[3], 2, 0.1f, 10, 1, fan), "initialStates has 3 values, expected N×2n = 2×2");
        rejected(() -> spec(new float[] {0, 1, Float.NaN, 0}, 2, 0.1f, 10, 1, fan), "initialStates");
        rejected(() -> spec(null, 1, 0.1f, 10, 1, fan).withTaoOmega(0), "taoOmega must be a finite number > 0, got 0.0");
        rejected(() -> spec(null, 1, 0.1f, 10, 1, fan).withTaoOmega(Double.POSITIVE_INFINITY), "taoOmega");
        rejected(() -> new EnsembleSpec(H, new float[] {1, 2}, new float[] {0}, null, 1, 0.1f, 10, 0, 0, 0, 1, 1, false,
                EnsembleSpec.FAN, EnsembleSpec.Scheme.LEAPFROG), "q0");
        rejected(() -> new EnsembleSpec(H, new float[] {1}, new float[] {0}, null, 1, 0.1f, 10, 0, -1, 0, 1, 1, false,
                EnsembleSpec.FAN, EnsembleSpec.Scheme.LEAPFROG), "sigmaP");
        // 2 samples × N × (2n+1) = 2·N·3 must stay below 2³¹ − 8
        rejected(() -> spec(null, 400_000_000, 0.1f, 10, 0, fan), "samples × trajectories × (2n+1) = 2×400000000×3");
        assertEquals(357_913_939, spec(null, 357_913_939, 0.1f, 10, 0, fan).trajectories(), "2·357913939·3 fits");
    }

    @Test
    void levelsZeroAndOneAreAllowedAndTheEndsOfTheRanges() {
        EnsembleSpec s = spec(null, 1, Float.MIN_VALUE, 1, 0, new double[] {0, 1});
        assertArrayEquals(new double[] {0, 1}, s.quantiles());
        assertArrayEquals(new int[] {0, 1}, s.sampleSteps());
    }

    @Test
    void samplesAreEveryEStepsAndAlwaysTheLast() {
        assertArrayEquals(new int[] {0, 3, 6, 9, 10}, spec(null, 1, 0.1f, 10, 3, EnsembleSpec.FAN).sampleSteps());
        assertArrayEquals(new int[] {0, 5, 10}, spec(null, 1, 0.1f, 10, 5, EnsembleSpec.FAN).sampleSteps());
        assertArrayEquals(new int[] {0, 10}, spec(null, 1, 0.1f, 10, 10, EnsembleSpec.FAN).sampleSteps());
        assertArrayEquals(new int[] {0, 10}, spec(null, 1, 0.1f, 10, 0, EnsembleSpec.FAN).sampleSteps());
        assertArrayEquals(new int[] {0, 1, 2}, spec(null, 1, 0.1f, 2, 1, EnsembleSpec.FAN).sampleSteps());
    }

    @Test
    void aSpecKeepsCopiesAndTheWithersChangeOneFieldOnly() {
        float[] init = {1, 0, 0.5f, 0.5f};
        double[] levels = {0.1, 0.9};
        EnsembleSpec s = spec(init, 2, 0.1f, 10, 1, levels);
        init[0] = 99;
        levels[0] = 0.7;
        assertEquals(1f, s.initialStates()[0], "the caller's array is copied");
        assertEquals(0.1, s.quantiles()[0]);
        assertArrayEquals(new float[] {1}, s.q0(), "a given q0 is kept beside the initial states");
        EnsembleSpec noQ0 = new EnsembleSpec(H, null, null, new float[] {1, 2}, 1, 0.1f, 10, 0, 0, 0, 1, 1, false,
                EnsembleSpec.FAN, EnsembleSpec.Scheme.LEAPFROG);
        assertArrayEquals(new float[] {0}, noQ0.q0(), "q0 defaults to zeros when initial states are given");
        assertArrayEquals(new float[] {0}, noQ0.p0());
        EnsembleSpec t = s.withScheme(EnsembleSpec.Scheme.TAO).withKeepPaths(true).withTaoOmega(7);
        assertEquals(EnsembleSpec.Scheme.TAO, t.scheme());
        assertTrue(t.keepPaths());
        assertEquals(7, t.taoOmega());
        assertEquals(s.trajectories(), t.trajectories());
        assertEquals(s.steps(), t.steps());
        assertEquals(EnsembleSpec.DEFAULT_TAO_OMEGA, s.taoOmega());
        assertNotSame(s, t);
        assertEquals("EnsembleSpec[" + s.model().kind() + ", N=2, n=1, dt=0.1, steps=10, TAO]", t.toString());
        EnsembleSpec fromState = EnsembleSpec.of(H, new float[] {2}, new float[] {3}, 4, 0.1f, 10, 0, 0, 0, 1, 2);
        assertArrayEquals(new float[] {2}, fromState.q0());
        assertEquals(EnsembleSpec.Scheme.LEAPFROG, fromState.scheme());
        assertArrayEquals(EnsembleSpec.FAN, fromState.quantiles());
        assertEquals(1, fromState.dof());
    }
}
