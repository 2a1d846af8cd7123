package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link PatternMemory#wrap} (storage it does not own) and every check of {@link PatternMemory#replace}. */
class PatternMemoryEdgesTest {

    private static void rejected(Executable op, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op);
        assertTrue(e.getMessage().contains(message), "message '" + e.getMessage() + "' should contain '" + message + "'");
    }

    @Test
    void wrapChecksDensityRowsAndFiniteness() {
        try (FloatMatrix x = FloatMatrix.of(new float[] {3, 4, 0, 0, 1, 0}, 2, 3);
             FloatMatrix v = FloatMatrix.of(new float[] {1, 2, 3}, 3, 1);
             FloatMatrix nan = FloatMatrix.of(new float[] {3, Float.NaN, 0, 0, 1, 0}, 2, 3);
             FloatMatrix vnan = FloatMatrix.of(new float[] {1, Float.POSITIVE_INFINITY}, 2, 1);
             FloatMatrix wide = FloatMatrix.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4)) {
            FloatMatrix view = wide.columns(0, 3);
            assertFalse(view.isContiguous());
            rejected(() -> PatternMemory.wrap(view, null), "wrap needs dense matrices (row stride = width)");
            rejected(() -> PatternMemory.wrap(x, wide.columns(0, 1)), "wrap needs dense matrices");
            rejected(() -> PatternMemory.wrap(x, v), "values have 3 rows but patterns have 2");
            rejected(() -> PatternMemory.wrap(nan, null), "patterns");
            rejected(() -> PatternMemory.wrap(x, vnan), "values");
        }
    }

    @Test
    void aWrappedMatrixIsReadInPlaceAndCopiedBeforeTheFirstReplace() {
        try (FloatMatrix x = FloatMatrix.of(new float[] {3, 4, 0, 0, 1, 0}, 2, 3);
             FloatMatrix v = FloatMatrix.of(new float[] {10, 20}, 2, 1);
             PatternMemory selfValued = PatternMemory.wrap(x, null);
             PatternMemory m = PatternMemory.wrap(x, v)) {
            assertTrue(selfValued.valuesArePatterns());
            assertEquals(3, selfValued.valueDim());
            assertEquals("PatternMemory[M=2, d=3, V=X]", selfValued.toString());
            assertFalse(m.valuesArePatterns());
            assertEquals(1, m.valueDim());
            assertEquals("PatternMemory[M=2, d=3, dv=1]", m.toString());
            assertEquals(2, m.size());
            assertEquals(5f, m.norms().get(0, 0), 0, "‖(3, 4, 0)‖ computed on wrap");
            assertEquals(1f, m.norms().get(1, 0), 0);

            m.replace(1, new float[] {0, 0, 2}, new float[] {30});
            assertArrayEquals(new float[] {0, 1, 0}, x.row(1), "the wrapped matrix is not written");
            assertEquals(20f, v.get(1, 0), 0);
            assertArrayEquals(new float[] {0, 0, 2}, m.patterns().row(1));
            assertArrayEquals(new float[] {3, 4, 0}, m.patterns().row(0), "the copy keeps the other rows");
            assertEquals(30f, m.values().get(1, 0), 0);
            assertEquals(10f, m.values().get(0, 0), 0);
            assertEquals(2f, m.norms().get(1, 0), 0);
            assertEquals(2, m.size());
        }
    }

    @Test
    void replaceNamesWhatIsWrong() {
        try (FloatMatrix x = FloatMatrix.of(new float[] {1, 0, 0, 0, 1, 0}, 2, 3);
             FloatMatrix v = FloatMatrix.of(new float[] {1, 2, 3, 4}, 2, 2);
             PatternMemory valued = PatternMemory.of(x, v);
             PatternMemory self = PatternMemory.of(x)) {
            rejected(() -> valued.replace(0, null, new float[2]), "pattern must have d=3 values, got null");
            rejected(() -> valued.replace(0, new float[2], new float[2]), "pattern must have d=3 values, got 2");
            rejected(() -> valued.replace(0, new float[] {1, 0, 0}, null), "value must have dv=2 values, got null");
            rejected(() -> valued.replace(0, new float[] {1, 0, 0}, new float[] {0, Float.NaN}), "value");
            rejected(() -> self.replace(0, new float[] {1, 0, 0}, new float[3]),
                    "this memory's values are its patterns (V = X); pass value = null");
            IndexOutOfBoundsException e = assertThrows(IndexOutOfBoundsException.class,
                    () -> valued.replace(-1, new float[3], new float[2]));
            assertEquals("row -1 outside 0..2", e.getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> valued.replace(2, new float[3], new float[2]));
            assertEquals(0, valued.rewrites(), "no rejected call counts as a rewrite");
            assertArrayEquals(new float[] {1, 2}, valued.values().row(0));
            self.replace(1, new float[] {0, 0, 4}, null);
            assertArrayEquals(new float[] {0, 0, 4}, self.patterns().row(1));
            assertEquals(1, self.rewrites());
        }
    }
}
