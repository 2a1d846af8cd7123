package dev.engram.tensor;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/** Seeded random matrices for tests, benchmarks and demos; the same seed gives the same matrix on any thread count. */
public final class RandomMatrices {
    private static final int BLOCK_ROWS = 4096;

    private RandomMatrices() {
    }

    /** Entries uniform in [−1, 1). Rows are filled in parallel blocks, each from its own split of the seed. */
    public static FloatMatrix uniform(long rows, int cols, long seed) {
        return fill(rows, cols, seed, false);
    }

    /** Entries standard normal. */
    public static FloatMatrix gaussian(long rows, int cols, long seed) {
        return fill(rows, cols, seed, true);
    }

    private static FloatMatrix fill(long rows, int cols, long seed, boolean gaussian) {
        FloatMatrix m = FloatMatrix.allocate(rows, cols);
        MemorySegment seg = m.segment();
        int blocks = (int) ((rows + BLOCK_ROWS - 1) / BLOCK_ROWS);
        IntStream.range(0, blocks).parallel().forEach(blk -> {
            SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + blk);
            long start = (long) blk * BLOCK_ROWS * cols;
            long end = Math.min(rows, (long) (blk + 1) * BLOCK_ROWS) * cols;
            for (long i = start; i < end; i++) {
                float v = gaussian ? (float) RandomSampling.gaussian(rnd) : (float) (rnd.nextDouble() * 2 - 1);
                seg.setAtIndex(FloatMatrix.FLOAT, i, v);
            }
        });
        return m;
    }
}
