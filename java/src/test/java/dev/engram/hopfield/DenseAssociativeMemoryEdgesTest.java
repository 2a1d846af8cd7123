package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.SplittableRandom;

import static dev.engram.hopfield.PatternStoreTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Settings edges, input checks by name, and that replacing the memory reaches the engine's cached head memories. */
class DenseAssociativeMemoryEdgesTest {

    private static void rejected(Executable op, String... parts) {
        assertMessage(assertThrows(IllegalArgumentException.class, op), parts);
    }

    private static double[][] rows(SplittableRandom rnd, int n, int d) {
        double[][] r = new double[n][d];
        for (double[] row : r) {
            for (int j = 0; j < d; j++) {
                row[j] = 2 * rnd.nextDouble() - 1;
            }
        }
        return r;
    }

    private static FloatMatrix matrix(double[][] r) {
        float[] flat = new float[r.length * r[0].length];
        for (int b = 0; b < r.length; b++) {
            for (int j = 0; j < r[0].length; j++) {
                flat[b * r[0].length + j] = (float) r[b][j];
            }
        }
        return FloatMatrix.of(flat, r.length, r[0].length);
    }

    @Test
    void settingsAcceptTheirSmallestValuesAndRejectTheFirstBadOne() {
        assertEquals(2, new DenseAssociativeMemory.Config(3, 1, 2, 1, 1, 1, 1, false).memorySize());
        rejected(() -> new DenseAssociativeMemory.Config(3, 1, 1, 1, 1, 1, 1, false), "memorySize must be >= 2, got 1");
        assertEquals(0.0, new DenseAssociativeMemory.TrainingConfig(5, 1, 1e-3, 1e-4, 0, 0, 0, 1).diversityWeight());
        rejected(() -> new DenseAssociativeMemory.TrainingConfig(5, 1, 1e-3, 1e-4, 0, 0, -1e-9, 1),
                "diversityWeight must be a finite number >= 0, got -1.0E-9");
        rejected(() -> new DenseAssociativeMemory.TrainingConfig(5, 1, 1e-3, 1e-4, 0, 0, Double.POSITIVE_INFINITY, 1),
                "diversityWeight", "Infinity");
        // a warm-up as long as the run is allowed: the schedule is stretched to warmupSteps + 1
        assertEquals(5, new DenseAssociativeMemory.TrainingConfig(5, 1, 1e-3, 1e-4, 5, 0, 0, 1).warmupSteps());
    }

    @Test
    void defaultTrainingWarmsUpForATenthOfTheStepsUpToTwenty() {
        DenseAssociativeMemory.TrainingConfig short50 = DenseAssociativeMemory.TrainingConfig.defaults(50);
        assertEquals(new DenseAssociativeMemory.TrainingConfig(50, 32, 3e-3, 3e-4, 5, 1e-4, 1e-2, 1), short50);
        assertEquals(20, DenseAssociativeMemory.TrainingConfig.defaults(1000).warmupSteps());
        assertEquals(0, DenseAssociativeMemory.TrainingConfig.defaults(9).warmupSteps());
    }

    @Test
    void batchesAreCheckedByName() {
        var cfg = new DenseAssociativeMemory.Config(3, 2, 4, 1, 2, 2, 2, true);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, 5)) {
            double[][] f = rows(new SplittableRandom(1), 2, 3);
            rejected(() -> dam.gradient(f, new double[] {0, Double.NaN}, 0), "targets must be finite, but element 1 is NaN");
            rejected(() -> dam.gradient(f, new double[] {0}, 0), "targets has length 1 but 2 is expected");
            rejected(() -> dam.gradient(f, new double[2], -0.5), "diversityWeight must be a finite number >= 0, got -0.5");
            rejected(() -> dam.gradient(f, new double[2], Double.NaN), "diversityWeight", "NaN");
            rejected(() -> dam.setMemory(rows(new SplittableRandom(2), 3, 3), rows(new SplittableRandom(3), 4, 2)),
                    "memory needs M=4 keys and values, got 3 keys and 4 values");
            rejected(() -> dam.setMemory(rows(new SplittableRandom(2), 4, 3), rows(new SplittableRandom(3), 3, 2)),
                    "got 4 keys and 3 values");
            try (FloatMatrix nan = FloatMatrix.of(new float[] {0, Float.NaN, 0}, 1, 3);
                 FloatMatrix wide = FloatMatrix.of(new float[] {0, 1, 0, 1}, 1, 4)) {
                Backend engine = Backends.select("reference");
                rejected(() -> dam.predict(engine, nan), "features", "NaN");
                rejected(() -> dam.predict(engine, wide), "features have d=4 columns but 3 are expected");
            }
        }
    }

    @Test
    void newKeysAndValuesReachPredictionsMadeBeforeAndAfterTheReplacement() {
        var cfg = new DenseAssociativeMemory.Config(3, 2, 4, 2, 2, 3, 4, true);
        SplittableRandom rnd = new SplittableRandom(17);
        double[][] f = rows(rnd, 5, 3);
        double[][] keys = rows(rnd, 4, 3);
        double[][] values = rows(rnd, 4, 2);
        Backend engine = Backends.select("reference");
        try (DenseAssociativeMemory used = new DenseAssociativeMemory(cfg, 9);
             DenseAssociativeMemory fresh = new DenseAssociativeMemory(cfg, 9);
             FloatMatrix fm = matrix(f)) {
            DenseAssociativeMemory.Prediction before = used.predict(engine, fm);
            used.setMemory(keys, values);
            fresh.setMemory(keys, values);
            DenseAssociativeMemory.Prediction after = used.predict(engine, fm);
            DenseAssociativeMemory.Prediction expected = fresh.predictExact(f);
            assertFalse(java.util.Arrays.equals(before.predicted(), after.predicted()), "the new memory is used");
            // float32 projections and scores (β·cos ≤ 4): ~1e-6 relative
            assertArrayEquals(expected.predicted(), after.predicted(), 2e-5f);
            assertArrayEquals(expected.confidence(), after.confidence(), 2e-5f);

            // only the values change: every value row, not just the first, must arrive
            double[][] values2 = values.clone();
            values2[3] = new double[] {values[3][0] + 1, values[3][1] - 1};
            used.setMemory(keys, values2);
            fresh.setMemory(keys, values2);
            assertArrayEquals(fresh.predictExact(f).predicted(), used.predict(engine, fm).predicted(), 2e-5f);
            assertFalse(java.util.Arrays.equals(after.predicted(), used.predict(engine, fm).predicted()),
                    "value row 3 matters");
        }
    }
}
