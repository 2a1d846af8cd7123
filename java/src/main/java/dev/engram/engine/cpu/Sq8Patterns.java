package dev.engram.engine.cpu;

import dev.engram.engine.PatternMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An 8-bit scalar-quantised copy of a memory's patterns (SQ8, as FAISS's {@code ScalarQuantizer QT_8bit}: one byte
 * per element, a quarter of float32's bytes to stream) for the CPU engine's {@link CpuBackend.Storage#SQ8} mode.
 *
 * <p>Per dimension j the stored range [lo_j, hi_j] (the smallest and largest value of column j) is cut into 255
 * steps of {@code scale_j = (hi_j − lo_j) / 255}; element x is stored as the signed byte
 * {@code c = round((x − lo_j) / scale_j) − 128} and read back as {@code x̃ = offset_j + scale_j·c} with
 * {@code offset_j = lo_j + 128·scale_j}, so {@code |x̃ − x| ≤ scale_j / 2}. Dot products with a query run in float32
 * on the codes: {@code q·x̃ = Σ_j q_j·offset_j + Σ_j (q_j·scale_j)·c_j}.
 *
 * <p>Kept current by {@link #syncWith} as {@link Bf16Patterns} is: appended and replaced rows are encoded one by
 * one; a row with a value outside the current range (or a change log that no longer reaches back) re-derives the
 * ranges from every row and encodes them all again. Not thread-safe: the owner serialises {@code syncWith}, and
 * retrievals read {@link #codes} and the per-dimension arrays after it returns.
 */
final class Sq8Patterns {
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;
    /** Bytes past the last row, so that a vector load of up to 64 bytes never leaves the segment. */
    static final int PAD = 64;

    private final int dim;
    /** capacity × d signed codes (+ {@link #PAD}); rows [0, size) are valid. */
    MemorySegment codes;
    final float[] lo;
    final float[] hi;
    final float[] scale;
    final float[] offset;
    /** max(|lo_j|, |hi_j|): bounds |x_j| over the stored rows (for the rounding slack of the score bound). */
    final float[] maxAbs;
    private long size;
    private long capacity;
    private long versionSeen = -1;
    private long rowsEncoded;
    private long rebuilds;

    Sq8Patterns(int dim) {
        this.dim = dim;
        lo = new float[dim];
        hi = new float[dim];
        scale = new float[dim];
        offset = new float[dim];
        maxAbs = new float[dim];
    }

    long rowsEncoded() {
        return rowsEncoded;
    }

    /** Times the ranges were derived again from every row (the first encoding included). */
    long rebuilds() {
        return rebuilds;
    }

    /** Brings the copy up to date with {@code memory}. */
    void syncWith(PatternMemory memory) {
        if (versionSeen == memory.version()) {
            return;
        }
        MemorySegment src = memory.patterns().segment();
        long want = memory.size();
        boolean rebuild = size == 0;
        if (!rebuild) {
            PatternMemory.ReplacedRows changed = memory.replacedSince(versionSeen);
            if (!changed.complete() || want < size) {
                rebuild = true;
            } else {
                for (long row : changed.rows()) {
                    if (row < size && !inRange(src, row)) {
                        rebuild = true;
                        break;
                    }
                }
                for (long row = size; row < want && !rebuild; row++) {
                    if (!inRange(src, row)) {
                        rebuild = true;
                    }
                }
                if (!rebuild) {
                    for (long row : changed.rows()) {
                        if (row < size) {
                            encode(src, row, row + 1);
                        }
                    }
                }
            }
        }
        ensureCapacity(want);
        if (rebuild) {
            ranges(src, want);
            encode(src, 0, want);
            rebuilds++;
        } else if (want > size) {
            encode(src, size, want);
        }
        size = want;
        versionSeen = memory.version();
    }

    private boolean inRange(MemorySegment src, long row) {
        for (int j = 0; j < dim; j++) {
            float v = src.getAtIndex(FLOAT, row * dim + j);
            if (!(v >= lo[j] && v <= hi[j])) {
                return false;
            }
        }
        return true;
    }

    /** The per-dimension ranges, scales and offsets of rows [0, rows) of src. */
    private void ranges(MemorySegment src, long rows) {
        java.util.Arrays.fill(lo, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(hi, Float.NEGATIVE_INFINITY);
        for (long i = 0; i < rows; i++) {
            for (int j = 0; j < dim; j++) {
                float v = src.getAtIndex(FLOAT, i * dim + j);
                if (!Float.isFinite(v)) {
                    throw new IllegalArgumentException("pattern (" + i + ", " + j + ") = " + v
                            + " is not finite; SQ8 storage needs finite patterns");
                }
                lo[j] = Math.min(lo[j], v);
                hi[j] = Math.max(hi[j], v);
            }
        }
        if (rows == 0) {
            java.util.Arrays.fill(lo, 0);
            java.util.Arrays.fill(hi, 0);
        }
        derive();
    }

    /** scale, offset and maxAbs from lo and hi. */
    private void derive() {
        for (int j = 0; j < dim; j++) {
            double s = ((double) hi[j] - lo[j]) / 255;
            scale[j] = (float) s;
            offset[j] = (float) (lo[j] + 128 * (double) scale[j]);
            maxAbs[j] = Math.max(Math.abs(lo[j]), Math.abs(hi[j]));
        }
    }

    /**
     * A fixed SQ8 copy over codes held elsewhere (a mapped file, {@link MappedSq8Memory}) with the given ranges;
     * {@code codes} must hold rows × d codes and {@link #PAD} bytes after them. Never synced.
     */
    static Sq8Patterns fixed(int dim, float[] lo, float[] hi, MemorySegment codes) {
        Sq8Patterns p = new Sq8Patterns(dim);
        System.arraycopy(lo, 0, p.lo, 0, dim);
        System.arraycopy(hi, 0, p.hi, 0, dim);
        p.derive();
        p.codes = codes;
        return p;
    }

    private void ensureCapacity(long need) {
        if (need <= capacity && codes != null) {
            return;
        }
        long cap = Math.max(need, Math.max(16, capacity * 2));
        MemorySegment c = Arena.ofAuto().allocate(cap * dim + PAD, 64);
        if (size > 0) {
            MemorySegment.copy(codes, 0, c, 0, size * dim);
        }
        codes = c;
        capacity = cap;
    }

    /** Encodes rows [from, to) of src. */
    private void encode(MemorySegment src, long from, long to) {
        for (long i = from; i < to; i++) {
            for (int j = 0; j < dim; j++) {
                codes.set(ValueLayout.JAVA_BYTE, i * dim + j, code(src.getAtIndex(FLOAT, i * dim + j), j));
            }
        }
        rowsEncoded += to - from;
    }

    /** The code of value v in dimension j: round((v − lo) / scale) − 128, clamped to the byte. */
    byte code(float v, int j) {
        if (scale[j] == 0) {
            return -128;
        }
        long c = Math.round(((double) v - lo[j]) / scale[j]);
        return (byte) (Math.max(0, Math.min(255, c)) - 128);
    }

    /** The value code c of dimension j stands for. */
    float decode(byte c, int j) {
        return offset[j] + scale[j] * c;
    }

    /**
     * The bound ε on |q·x̃ − q·x| for every stored x, as the engine computes both in float32: the quantisation
     * error Σ_j |q_j|·scale_j/2, plus a slack for float32 rounding in either dot product and in the folded
     * offsets, (4d + 32)·2⁻²⁴·Σ_j |q_j|·max|x_j| (a generous multiple of the textbook d·u bound for a sum of d
     * products). Computed in double and rounded up.
     */
    double scoreErrorBound(float[] q, int qOff) {
        double quant = 0;
        double mag = 0;
        for (int j = 0; j < dim; j++) {
            double a = Math.abs(q[qOff + j]);
            quant += a * scale[j] / 2;
            mag += a * maxAbs[j];
        }
        double bound = quant * (1 + 0x1p-20) + (4.0 * dim + 32) * 0x1p-24 * mag;
        return Math.nextUp(bound);
    }
}
