package dev.engram.engine.jcuda;

/**
 * The launch geometry of a retrieval, chosen exactly as libengram's {@code choose_shape} does (cuda/engram.cu), and
 * the partial kernel's dynamic shared memory ({@code shared_plan} in cuda/engram_cuda.cuh). Pure arithmetic, so it
 * is tested without a device.
 *
 * @param threads     threads per block of the partial kernel
 * @param chunk       stored patterns per block (a multiple of 32)
 * @param queryTile   queries per block
 * @param chunks      blocks along the memory: ⌈count/chunk⌉
 * @param queryTiles  blocks along the batch: ⌈B/queryTile⌉
 * @param sharedBytes dynamic shared memory per block of the partial kernel
 */
record LaunchPlan(int threads, int chunk, int queryTile, long chunks, long queryTiles, int sharedBytes) {
    /** Patterns per sub-tile: one per lane (kTile). */
    static final int TILE = 32;
    /** Dot products one thread accumulates per sub-tile (kMaxPairs). */
    static final int MAX_PAIRS = 8;
    /** Columns of X or V staged per pass (kMaxDimTile). */
    static final int MAX_DIM_TILE = 128;
    /** ENGRAM_MAX_BLOCK_THREADS: the partial kernel's __launch_bounds__. */
    static final int MAX_BLOCK_THREADS = 256;
    /** ENGRAM_MAX_K: largest top-k (per-block lists live in shared memory). */
    static final int MAX_K = 256;

    /**
     * Bytes of dynamic shared memory one block of the partial kernel uses: top-k lists, queries, staged X (and V
     * unless the staged X rows are the values), scores, cosines, running state and the output accumulator, each
     * 16-byte aligned.
     */
    static int sharedBytes(int d, int dv, int k, int queryTile, boolean valuesInXs) {
        int dt = Math.min(d, MAX_DIM_TILE);
        int dvt = Math.min(dv, MAX_DIM_TILE);
        long at = 0;
        at = align16(at + (long) queryTile * k * 8);      // top-k indices
        at = align16(at + (long) queryTile * k * 4);      // top-k scores
        at = align16(at + (long) queryTile * 4);          // top-k counts
        at = align16(at + (long) queryTile * d * 4);      // queries
        at = align16(at + (long) queryTile * 4);          // query norms
        at = align16(at + (long) TILE * (dt + 1) * 4);    // staged X
        if (!valuesInXs) {
            at = align16(at + (long) TILE * (dvt + 1) * 4);  // staged V
        }
        at = align16(at + (long) queryTile * TILE * 4);   // scores
        at = align16(at + (long) queryTile * TILE * 4);   // cosines
        at = align16(at + 4L * queryTile * 4);            // m, l, t, rescale
        at = align16(at + (long) queryTile * dv * 4);     // output accumulator
        return (int) Math.min(at, Integer.MAX_VALUE);
    }

    private static long align16(long n) {
        return (n + 15) & ~15L;
    }

    /**
     * The launch for B queries over {@code count} patterns on a device with {@code multiprocessors} SMs and
     * {@code sharedOptin} bytes of opt-in shared memory per block; zeros in {@code asked} let the plan choose.
     *
     * @throws IllegalArgumentException for a shape outside the kernel's limits (naming the field and value)
     * @throws UnsupportedOperationException when the device's shared memory or the grid limits cannot hold it
     */
    static LaunchPlan choose(int d, int dv, int k, long batch, long count, boolean valuesInXs, JCudaLaunch asked,
                             int multiprocessors, long sharedOptin) {
        int threads = asked.blockThreads();
        int chunk = asked.chunk();
        int qtile = asked.queryTile();
        // larger batches get more threads so one query tile covers up to 64 queries (X streamed once per 64)
        if (threads == 0) {
            threads = batch > 16 ? MAX_BLOCK_THREADS : MAX_BLOCK_THREADS / 2;
        }
        if (threads < 32 || threads > MAX_BLOCK_THREADS || threads % 32 != 0) {
            throw new IllegalArgumentException("launch blockThreads must be a multiple of 32 in [32, " + MAX_BLOCK_THREADS
                    + "], got " + threads);
        }
        int maxQtile = MAX_PAIRS * threads / TILE;
        if (qtile == 0) {
            qtile = (int) Math.min(maxQtile, batch);
        }
        if (qtile < 1 || qtile > maxQtile) {
            throw new IllegalArgumentException("launch queryTile must be in [1, blockThreads/4 = " + maxQtile + "], got "
                    + qtile);
        }
        if (chunk == 0) {
            // enough blocks to fill the device several times over, chunks long enough that the partials stay small
            long qtiles = (batch + qtile - 1) / qtile;
            long wanted = Math.max(1, 8L * multiprocessors / qtiles);
            long c = (count + wanted - 1) / wanted;
            c = (c + TILE - 1) / TILE * TILE;
            chunk = (int) Math.min(Math.max(c, 256), 16384);
        }
        if (chunk < TILE || chunk % TILE != 0) {
            throw new IllegalArgumentException("launch chunk must be a positive multiple of " + TILE + ", got " + chunk);
        }
        while (sharedBytes(d, dv, k, qtile, valuesInXs) > sharedOptin) {
            if (asked.queryTile() != 0 || qtile == 1) {
                throw new UnsupportedOperationException("d=" + d + ", dv=" + dv + ", k=" + k + " with queryTile=" + qtile
                        + " need " + sharedBytes(d, dv, k, qtile, valuesInXs) + " bytes of shared memory per block; the"
                        + " device offers " + sharedOptin);
            }
            qtile = Math.max(1, qtile / 2);
        }
        long chunks = (count + chunk - 1) / chunk;
        long qtiles = (batch + qtile - 1) / qtile;
        if (chunks > Integer.MAX_VALUE || qtiles > 65535) {
            throw new UnsupportedOperationException("grid of " + chunks + " chunks × " + qtiles
                    + " query tiles exceeds the CUDA grid limits; use a larger chunk or query tile");
        }
        return new LaunchPlan(threads, chunk, qtile, chunks, qtiles, sharedBytes(d, dv, k, qtile, valuesInXs));
    }
}
