package dev.engram.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MarchingSquaresTest {
    static double[] grid(double lo, double hi, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = lo + (hi - lo) * i / (n - 1);
        }
        return v;
    }

    /**
     * H = q² + p² on a 101×101 grid over [−2, 2]²: every end point of the level-r² contour lies on the circle of
     * radius r up to the linear interpolation's error (cell 0.04: the chord between grid values deviates from the
     * circle by at most h²/(8r)·2 ≈ 4e-4 for r ≥ 0.5), and the segments' total length is 2πr to 0.5%.
     */
    @ParameterizedTest(name = "circle of radius {0}")
    @ValueSource(doubles = {0.5, 1.0, 1.7})
    void contoursOfAParaboloidAreCircles(double r) {
        double[] xs = grid(-2, 2, 101);
        double[] ys = grid(-2, 2, 101);
        double[][] z = new double[101][101];
        for (int j = 0; j < 101; j++) {
            for (int i = 0; i < 101; i++) {
                z[j][i] = xs[i] * xs[i] + ys[j] * ys[j];
            }
        }
        List<double[]> segs = MarchingSquares.segments(xs, ys, z, r * r);
        double length = 0;
        for (double[] s : segs) {
            assertEquals(r, Math.hypot(s[0], s[1]), 2e-3);
            assertEquals(r, Math.hypot(s[2], s[3]), 2e-3);
            length += Math.hypot(s[2] - s[0], s[3] - s[1]);
        }
        assertEquals(2 * Math.PI * r, length, 0.005 * 2 * Math.PI * r);
    }

    @Test
    void aLevelOutsideTheRangeGivesNoSegmentsAndALinearFunctionGivesAStraightLine() {
        double[] xs = grid(0, 1, 11);
        double[] ys = grid(0, 1, 11);
        double[][] z = new double[11][11];
        for (int j = 0; j < 11; j++) {
            for (int i = 0; i < 11; i++) {
                z[j][i] = xs[i] + ys[j];
            }
        }
        assertTrue(MarchingSquares.segments(xs, ys, z, 5).isEmpty());
        List<double[]> line = MarchingSquares.segments(xs, ys, z, 1.05);
        assertTrue(line.size() >= 10, "a diagonal crosses at least 10 cells, got " + line.size());
        for (double[] s : line) {
            assertEquals(1.05, s[0] + s[1], 1e-12);
            assertEquals(1.05, s[2] + s[3], 1e-12);
        }
    }

    @Test
    void aSaddleCellGivesTwoSegmentsAndARaggedGridIsRefused() {
        double[] xy = {0, 1};
        double[][] saddle = {{1, -1}, {-1, 1}};
        assertEquals(2, MarchingSquares.segments(xy, xy, saddle, 0).size());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MarchingSquares.segments(xy, xy, new double[][] {{1, 2}, {3}}, 0));
        assertTrue(e.getMessage().contains("row 0"), e.getMessage());
    }
}
