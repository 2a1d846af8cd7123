package dev.engram.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The seeded generators: their distributions, and that rows do not depend on how many rows were asked for. */
class RandomMatricesTest {
    private static final int N = 9000; // more than two blocks of 4096 rows

    @Test
    void uniformIsUniformOnMinusOneToOne() {
        try (FloatMatrix m = RandomMatrices.uniform(N, 20, 5)) {
            double sum = 0;
            double sq = 0;
            int below = 0;
            for (float v : m.toArray()) {
                assertTrue(v >= -1 && v < 1, "entry " + v);
                assertTrue(v != 0, "an entry was never written");
                sum += v;
                sq += v * v;
                below += v < -0.5 ? 1 : 0;
            }
            int n = N * 20;
            // 180k samples: standard errors of the mean, E[x²] and P(x < −½) are ~0.0014, 0.0007 and 0.001
            assertEquals(0, sum / n, 0.008, "mean");
            assertEquals(1.0 / 3, sq / n, 0.004, "E[x²]");
            assertEquals(0.25, below / (double) n, 0.006, "P(x < −½)");
        }
    }

    @Test
    void gaussianIsStandardNormal() {
        try (FloatMatrix m = RandomMatrices.gaussian(N, 20, 6)) {
            double sum = 0;
            double sq = 0;
            int within = 0;
            int positive = 0;
            for (float v : m.toArray()) {
                sum += v;
                sq += v * v;
                within += Math.abs(v) < 1 ? 1 : 0;
                positive += v > 0 ? 1 : 0;
            }
            int n = N * 20;
            assertEquals(0, sum / n, 0.012, "mean");
            assertEquals(1, sq / n, 0.02, "variance");
            assertEquals(0.6827, within / (double) n, 0.006, "P(|x| < 1)");
            assertEquals(0.5, positive / (double) n, 0.006, "P(x > 0)");
        }
    }

    /** Rows come from per-block streams: the first r rows of a taller matrix are the r-row matrix, across blocks. */
    @Test
    void rowsDoNotDependOnTheHeightAndSeedsDiffer() {
        for (boolean gaussian : new boolean[] {false, true}) {
            try (FloatMatrix tall = make(gaussian, N, 3, 11); FloatMatrix shorter = make(gaussian, 5000, 3, 11);
                 FloatMatrix other = make(gaussian, 5000, 3, 12)) {
                assertArrayEquals(shorter.toArray(), tall.rows(0, 5000).toArray());
                assertFalse(java.util.Arrays.equals(shorter.toArray(), other.toArray()), "seed 12 = seed 11");
                // the block boundary: rows 4095 and 4096 come from different streams, and both are written
                assertTrue(tall.get(4096, 0) != 0 && tall.get(N - 1, 2) != 0);
                assertTrue(tall.get(4095, 0) != tall.get(4096, 0));
            }
        }
    }

    private static FloatMatrix make(boolean gaussian, int rows, int cols, long seed) {
        return gaussian ? RandomMatrices.gaussian(rows, cols, seed) : RandomMatrices.uniform(rows, cols, seed);
    }
}
