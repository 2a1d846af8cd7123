package dev.engram.hopfield;

import dev.engram.engine.Backends;
import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.List;

import static dev.engram.hopfield.PatternStoreTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The edges of the store's settings and of its batch entry points (addDistinct, insertAll, batched query). */
class PatternStoreBoundaryTest {

    private static PatternStore.Config config(int capacity, double mergeSimilarity, double mergeRate) {
        return new PatternStore.Config(3, capacity, 1f, mergeSimilarity, mergeRate, 4);
    }

    private static void rejected(Executable op, String... parts) {
        assertMessage(assertThrows(IllegalArgumentException.class, op), parts);
    }

    @Test
    void configAcceptsTheClosedEndsOfItsRangesAndRejectsTheOpenOnes() {
        assertEquals(1, config(1, 0.5, 0.5).capacity());
        assertEquals(1.0, config(2, 1.0, 0.5).mergeSimilarity());
        assertEquals(-0.999, config(2, -0.999, 0.5).mergeSimilarity());
        assertEquals(1.0, config(2, 0.5, 1.0).mergeRate());
        assertEquals(1e-9, config(2, 0.5, 1e-9).mergeRate());
        rejected(() -> config(0, 0.5, 0.5), "capacity must be >= 1, got 0");
        rejected(() -> config(2, -1.0, 0.5), "mergeSimilarity must be in (-1, 1], got -1.0");
        rejected(() -> config(2, 1.0000001, 0.5), "mergeSimilarity", "1.0000001");
        rejected(() -> config(2, Double.NaN, 0.5), "mergeSimilarity", "NaN");
        rejected(() -> config(2, 0.5, 0.0), "mergeRate must be in (0, 1], got 0.0");
        rejected(() -> config(2, 0.5, 1.0000001), "mergeRate", "1.0000001");
        rejected(() -> config(2, 0.5, Double.NaN), "mergeRate", "NaN");
        rejected(() -> new PatternStore.Config(3, 2, 0f, 0.5, 0.5, 4), "beta", "0.0");
        rejected(() -> new PatternStore.Config(3, 2, 1f, 0.5, 0.5, 0), "halfLife", "0.0");
    }

    @Test
    void aMergeSimilarityOfExactlyOneNeverMergesEvenAnIdenticalPattern() {
        try (PatternStore s = new PatternStore(config(3, 1.0, 0.5), Backends.select("reference"))) {
            s.insert(new float[] {1, 0, 0}, 0.1, 1);
            PatternStore.Insertion again = s.insert(new float[] {2, 0, 0}, 0.2, 2);
            assertEquals(PatternStore.Action.ADDED, again.action(), "cos = 1 is not above the threshold 1");
            assertEquals(1, again.slot());
            assertEquals(1.0, again.similarity(), 1e-6);
            assertEquals(2, s.size());
        }
    }

    @Test
    void addDistinctRejectsEachBadArgumentByNameAndAddsNothing() {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 4), Backends.select("reference"));
             FloatMatrix wide = FloatMatrix.of(new float[] {1, 2, 3, 4}, 1, 4);
             FloatMatrix two = FloatMatrix.of(new float[] {1, 0, 0, 0, 1, 0}, 2, 3);
             FloatMatrix nan = FloatMatrix.of(new float[] {1, 0, 0, 0, Float.NaN, 0}, 2, 3);
             FloatMatrix zero = FloatMatrix.of(new float[] {1, 0, 0, 0, 0, 0}, 2, 3)) {
            rejected(() -> s.addDistinct(wide, new float[1], new long[1]), "features have d=4 columns but 3 are expected");
            rejected(() -> s.addDistinct(two, new float[1], new long[2]), "outcomes has length 1 but 2 is expected");
            rejected(() -> s.addDistinct(two, new float[2], new long[3]), "datesMs has length 3 but 2 is expected");
            rejected(() -> s.addDistinct(two, new float[] {0, Float.POSITIVE_INFINITY}, new long[2]),
                    "outcomes must be finite, but element 1 is Infinity");
            rejected(() -> s.addDistinct(nan, new float[2], new long[2]), "features", "NaN");
            rejected(() -> s.addDistinct(zero, new float[2], new long[2]), "features row 1 is the zero vector");
            assertEquals(0, s.size());
        }
    }

    @Test
    void addDistinctStoresUnitRowsWithTheirOutcomesAndDatesAndFreshUsage() {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 4), Backends.select("reference"));
             FloatMatrix two = FloatMatrix.of(new float[] {3, 0, 4, 0, 2, 0}, 2, 3)) {
            s.addDistinct(two, new float[] {0.5f, -0.25f}, new long[] {10, 20});
            assertEquals(2, s.size());
            PatternStore.Prediction p = s.query(new float[] {0.6f, 0, 0.8f}, 2);
            assertEquals(0, p.neighbors().getFirst().slot());
            assertEquals(1.0, p.neighbors().getFirst().similarity(), 1e-6, "row 0 was stored as the unit (0.6, 0, 0.8)");
            assertEquals(10, p.neighbors().getFirst().dateMs());
            assertEquals(0.5, p.neighbors().getFirst().outcome(), 0);
            assertEquals(1, p.neighbors().get(1).slot());
            assertEquals(0.0, p.neighbors().get(1).similarity(), 1e-6);
            assertEquals(20, p.neighbors().get(1).dateMs());
            assertEquals(-0.25, p.neighbors().get(1).outcome(), 0);
        }
    }

    @Test
    void insertAllRejectsEachBadArgumentByNameBeforeAnythingChanges() {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 4), Backends.select("reference"));
             FloatMatrix wide = FloatMatrix.of(new float[] {1, 2, 3, 4}, 1, 4);
             FloatMatrix two = FloatMatrix.of(new float[] {1, 0, 0, 0, 1, 0}, 2, 3);
             FloatMatrix nan = FloatMatrix.of(new float[] {1, 0, 0, 0, Float.NaN, 0}, 2, 3)) {
            rejected(() -> s.insertAll(wide, new double[1], new long[1]), "features have d=4 columns but 3 are expected");
            rejected(() -> s.insertAll(two, new double[2], new long[1]), "datesMs has length 1 but 2 is expected");
            rejected(() -> s.insertAll(two, new double[] {Double.NaN, 0}, new long[2]),
                    "outcomes must be finite, but element 0 is NaN");
            rejected(() -> s.insertAll(nan, new double[2], new long[2]), "features", "NaN");
            assertEquals(0, s.size());
        }
    }

    @Test
    void insertAllOfNoRowsChangesNothingAndAnswersWithNoInsertions() {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 4), Backends.select("reference"));
             FloatMatrix none = FloatMatrix.allocate(0, 3)) {
            s.insert(new float[] {1, 0, 0}, 0.1, 1);
            assertEquals(List.of(), s.insertAll(none, new double[0], new long[0]));
            assertEquals(1, s.size());
        }
    }

    @Test
    void insertAllOfOneRowMakesTheDecisionOfOneInsert() {
        try (PatternStore a = new PatternStore(PatternStore.Config.defaults(3, 4), Backends.select("reference"));
             PatternStore b = new PatternStore(PatternStore.Config.defaults(3, 4), Backends.select("reference"));
             FloatMatrix near = FloatMatrix.of(new float[] {1, 0.1f, 0}, 1, 3)) {
            a.insert(new float[] {1, 0, 0}, 0.1, 1);
            b.insert(new float[] {1, 0, 0}, 0.1, 1);
            PatternStore.Insertion one = a.insert(new float[] {1, 0.1f, 0}, 0.3, 2);
            List<PatternStore.Insertion> batch = b.insertAll(near, new double[] {0.3}, new long[] {2});
            assertEquals(List.of(one), batch);
            assertEquals(PatternStore.Action.MERGED, one.action());
        }
    }

    @Test
    void batchedQueryRejectsBadRowsByNameAndAnswersEachRowLikeASingleQuery() {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 8), Backends.select("reference"));
             FloatMatrix wide = FloatMatrix.of(new float[] {1, 2, 3, 4}, 1, 4);
             FloatMatrix nan = FloatMatrix.of(new float[] {1, Float.NaN, 0}, 1, 3);
             FloatMatrix zero = FloatMatrix.of(new float[] {1, 0, 0, 0, 0, 0}, 2, 3);
             FloatMatrix three = FloatMatrix.of(new float[] {1, 0, 0, 0, 2, 0, 0, 1, 3}, 3, 3)) {
            s.insert(new float[] {1, 0, 0}, 0.1, 1);
            s.insert(new float[] {0, 1, 0}, -0.2, 2);
            s.insert(new float[] {0, 0, 1}, 0.3, 3);
            rejected(() -> s.query(wide, 1), "features have d=4 columns but 3 are expected");
            rejected(() -> s.query(nan, 1), "features", "NaN");
            rejected(() -> s.query(zero, 1), "features row 1 is the zero vector");
            rejected(() -> s.query(three, -1), "k must be >= 0, got -1");
            List<PatternStore.Prediction> batch = s.query(three, 2);
            assertEquals(3, batch.size());
            float[][] rows = {{1, 0, 0}, {0, 2, 0}, {0, 1, 3}};
            int[] best = {0, 1, 2};
            for (int b = 0; b < 3; b++) {
                PatternStore.Prediction single = s.query(rows[b], 2);
                assertEquals(single.prediction(), batch.get(b).prediction(), 1e-6, "row " + b);
                assertEquals(single.confidence(), batch.get(b).confidence(), 1e-6, "row " + b);
                assertEquals(2, batch.get(b).neighbors().size());
                assertEquals(best[b], batch.get(b).neighbors().getFirst().slot(), "row " + b);
                assertEquals(single.neighbors().get(1).slot(), batch.get(b).neighbors().get(1).slot(), "row " + b);
            }
            List<PatternStore.Prediction> none = s.query(three, 0);
            for (PatternStore.Prediction p : none) {
                assertTrue(p.neighbors().isEmpty());
            }
            assertEquals(batch.get(2).prediction(), none.get(2).prediction(), 1e-6, "k only limits the neighbour list");
        }
    }

    @Test
    void toStringNamesSizeCapacityWidthBetaAndEngine() {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 4), Backends.select("reference"))) {
            s.insert(new float[] {1, 0, 0}, 0.1, 1);
            assertEquals("PatternStore[M=1/4, d=3, beta=" + PatternStore.DEFAULT_BETA + ", engine="
                    + Backends.select("reference").name() + "]", s.toString());
            assertEquals(Backends.select("reference").name(), s.engine().name());
        }
    }
}
