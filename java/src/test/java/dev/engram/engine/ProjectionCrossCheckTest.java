package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The training projection ({@link Backend#project}, {@link Backend#projectBackward}): the reference against a
 * closed form, the cpu engine against the reference on seeded random problems (one row, a partial chunk, several
 * chunks, widths below and above the lane count), and the cpu engine's bits on 1 to 4 threads.
 */
class ProjectionCrossCheckTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final CpuBackend[] CPUS = {new CpuBackend(CpuBackend.Config.defaults().withThreads(1)),
            new CpuBackend(CpuBackend.Config.defaults().withThreads(2)),
            new CpuBackend(CpuBackend.Config.defaults().withThreads(4))};

    @AfterAll
    static void close() {
        for (CpuBackend c : CPUS) {
            c.close();
        }
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    private static void close(double[] expected, double[] actual, double tol, String what) {
        double scale = Math.max(maxAbs(expected), 1e-12);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], tol * scale, what + "[" + i + "]");
        }
    }

    @Test
    void referenceMatchesAClosedForm() {
        // X = [[1, 2], [3, 4], [5, 6]], W = [[1, 0], [1, -1]]: Y = [[1, -1], [3, -1], [5, -1]]
        Projection p = new Projection(3, 2, 2, new double[] {1, 2, 3, 4, 5, 6}, new double[] {1, 0, 1, -1});
        assertArrayEquals(new double[] {1, -1, 3, -1, 5, -1}, REFERENCE.project(p), 0);
        // ∂Y = [[1, 0], [0, 1], [1, 1]]: ∂W = ∂Yᵀ·X = [[6, 8], [8, 10]], ∂X = ∂Y·W = [[1, 0], [1, -1], [2, -1]]
        Projection.Gradient g = REFERENCE.projectBackward(p, new double[] {1, 0, 0, 1, 1, 1}, true);
        assertArrayEquals(new double[] {6, 8, 8, 10}, g.weights(), 0);
        assertArrayEquals(new double[] {1, 0, 1, -1, 2, -1}, g.inputs(), 0);
        assertNull(REFERENCE.projectBackward(p, new double[6], false).inputs());
    }

    /**
     * Inputs rounded to float32 (2⁻²⁴), Y and ∂X sum k or n products in float32, ∂W at most 1024 rows per chunk in
     * float32 and the chunks in double: √1024·2⁻²⁴ ≈ 2e-6 typically, so 2e-5 of the block's largest entry.
     */
    @ParameterizedTest(name = "seed {0}: {1} rows, {2} -> {3}")
    @CsvSource({"1, 1, 1, 1", "2, 7, 3, 5", "3, 1500, 32, 32", "4, 3000, 1, 32", "5, 2049, 19, 40"})
    void cpuMatchesTheReferenceOnEveryThreadCount(long seed, int rows, int k, int n) {
        SplittableRandom r = new SplittableRandom(seed);
        Projection p = new Projection(rows, k, n, AttentionCrossCheckTest.uniform(r, rows * k),
                AttentionCrossCheckTest.uniform(r, n * k));
        double[] dy = AttentionCrossCheckTest.uniform(r, rows * n);
        double[] y = REFERENCE.project(p);
        Projection.Gradient g = REFERENCE.projectBackward(p, dy, true);
        double[] first = null;
        Projection.Gradient firstG = null;
        for (CpuBackend cpu : CPUS) {
            double[] yc = cpu.project(p);
            Projection.Gradient gc = cpu.projectBackward(p, dy, true);
            close(y, yc, 2e-5, "Y");
            close(g.weights(), gc.weights(), 2e-5, "dW");
            close(g.inputs(), gc.inputs(), 2e-5, "dX");
            if (first == null) {
                first = yc;
                firstG = gc;
            } else {
                assertArrayEquals(first, yc, 0, cpu.config().threads() + " threads: Y bits");
                assertArrayEquals(firstG.weights(), gc.weights(), 0, cpu.config().threads() + " threads: dW bits");
                assertArrayEquals(firstG.inputs(), gc.inputs(), 0, cpu.config().threads() + " threads: dX bits");
            }
        }
    }

    @Test
    void badInputIsRejectedInOneLine() {
        var e1 = assertThrows(IllegalArgumentException.class, () -> new Projection(2, 3, 1, new double[5], new double[3]));
        assertEquals("x has length 5, expected 6", e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> new Projection(0, 3, 1, new double[0], new double[3]));
        assertEquals("a projection needs rows, inputs and outputs >= 1, got 0, 3, 1", e2.getMessage());
        Projection p = new Projection(1, 1, 1, new double[1], new double[1]);
        var e3 = assertThrows(IllegalArgumentException.class,
                () -> CPUS[0].projectBackward(p, new double[] {Double.POSITIVE_INFINITY}, true));
        assertEquals("outputGradient[0] is Infinity; every value must be finite", e3.getMessage());
    }
}
