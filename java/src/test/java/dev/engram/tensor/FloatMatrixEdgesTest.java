package dev.engram.tensor;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** FloatMatrix at the edges of every range: first and last valid index, one past, empty views, strided copies. */
class FloatMatrixEdgesTest {

    private static float[] iota(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = i + 1;
        }
        return v;
    }

    @Test
    void constructorsPlaceEveryElement() {
        try (FloatMatrix a = FloatMatrix.of(iota(12), 3, 4);
             FloatMatrix b = FloatMatrix.of(new float[][] {{1, 2}, {3, 4}, {5, 6}})) {
            for (int r = 0; r < 3; r++) {
                for (int c = 0; c < 4; c++) {
                    assertEquals(r * 4 + c + 1, a.get(r, c));
                }
                for (int c = 0; c < 2; c++) {
                    assertEquals(r * 2 + c + 1, b.get(r, c));
                }
            }
        }
        var ragged = assertThrows(IllegalArgumentException.class, () -> FloatMatrix.of(new float[][] {{1, 2}, {3, 4}, {5}}));
        assertEquals("row 2 has 1 columns, row 0 has 2", ragged.getMessage());
        var count = assertThrows(IllegalArgumentException.class, () -> FloatMatrix.of(iota(11), 3, 4));
        assertEquals("data has 11 floats, expected rows×cols = 3×4 = 12", count.getMessage());
        assertEquals("data has no rows", assertThrows(IllegalArgumentException.class,
                () -> FloatMatrix.of(new float[0][])).getMessage());
    }

    @Test
    void shapesAreCheckedAtTheirLimits() {
        try (FloatMatrix empty = FloatMatrix.allocate(0, 3); FloatMatrix one = FloatMatrix.allocate(1, 1)) {
            assertEquals(0, empty.rows());
            assertEquals(0, empty.toArray().length);
            assertEquals(1, one.cols());
        }
        assertEquals("rows must be >= 0, got -1",
                assertThrows(IllegalArgumentException.class, () -> FloatMatrix.allocate(-1, 3)).getMessage());
        assertEquals("cols must be >= 1, got 0",
                assertThrows(IllegalArgumentException.class, () -> FloatMatrix.allocate(2, 0)).getMessage());
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(60);
            long largest = Long.MAX_VALUE / Float.BYTES / 2;
            // the largest legal shape passes the shape check and fails on the segment size; one row more is too large
            var small = assertThrows(IllegalArgumentException.class, () -> FloatMatrix.wrap(seg, largest, 2));
            assertTrue(small.getMessage().startsWith("segment of 60 bytes is too small"), small.getMessage());
            var large = assertThrows(IllegalArgumentException.class, () -> FloatMatrix.wrap(seg, largest + 1, 2));
            assertEquals("shape " + (largest + 1) + "×2 is too large", large.getMessage());
            // exactly enough bytes: 3×5 floats = 60
            seg.setAtIndex(FloatMatrix.FLOAT, 14, 7f);
            FloatMatrix w = FloatMatrix.wrap(seg, 3, 5);
            assertEquals(7f, w.get(2, 4));
            var shortBy4 = assertThrows(IllegalArgumentException.class, () -> FloatMatrix.wrap(seg.asSlice(0, 56), 3, 5));
            assertEquals("segment of 56 bytes is too small for a 3×5 float32 matrix (60 bytes)", shortBy4.getMessage());
        }
    }

    @Test
    void indicesAreCheckedOnEverySide() {
        try (FloatMatrix m = FloatMatrix.of(iota(6), 2, 3)) {
            assertEquals(6f, m.get(1, 2));
            m.set(1, 2, -6f);
            assertEquals(-6f, m.get(1, 2));
            long[][] outside = {{2, 0}, {0, 3}, {-1, 0}, {0, -1}};
            for (long[] rc : outside) {
                var e = assertThrows(IndexOutOfBoundsException.class, () -> m.get(rc[0], (int) rc[1]));
                assertEquals("(" + rc[0] + ", " + rc[1] + ") outside a 2×3 matrix", e.getMessage());
                assertThrows(IndexOutOfBoundsException.class, () -> m.set(rc[0], (int) rc[1], 0f));
            }
            assertThrows(IndexOutOfBoundsException.class, () -> m.copyRow(2, new float[3], 0));
            assertThrows(IndexOutOfBoundsException.class, () -> m.row(-1));
            assertArrayEquals(new float[] {4, 5, -6}, m.row(1));
        }
    }

    @Test
    void rowAndColumnViewsAtTheirLimits() {
        try (FloatMatrix m = FloatMatrix.of(iota(12), 4, 3)) {
            FloatMatrix none = m.rows(4, 4);
            assertEquals(0, none.rows());
            assertEquals(0, m.rows(0, 0).toArray().length);
            FloatMatrix last = m.rows(3, 4);
            assertArrayEquals(new float[] {10, 11, 12}, last.toArray());
            assertEquals("row range [3, 5) outside 0..4",
                    assertThrows(IndexOutOfBoundsException.class, () -> m.rows(3, 5)).getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> m.rows(-1, 2));
            assertThrows(IndexOutOfBoundsException.class, () -> m.rows(3, 2));

            FloatMatrix col = m.columns(2, 3);
            assertEquals(3, col.rowStride());
            assertFalse(col.isContiguous());
            assertTrue(col.rows(1, 2).isContiguous(), "a single row is contiguous whatever its stride");
            assertTrue(col.rows(1, 1).isContiguous(), "no rows are contiguous");
            assertArrayEquals(new float[] {3, 6, 9, 12}, col.toArray());
            assertEquals("FloatMatrix[4×1, stride 3]", col.toString());
            assertEquals("FloatMatrix[4×3]", m.toString());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, m.columns(0, 3).toArray());
            assertEquals("column range [1, 1) outside 0..3",
                    assertThrows(IndexOutOfBoundsException.class, () -> m.columns(1, 1)).getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> m.columns(2, 4));
            assertThrows(IndexOutOfBoundsException.class, () -> m.columns(-1, 1));
            try (FloatMatrix empty = FloatMatrix.allocate(0, 3)) {
                assertEquals(0, empty.columns(1, 2).toArray().length);
            }
        }
    }

    @Test
    void copyIntoPlacesRowsAtTheTargetRowOnBothPaths() {
        try (FloatMatrix src = FloatMatrix.of(iota(6), 2, 3); FloatMatrix dst = FloatMatrix.allocate(4, 3)) {
            src.copyInto(dst, 2); // dense → dense, ending at the last row
            assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6}, dst.toArray());
            try (FloatMatrix wide = FloatMatrix.of(iota(12), 2, 6)) {
                wide.columns(3, 6).copyInto(dst, 1); // strided → dense
                assertArrayEquals(new float[] {0, 0, 0, 4, 5, 6, 10, 11, 12, 4, 5, 6}, dst.toArray());
                src.copyInto(wide.columns(0, 3), 0); // dense → strided
                assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6, 4, 5, 6, 10, 11, 12}, wide.toArray());
                try (FloatMatrix copy = wide.columns(1, 4).copy()) {
                    assertArrayEquals(new float[] {2, 3, 4, 5, 6, 10}, copy.toArray());
                }
            }
            assertEquals("rows [3, 5) outside 0..4",
                    assertThrows(IndexOutOfBoundsException.class, () -> src.copyInto(dst, 3)).getMessage());
            assertThrows(IndexOutOfBoundsException.class, () -> src.copyInto(dst, -1));
            try (FloatMatrix narrow = FloatMatrix.allocate(4, 2)) {
                assertEquals("column mismatch: copying 3 columns into 2",
                        assertThrows(IllegalArgumentException.class, () -> src.copyInto(narrow, 0)).getMessage());
            }
        }
    }

    @Test
    void aMatrixTooLargeForAJavaArrayIsRefusedBeforeAnyCopy() {
        long rows = Integer.MAX_VALUE - 7; // one element more than toArray allows, 1 column
        FloatMatrix huge = FloatMatrix.wrap(MemorySegment.NULL.reinterpret(rows * Float.BYTES), rows, 1);
        var e = assertThrows(IllegalStateException.class, huge::toArray);
        assertEquals("a " + rows + "×1 matrix does not fit in a Java array", e.getMessage());
    }
}
