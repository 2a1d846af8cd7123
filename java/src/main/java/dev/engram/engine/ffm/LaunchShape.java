package dev.engram.engine.ffm;

/**
 * How the native retrieval kernel splits work; 0 in any field lets the library choose. Results do not depend on the
 * shape beyond float32 round-off (the tests check that).
 *
 * @param blockThreads threads per block: a positive multiple of 32 (the warp), at most the library's limit
 *                     (engram_get_limits; checked when an engine is made with this shape)
 * @param chunk        stored patterns per block: a positive multiple of 32
 * @param queryTile    queries per block: in [1, blockThreads/4]
 */
public record LaunchShape(int blockThreads, int chunk, int queryTile) {
    /** Let the library choose everything. */
    public static final LaunchShape AUTO = new LaunchShape(0, 0, 0);

    public LaunchShape {
        if (blockThreads != 0 && (blockThreads < 32 || blockThreads % 32 != 0)) {
            throw new IllegalArgumentException("blockThreads must be 0 or a positive multiple of 32, got " + blockThreads);
        }
        if (chunk != 0 && (chunk < 32 || chunk % 32 != 0)) {
            throw new IllegalArgumentException("chunk must be 0 or a positive multiple of 32, got " + chunk);
        }
        if (queryTile < 0) {
            throw new IllegalArgumentException("queryTile must be >= 0, got " + queryTile);
        }
    }
}
