package dev.engram.engine.cpu;

import dev.engram.engine.PatternMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A bfloat16 copy of a memory's patterns (half the bytes to stream) with the norms of the rounded patterns, for the
 * CPU engine's {@link CpuBackend.Storage#BF16} mode. bfloat16 keeps float32's exponent and 8 bits of mantissa
 * (relative rounding error ≤ 2⁻⁹); widening back to float32 is a 16-bit shift, so the dot products and all sums stay
 * float32.
 *
 * <p>Kept current by {@link #syncWith}: rows appended to the memory are converted and added (storage grows by
 * doubling, so an append-only memory reallocates O(log M) times), rows replaced in place are converted again one by
 * one ({@link PatternMemory#replacedSince}); every row is converted again only when the memory's change log no longer
 * reaches back to the last sync. Not thread-safe: the owner serialises {@code syncWith}, and retrievals read
 * {@link #patterns} and {@link #norms} after it returns (rows {@code [0, size)} are valid; the segments may be
 * longer).
 */
final class Bf16Patterns {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final int dim;
    /** capacity × d bfloat16 values; rows [0, size) hold the memory's patterns rounded. */
    MemorySegment patterns;
    /** capacity floats: ‖rounded x_i‖ for rows [0, size). */
    MemorySegment norms;
    private long size;
    private long capacity;
    /** The {@link PatternMemory#version()} last caught up with; -1 before the first sync. */
    private long versionSeen = -1;
    /** Rows converted so far (appended or replaced), for tests that check only changed rows are redone. */
    private long rowsConverted;

    Bf16Patterns(int dim) {
        this.dim = dim;
    }

    /** Rows converted since this copy was made. */
    long rowsConverted() {
        return rowsConverted;
    }

    /** Brings the copy up to date with {@code memory}: replaced rows converted again, appended rows added. */
    void syncWith(PatternMemory memory) {
        if (versionSeen == memory.version()) {
            return;
        }
        MemorySegment src = memory.patterns().segment();
        if (size > 0) {
            PatternMemory.ReplacedRows changed = memory.replacedSince(versionSeen);
            if (!changed.complete()) {
                convert(src, 0, size);
            } else {
                for (long row : changed.rows()) {
                    if (row < size) {  // rows past `size` are converted with the appended ones below
                        convert(src, row, row + 1);
                    }
                }
            }
        }
        long want = memory.size();
        if (want > size) {
            ensureCapacity(want);
            convert(src, size, want);
            size = want;
        }
        versionSeen = memory.version();
    }

    private void ensureCapacity(long need) {
        if (need <= capacity) {
            return;
        }
        long cap = Math.max(need, Math.max(16, capacity * 2));
        // one automatic arena per growth (O(log M) of them), not per update; the old copy is freed by the GC
        Arena arena = Arena.ofAuto();
        MemorySegment x = arena.allocate(cap * dim * Short.BYTES, 64);
        MemorySegment n = arena.allocate(cap * Float.BYTES, 64);
        if (size > 0) {
            MemorySegment.copy(patterns, 0, x, 0, size * dim * Short.BYTES);
            MemorySegment.copy(norms, 0, n, 0, size * Float.BYTES);
        }
        patterns = x;
        norms = n;
        capacity = cap;
    }

    /** Rounds patterns [from, to) of src (float32, row-major, width d) into this copy and computes their norms. */
    private void convert(MemorySegment src, long from, long to) {
        int d = dim;
        for (long i = from; i < to; i++) {
            double sq = 0;
            for (int j = 0; j < d; j++) {
                long at = i * d + j;
                short h = round(src.getAtIndex(FLOAT, at), i, j);
                patterns.setAtIndex(SHORT, at, h);
                float r = widen(h);
                sq += (double) r * r;
            }
            norms.setAtIndex(FLOAT, i, (float) Math.sqrt(sq));
        }
        rowsConverted += to - from;
    }

    /** float32 → bfloat16, round to nearest even; a finite value too large for bfloat16 is an error. */
    static short round(float v, long row, int col) {
        int bits = Float.floatToRawIntBits(v);
        bits += 0x7FFF + ((bits >>> 16) & 1);
        short h = (short) (bits >>> 16);
        if (!Float.isFinite(widen(h))) {
            throw new IllegalArgumentException("pattern (" + row + ", " + col + ") = " + v
                    + " is too large for bfloat16 storage; use float32 storage");
        }
        return h;
    }

    static float widen(short h) {
        return Float.intBitsToFloat(h << 16);
    }
}
