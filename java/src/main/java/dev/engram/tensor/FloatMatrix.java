package dev.engram.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * A float32 row-major matrix of {@code rows × cols} held off-heap in a {@link MemorySegment}, so the same bytes can
 * be handed to native code (FFM) without a copy.
 *
 * <p>Element {@code (r, c)} lives at byte offset {@code (r·rowStride + c)·4} of the segment. A matrix made by
 * {@link #allocate} owns its memory and frees it on {@link #close()}; views ({@link #rows(long, long)},
 * {@link #columns(int, int)}) and wrapped segments share the memory of their source and close nothing.
 *
 * <p>Not thread-safe for writes; concurrent reads are fine.
 */
public final class FloatMatrix implements AutoCloseable {
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final MemorySegment segment;
    private final long rows;
    private final int cols;
    private final long rowStride;
    private final Arena owner;

    private FloatMatrix(MemorySegment segment, long rows, int cols, long rowStride, Arena owner) {
        this.segment = segment;
        this.rows = rows;
        this.cols = cols;
        this.rowStride = rowStride;
        this.owner = owner;
    }

    /** Allocates a zero-filled {@code rows × cols} matrix that owns its off-heap memory (64-byte aligned). */
    public static FloatMatrix allocate(long rows, int cols) {
        checkShape(rows, cols);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg = arena.allocate(Math.max(1, rows * cols) * Float.BYTES, 64);
            return new FloatMatrix(seg, rows, cols, cols, arena);
        } catch (OutOfMemoryError | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    /** Wraps {@code rows × cols} row-major floats in {@code segment} (no copy; the caller keeps ownership). */
    public static FloatMatrix wrap(MemorySegment segment, long rows, int cols) {
        checkShape(rows, cols);
        long need = rows * cols * (long) Float.BYTES;
        if (segment.byteSize() < need) {
            throw new IllegalArgumentException("segment of " + segment.byteSize() + " bytes is too small for a "
                    + rows + "×" + cols + " float32 matrix (" + need + " bytes)");
        }
        return new FloatMatrix(segment, rows, cols, cols, null);
    }

    /** Copies a row-major array of {@code rows·cols} floats into a new off-heap matrix. */
    public static FloatMatrix of(float[] data, long rows, int cols) {
        Objects.requireNonNull(data, "data");
        if ((long) data.length != rows * cols) {
            throw new IllegalArgumentException("data has " + data.length + " floats, expected rows×cols = "
                    + rows + "×" + cols + " = " + rows * cols);
        }
        FloatMatrix m = allocate(rows, cols);
        MemorySegment.copy(data, 0, m.segment, FLOAT, 0, data.length);
        return m;
    }

    /** Copies a rectangular array of rows into a new off-heap matrix. */
    public static FloatMatrix of(float[][] data) {
        Objects.requireNonNull(data, "data");
        if (data.length == 0) {
            throw new IllegalArgumentException("data has no rows");
        }
        int cols = data[0].length;
        FloatMatrix m = allocate(data.length, cols);
        for (int r = 0; r < data.length; r++) {
            if (data[r].length != cols) {
                m.close();
                throw new IllegalArgumentException("row " + r + " has " + data[r].length + " columns, row 0 has " + cols);
            }
            MemorySegment.copy(data[r], 0, m.segment, FLOAT, (long) r * cols * Float.BYTES, cols);
        }
        return m;
    }

    private static void checkShape(long rows, int cols) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be >= 0, got " + rows);
        }
        if (cols < 1) {
            throw new IllegalArgumentException("cols must be >= 1, got " + cols);
        }
        if (rows > Long.MAX_VALUE / Float.BYTES / cols) {
            throw new IllegalArgumentException("shape " + rows + "×" + cols + " is too large");
        }
    }

    public long rows() {
        return rows;
    }

    public int cols() {
        return cols;
    }

    /** Distance in floats between the starts of consecutive rows ({@code cols} unless this is a column view). */
    public long rowStride() {
        return rowStride;
    }

    /** True when rows follow each other without gaps, so the matrix is one dense block of {@code rows·cols} floats. */
    public boolean isContiguous() {
        return rowStride == cols || rows <= 1;
    }

    /** The backing segment; element (r, c) is at byte {@link #offset(long, int)}. */
    public MemorySegment segment() {
        return segment;
    }

    /** Byte offset of element (r, c) in {@link #segment()}. */
    public long offset(long r, int c) {
        return (r * rowStride + c) * Float.BYTES;
    }

    public float get(long r, int c) {
        checkIndex(r, c);
        return segment.get(FLOAT, offset(r, c));
    }

    public void set(long r, int c, float value) {
        checkIndex(r, c);
        segment.set(FLOAT, offset(r, c), value);
    }

    private void checkIndex(long r, int c) {
        if (r < 0 || r >= rows || c < 0 || c >= cols) {
            throw new IndexOutOfBoundsException("(" + r + ", " + c + ") outside a " + rows + "×" + cols + " matrix");
        }
    }

    /** A view of rows {@code [from, to)} sharing this matrix's memory. */
    public FloatMatrix rows(long from, long to) {
        if (from < 0 || to > rows || from > to) {
            throw new IndexOutOfBoundsException("row range [" + from + ", " + to + ") outside 0.." + rows);
        }
        long n = to - from;
        long start = from * rowStride * Float.BYTES;
        long len = n == 0 ? 0 : ((n - 1) * rowStride + cols) * Float.BYTES;
        return new FloatMatrix(segment.asSlice(start, len), n, cols, rowStride, null);
    }

    /** A view of columns {@code [from, to)} sharing this matrix's memory (rows keep this matrix's stride). */
    public FloatMatrix columns(int from, int to) {
        if (from < 0 || to > cols || from >= to) {
            throw new IndexOutOfBoundsException("column range [" + from + ", " + to + ") outside 0.." + cols);
        }
        int n = to - from;
        long len = rows == 0 ? 0 : ((rows - 1) * rowStride + n) * Float.BYTES;
        return new FloatMatrix(segment.asSlice((long) from * Float.BYTES, len), rows, n, rowStride, null);
    }

    /** Copies row {@code r} into {@code dst[dstOffset ..]}. */
    public void copyRow(long r, float[] dst, int dstOffset) {
        checkIndex(r, 0);
        MemorySegment.copy(segment, FLOAT, offset(r, 0), dst, dstOffset, cols);
    }

    /** Row {@code r} as a new array. */
    public float[] row(long r) {
        float[] out = new float[cols];
        copyRow(r, out, 0);
        return out;
    }

    /** All elements, row-major, as a new array (at most {@code Integer.MAX_VALUE - 8} of them). */
    public float[] toArray() {
        long n = rows * cols;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("a " + rows + "×" + cols + " matrix does not fit in a Java array");
        }
        float[] out = new float[(int) n];
        for (long r = 0; r < rows; r++) {
            MemorySegment.copy(segment, FLOAT, offset(r, 0), out, (int) (r * cols), cols);
        }
        return out;
    }

    /** A dense, owning copy of this matrix (or view). */
    public FloatMatrix copy() {
        FloatMatrix m = allocate(rows, cols);
        copyInto(m, 0);
        return m;
    }

    /** Copies all rows of this matrix into {@code dst} starting at row {@code dstRow}; column counts must match. */
    public void copyInto(FloatMatrix dst, long dstRow) {
        if (dst.cols != cols) {
            throw new IllegalArgumentException("column mismatch: copying " + cols + " columns into " + dst.cols);
        }
        if (dstRow < 0 || dstRow + rows > dst.rows) {
            throw new IndexOutOfBoundsException("rows [" + dstRow + ", " + (dstRow + rows) + ") outside 0.." + dst.rows);
        }
        if (isContiguous() && dst.isContiguous()) {
            MemorySegment.copy(segment, 0, dst.segment, dst.offset(dstRow, 0), rows * cols * Float.BYTES);
            return;
        }
        for (long r = 0; r < rows; r++) {
            MemorySegment.copy(segment, offset(r, 0), dst.segment, dst.offset(dstRow + r, 0), (long) cols * Float.BYTES);
        }
    }

    /**
     * Throws if any element is NaN or infinite, naming {@code what} and the first bad element.
     *
     * @param what how the caller calls this matrix in messages, e.g. "queries"
     */
    public void requireFinite(String what) {
        for (long r = 0; r < rows; r++) {
            long base = offset(r, 0);
            for (int c = 0; c < cols; c++) {
                float v = segment.get(FLOAT, base + (long) c * Float.BYTES);
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException(what + " must be finite, but element (" + r + ", " + c + ") is " + v);
                }
            }
        }
    }

    /** Frees the memory if this matrix owns it; views and wrapped segments are left alone. Idempotent. */
    @Override
    public void close() {
        if (owner != null && owner.scope().isAlive()) {
            owner.close();
        }
    }

    @Override
    public String toString() {
        return "FloatMatrix[" + rows + "×" + cols + (isContiguous() ? "" : ", stride " + rowStride) + "]";
    }
}
