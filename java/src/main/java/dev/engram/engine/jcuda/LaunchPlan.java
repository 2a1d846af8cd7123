package dev.engram.engine.jcuda;

/**
 * The launch geometry of a retrieval, chosen exactly as libengram's {@code choose_shape} and {@code choose_shape_v2}
 * do (cuda/engram.cu), and the partial kernel's dynamic shared memory ({@code shared_plan} in cuda/engram_cuda.cuh,
 * {@code retrieve_v2_shared_bytes} in cuda/retrieve_partial_v2.cu). Pure arithmetic, so it is tested without a device.
 *
 * @param threads     threads per block of the partial kernel
 * @param chunk       stored patterns per block (a multiple of 32; of 128 for version 2)
 * @param queryTile   queries per block (16 for version 2)
 * @param chunks      blocks along the memory: ⌈count/chunk⌉
 * @param queryTiles  blocks along the batch: ⌈B/queryTile⌉
 * @param sharedBytes dynamic shared memory per block of the partial kernel
 * @param version     the pass-1 kernel: 1 (cuda/retrieve_partial.cu) or 2 (cuda/retrieve_partial_v2.cu)
 */
record LaunchPlan(int threads, int chunk, int queryTile, long chunks, long queryTiles, int sharedBytes, int version) {
    /**
     * Whether kernel 0 (automatic) runs version 2 where it serves the shape: libengram's ENGRAM_RETRIEVE_V2_AUTO
     * (cuda/engram.cu), on since version 2 passed validation and compute-sanitizer on an H200.
     */
    static final boolean V2_AUTO = true;
    /** Queries per block of version 2 (kRows). */
    static final int V2_QUERY_TILE = 16;
    /** Version 2's chunk is a multiple of this (kWarps·kSP). */
    static final int V2_CHUNK_MULTIPLE = 128;
    /** Most chunks version 2 takes (grid.y). */
    static final long V2_MAX_CHUNKS = 65535;

    /** Partials pass 1 writes per query: one per chunk (version 1) or per chunk and warp (version 2). */
    long partials() {
        return version == 2 ? chunks * KernelTable.V2_PARTS_PER_CHUNK : chunks;
    }

    /** Whether version 2 has a kernel for d and dv: d = dv in {32, 64, 128} (retrieve_v2_supports). */
    static boolean v2Serves(int d, int dv) {
        return d == dv && (d == 32 || d == 64 || d == 128);
    }

    /**
     * Version 2's dynamic shared memory ({@code retrieve_v2_shared_bytes}): four warps' staging rings (two stages of
     * TP rows of X, and of V when it is separate, plus TP norms), candidates, counts, thresholds and, for k <= 32, the
     * top-k lists; then the block's queries as three bf16 terms.
     */
    static int v2SharedBytes(JCudaStorage storage, int d, boolean separateV, int k) {
        int es = storage.bytes;
        int stages = 2;
        int rows = 16;
        int tp = es == 4 && d >= 64 ? 16 : 32;
        long rowBytes = (long) d * es + 16;
        long xBytes = tp * rowBytes;
        long normsAt = xBytes * (separateV ? 2 : 1);
        long stageBytes = align16(normsAt + tp * 4L);
        long at = stageBytes * stages;
        at = align16(at + rows * tp * 4L);   // candidates
        at = align16(at + rows * 4L);        // counts
        at = align16(at + rows * 4L);        // thresholds
        if (k > 0 && k <= 32) {
            at = align16(at + rows * (long) k * 12);  // lists
        }
        long q = align16(3L * rows * (d * 2L + 16));
        return (int) Math.min(4 * at + q, Integer.MAX_VALUE);
    }

    /** Version 2's default chunk ({@code retrieve_v2_default_chunk}): about 6 blocks per SM in all. */
    static int v2DefaultChunk(long count, long batch, int multiprocessors) {
        long qtiles = (batch + V2_QUERY_TILE - 1) / V2_QUERY_TILE;
        long step = V2_CHUNK_MULTIPLE;
        long chunks = Math.max(1, 6L * Math.max(multiprocessors, 1) / qtiles);
        long chunk = (count + chunks - 1) / chunks;
        chunk = (chunk + step - 1) / step * step;
        chunk = Math.max(chunk, 4 * step);
        long fit = ((count + V2_MAX_CHUNKS - 1) / V2_MAX_CHUNKS + step - 1) / step * step;
        chunk = Math.max(chunk, fit);
        return chunk > Integer.MAX_VALUE ? (int) (Integer.MAX_VALUE / step * step) : (int) chunk;
    }

    /**
     * The launch for B queries over {@code count} patterns of a memory of {@code storage}, d, dv: version 2 when
     * {@code asked.kernel()} is 2, or is 0 and version 2 serves the shape (d = dv in {32, 64, 128}, its arguments and
     * shared memory fit), else version 1 ({@link #choose}), as libengram's choose_shape.
     *
     * @throws IllegalArgumentException      for a shape outside the kernels' limits (naming the field and value)
     * @throws UnsupportedOperationException when the asked-for kernel cannot run this shape on this device
     */
    static LaunchPlan plan(JCudaStorage storage, int d, int dv, boolean valuesArePatterns, int k, long batch,
                           long count, JCudaLaunch asked, int multiprocessors, long sharedOptin) {
        int kernel = asked.kernel();
        boolean serves = v2Serves(d, dv);
        if (kernel == 2 && !serves) {
            throw new UnsupportedOperationException("retrieval kernel 2 needs d = dv in {32, 64, 128}, got d=" + d
                    + ", dv=" + dv + "; use kernel 0 or 1");
        }
        if (kernel == 2) {
            return chooseV2(storage, d, !valuesArePatterns, k, batch, count, asked, multiprocessors, sharedOptin, true);
        }
        if (kernel == 0 && V2_AUTO && serves) {
            LaunchPlan p = chooseV2(storage, d, !valuesArePatterns, k, batch, count, asked, multiprocessors,
                    sharedOptin, false);
            if (p != null) {
                return p;
            }
        }
        boolean valuesInXs = valuesArePatterns && d <= MAX_DIM_TILE;
        return choose(d, dv, k, batch, count, valuesInXs, asked, multiprocessors, sharedOptin);
    }

    /**
     * Version 2's shape ({@code choose_shape_v2}): 128 threads, 16 queries per block, chunk a multiple of 128 (asked
     * for, or chosen). When {@code explicit} is false (automatic) a shape it cannot take gives null (the caller falls
     * back to version 1) instead of an exception.
     */
    static LaunchPlan chooseV2(JCudaStorage storage, int d, boolean separateV, int k, long batch, long count,
                               JCudaLaunch asked, int multiprocessors, long sharedOptin, boolean explicit) {
        int threads = asked.blockThreads();
        int qtile = asked.queryTile();
        int chunk = asked.chunk();
        RuntimeException bad = null;
        if (threads != 0 && threads != KernelTable.V2_THREADS) {
            bad = new IllegalArgumentException("launch blockThreads must be 0 or 128 for retrieval kernel 2, got "
                    + threads);
        } else if (qtile != 0 && qtile != V2_QUERY_TILE) {
            bad = new IllegalArgumentException("launch queryTile must be 0 or " + V2_QUERY_TILE
                    + " for retrieval kernel 2, got " + qtile);
        } else if (chunk < 0 || (chunk != 0 && chunk % V2_CHUNK_MULTIPLE != 0)) {
            bad = new IllegalArgumentException("launch chunk must be a positive multiple of " + V2_CHUNK_MULTIPLE
                    + " for retrieval kernel 2, got " + chunk);
        }
        if (bad == null) {
            if (chunk == 0) {
                chunk = v2DefaultChunk(count, batch, multiprocessors);
            }
            long chunks = (count + chunk - 1) / chunk;
            int bytes = v2SharedBytes(storage, d, separateV, k);
            if (chunks > V2_MAX_CHUNKS) {
                bad = new UnsupportedOperationException("retrieval kernel 2 with chunk=" + chunk + " needs " + chunks
                        + " chunks (at most " + V2_MAX_CHUNKS + "); use a larger chunk");
            } else if (bytes > sharedOptin) {
                bad = new UnsupportedOperationException("retrieval kernel 2 with d=" + d + ", k=" + k + " needs "
                        + bytes + " bytes of shared memory per block; the device offers " + sharedOptin
                        + "; use kernel 1");
            } else {
                long qtiles = (batch + V2_QUERY_TILE - 1) / V2_QUERY_TILE;
                return new LaunchPlan(KernelTable.V2_THREADS, chunk, V2_QUERY_TILE, chunks, qtiles, bytes, 2);
            }
        }
        if (explicit) {
            throw bad;
        }
        return null;
    }

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
     * Version 1's launch for B queries over {@code count} patterns on a device with {@code multiprocessors} SMs and
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
        return new LaunchPlan(threads, chunk, qtile, chunks, qtiles, sharedBytes(d, dv, k, qtile, valuesInXs), 1);
    }
}
