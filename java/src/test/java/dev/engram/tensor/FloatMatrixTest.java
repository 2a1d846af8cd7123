package dev.engram.tensor;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FloatMatrixTest {

    @Test
    void rowMajorLayoutViewsAndSlicesShareMemory() {
        try (FloatMatrix m = FloatMatrix.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 3, 4)) {
            assertEquals(6f, m.get(1, 2));
            assertEquals(4 * (1 * 4 + 2), m.offset(1, 2));
            FloatMatrix rows = m.rows(1, 3);
            assertEquals(2, rows.rows());
            assertArrayEquals(new float[] {4, 5, 6, 7}, rows.row(0));
            FloatMatrix cols = m.columns(1, 3);
            assertFalse(cols.isContiguous());
            assertArrayEquals(new float[] {1, 2, 5, 6, 9, 10}, cols.toArray());
            cols.set(2, 0, 99f);
            assertEquals(99f, m.get(2, 1), "a view writes through to its source");
            FloatMatrix sub = m.rows(1, 3).columns(2, 4);
            assertArrayEquals(new float[] {6, 7, 10, 11}, sub.toArray());
            try (FloatMatrix dense = sub.copy()) {
                assertTrue(dense.isContiguous());
                dense.set(0, 0, -1f);
                assertEquals(6f, m.get(1, 2), "a copy does not write through");
            }
            sub.close(); // closing a view frees nothing
            assertEquals(6f, m.get(1, 2));
        }
    }

    @Test
    void boundsAndShapesAreChecked() {
        try (FloatMatrix m = FloatMatrix.allocate(2, 3)) {
            assertThrows(IndexOutOfBoundsException.class, () -> m.get(2, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> m.get(0, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> m.rows(1, 3));
            assertThrows(IndexOutOfBoundsException.class, () -> m.columns(2, 2));
        }
        assertThrows(IllegalArgumentException.class, () -> FloatMatrix.allocate(-1, 3));
        assertThrows(IllegalArgumentException.class, () -> FloatMatrix.allocate(2, 0));
        var e = assertThrows(IllegalArgumentException.class, () -> FloatMatrix.of(new float[5], 2, 3));
        assertTrue(e.getMessage().contains("5"));
        assertThrows(IllegalArgumentException.class, () -> FloatMatrix.of(new float[][] {{1, 2}, {3}}));
    }

    @Test
    void requireFiniteNamesTheElement() {
        try (FloatMatrix m = FloatMatrix.allocate(3, 3)) {
            m.requireFinite("x");
            m.set(2, 1, Float.NEGATIVE_INFINITY);
            var e = assertThrows(IllegalArgumentException.class, () -> m.requireFinite("patterns"));
            assertTrue(e.getMessage().contains("patterns") && e.getMessage().contains("(2, 1)"), e.getMessage());
        }
    }

    @Test
    void closeFreesAndIsIdempotent() {
        FloatMatrix m = FloatMatrix.allocate(4, 4);
        m.close();
        m.close();
        assertThrows(IllegalStateException.class, () -> m.get(0, 0));
    }
}
