package dev.engram.engine.cpu;

import dev.engram.engine.PatternMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A bfloat16 copy of a memory's patterns (half the bytes to stream) with the norms of the rounded patterns, for the
 * CPU engine's {@link CpuBackend.Storage#BF16} mode. bfloat16 keeps float32's exponent and 8 bits of mantissa
 * (relative rounding error ≤ 2⁻⁹); widening back to float32 is a 16-bit shift, so the dot products and all sums stay
 * float32. Built from a {@link PatternMemory} of a given size and rewrite count; rebuilt when either changes.
 */
final class Bf16Patterns {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    final MemorySegment patterns;
    final MemorySegment norms;
    final long size;
    final long rewrites;

    private Bf16Patterns(MemorySegment patterns, MemorySegment norms, long size, long rewrites) {
        this.patterns = patterns;
        this.norms = norms;
        this.size = size;
        this.rewrites = rewrites;
    }

    boolean matches(PatternMemory memory) {
        return size == memory.size() && rewrites == memory.rewrites();
    }

    /** Rounds every stored pattern to bfloat16 (nearest, ties to even) and computes the rounded norms. */
    static Bf16Patterns of(PatternMemory memory) {
        long m = memory.size();
        int d = memory.dim();
        Arena arena = Arena.ofAuto();
        MemorySegment x = arena.allocate(Math.max(1, m * d) * Short.BYTES, 64);
        MemorySegment n = arena.allocate(Math.max(1, m) * Float.BYTES, 64);
        MemorySegment src = memory.patterns().segment();
        for (long i = 0; i < m; i++) {
            double sq = 0;
            for (int j = 0; j < d; j++) {
                long at = i * d + j;
                float v = src.getAtIndex(FLOAT, at);
                short h = round(v, i, j);
                x.setAtIndex(SHORT, at, h);
                float r = widen(h);
                sq += (double) r * r;
            }
            n.setAtIndex(FLOAT, i, (float) Math.sqrt(sq));
        }
        return new Bf16Patterns(x, n, m, memory.rewrites());
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
