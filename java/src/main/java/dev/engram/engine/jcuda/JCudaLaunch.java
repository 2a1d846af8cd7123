package dev.engram.engine.jcuda;

import dev.engram.engine.ffm.LaunchShape;

/**
 * How the JCuda engine splits a retrieval, and which pass-1 kernel runs; 0 in any field lets the engine choose (as
 * libengram does for the FFM engines). Results do not depend on the shape beyond float32 round-off.
 *
 * @param blockThreads threads per block: 0, or a multiple of 32 in [32, 256] (0 or 128 for kernel 2)
 * @param chunk        stored patterns per block: 0, or a positive multiple of 32 (of 128 for kernel 2)
 * @param queryTile    queries per block: 0, or in [1, blockThreads/4] (0 or 16 for kernel 2)
 * @param kernel       the pass-1 kernel: 0 automatic (version 2 where it serves the shape, else 1), 1 the SIMT
 *                     kernel (cuda/retrieve_partial.cu), 2 the tensor-core kernel (cuda/retrieve_partial_v2.cu:
 *                     d = dv in {32, 64, 128})
 */
public record JCudaLaunch(int blockThreads, int chunk, int queryTile, int kernel) {
    /** Let the engine choose everything. */
    public static final JCudaLaunch AUTO = new JCudaLaunch(0, 0, 0, 0);

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
        if (kernel < 0 || kernel > 2) {
            throw new IllegalArgumentException("kernel must be 0 (automatic), 1 or 2, got " + kernel);
        }
    }

    /** A shape with the automatic kernel choice. */
    public JCudaLaunch(int blockThreads, int chunk, int queryTile) {
        this(blockThreads, chunk, queryTile, 0);
    }

    /**
     * {@link #AUTO} with the kernel named by system property {@link LaunchShape#KERNEL_PROPERTY} (what
     * {@code --retrieval-kernel} sets), as the FFM engines read it.
     */
    public static JCudaLaunch configured() {
        return new JCudaLaunch(0, 0, 0, LaunchShape.configured().kernel());
    }
}
