package dev.engram.engine.jcuda;

/**
 * How the JCuda engine splits a retrieval; 0 in any field lets the engine choose (as libengram does). Results do
 * not depend on the shape beyond float32 round-off.
 *
 * @param blockThreads threads per block: 0, or a multiple of 32 in [32, 256]
 * @param chunk        stored patterns per block: 0, or a positive multiple of 32
 * @param queryTile    queries per block: 0, or in [1, blockThreads/4]
 */
public record JCudaLaunch(int blockThreads, int chunk, int queryTile) {
    /** Let the engine choose everything. */
    public static final JCudaLaunch AUTO = new JCudaLaunch(0, 0, 0);

    public JCudaLaunch {
        if (blockThreads != 0 && (blockThreads < 32 || blockThreads > LaunchPlan.MAX_BLOCK_THREADS || blockThreads % 32 != 0)) {
            throw new IllegalArgumentException("blockThreads must be 0 or a multiple of 32 in [32, "
                    + LaunchPlan.MAX_BLOCK_THREADS + "], got " + blockThreads);
        }
        if (chunk != 0 && (chunk < 32 || chunk % 32 != 0)) {
            throw new IllegalArgumentException("chunk must be 0 or a positive multiple of 32, got " + chunk);
        }
        if (queryTile < 0) {
            throw new IllegalArgumentException("queryTile must be >= 0, got " + queryTile);
        }
    }
}
