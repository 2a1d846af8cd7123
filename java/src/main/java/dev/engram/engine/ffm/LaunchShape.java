package dev.engram.engine.ffm;

/**
 * How the native retrieval kernel splits work; 0 in any field lets the library choose. Results do not depend on the
 * shape beyond float32 round-off (the tests check that).
 *
 * @param blockThreads threads per block: a positive multiple of 32 (the warp), at most the library's limit
 *                     (engram_get_limits; checked when an engine is made with this shape); 0 or 128 for kernel 2
 * @param chunk        stored patterns per block: a positive multiple of 32 (of 128 for kernel 2)
 * @param queryTile    queries per block: in [1, blockThreads/4]; 0 or 16 for kernel 2
 * @param kernel       the pass-1 kernel: 0 automatic, 1 the SIMT kernel (version 1), 2 the tensor-core kernel
 *                     (version 2: d = dv in {32, 64, 128}; cuda/retrieve_partial_v2.cu)
 */
public record LaunchShape(int blockThreads, int chunk, int queryTile, int kernel) {
    /** Let the library choose everything. */
    public static final LaunchShape AUTO = new LaunchShape(0, 0, 0, 0);
    /** The tensor-core kernel (version 2) with the library's chunk. */
    public static final LaunchShape TENSOR_CORES = new LaunchShape(0, 0, 0, 2);

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
        if (kernel < 0 || kernel > 2) {
            throw new IllegalArgumentException("kernel must be 0 (automatic), 1 or 2, got " + kernel);
        }
    }

    /** System property naming the retrieval kernel of the process-wide native engines: 0, 1 or 2. */
    public static final String KERNEL_PROPERTY = "engram.retrieval.kernel";

    /** {@link #AUTO}, with the kernel of {@link #KERNEL_PROPERTY} when it is set. */
    public static LaunchShape configured() {
        String v = System.getProperty(KERNEL_PROPERTY, "0").strip();
        return switch (v) {
            case "0" -> AUTO;
            case "1" -> new LaunchShape(0, 0, 0, 1);
            case "2" -> TENSOR_CORES;
            default -> throw new IllegalArgumentException("system property " + KERNEL_PROPERTY + " must be 0, 1 or 2, got '"
                    + v + "'");
        };
    }

    /** A version-1-or-automatic shape (kernel 0). */
    public LaunchShape(int blockThreads, int chunk, int queryTile) {
        this(blockThreads, chunk, queryTile, 0);
    }
}
