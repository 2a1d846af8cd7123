package dev.engram.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The accessors of {@link EnsembleResult} read the documented row-major layouts, checked on arrays of distinct values. */
class EnsembleResultLayoutTest {

    private static float[] iota(int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        return a;
    }

    private static EnsembleResult result(int trajectories, int dof, int samples, int levels, boolean paths) {
        int c = 2 * dof + 1;
        return new EnsembleResult(trajectories, dof, new int[samples], 0.1f, iota(trajectories * 2 * dof),
                new float[trajectories], new float[trajectories], new int[trajectories], 0, new double[levels],
                iota(samples * c * levels), paths ? iota(samples * trajectories * 2 * dof) : null);
    }

    @Test
    void finalStatesAreTrajectoryMajorWithQThenP() {
        EnsembleResult r = result(3, 2, 2, 3, false);
        // N×2n: trajectory i, coordinate j at i·2n + j
        assertEquals(0f, r.finalState(0, 0));
        assertEquals(3f, r.finalState(0, 3));
        assertEquals(4f, r.finalState(1, 0));
        assertEquals(2 * 4 + 1f, r.finalState(2, 1));
        assertEquals(11f, r.finalState(2, 3));
    }

    @Test
    void quantilesAreSampleThenCoordinateThenLevel() {
        EnsembleResult r = result(3, 2, 2, 3, false);
        assertEquals(5, r.coordinates());
        // S×(2n+1)×L: (s·5 + c)·3 + level
        assertEquals(0f, r.quantile(0, 0, 0));
        assertEquals(2f, r.quantile(0, 0, 2));
        assertEquals(3f, r.quantile(0, 1, 0));
        assertEquals((1 * 5 + 4) * 3 + 1f, r.quantile(1, 4, 1));
    }

    @Test
    void pathsAreSampleThenTrajectoryThenCoordinateAndMustHaveBeenKept() {
        EnsembleResult r = result(3, 2, 2, 1, true);
        // S×N×2n: (s·N + i)·2n + j
        assertEquals(0f, r.path(0, 0, 0));
        assertEquals(3f, r.path(0, 0, 3));
        assertEquals(4f, r.path(0, 1, 0));
        assertEquals((1 * 3 + 2) * 4 + 3f, r.path(1, 2, 3));
        assertEquals((1 * 3 + 0) * 4 + 1f, r.path(1, 0, 1));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> result(3, 2, 2, 1, false).path(0, 0, 0));
        assertEquals("paths were not kept; set keepPaths in the spec", e.getMessage());
    }
}
