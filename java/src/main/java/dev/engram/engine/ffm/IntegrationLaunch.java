package dev.engram.engine.ffm;

/**
 * Which native integration kernel runs and how it splits the trajectories; 0 in a number lets the library choose.
 * Results do not depend on {@code blockThreads}, {@code tile} or {@code maxBlocks} (each trajectory is integrated
 * by one thread or one warp tile, its noise keyed by its own index): the tests check that.
 *
 * @param kernel       {@link Kernel#FP32} (the default) or {@link Kernel#TENSOR_BF16}
 * @param blockThreads threads per block: 0 or a multiple of 32 in [32, 256]
 * @param tile         tensor kernel only: trajectories per warp tile, 0 (library's choice: 16), 16 or 32 (h ≤ 32)
 * @param maxBlocks    cap on the number of blocks (the grid then loops over the trajectories), 0 for no cap
 */
public record IntegrationLaunch(Kernel kernel, int blockThreads, int tile, int maxBlocks) {

    /** The integration kernels of libengram (engram.h {@code engram_integrate_kernel}). */
    public enum Kernel {
        /** Let the library choose: {@link #FP32}. */
        AUTO(0),
        /** One thread per trajectory in float32: every model kind and scheme; the native side's reference. */
        FP32(1),
        /**
         * Warp tiles of 16 or 32 trajectories whose layer products run on tensor cores ({@code mma.sync} with
         * bfloat16 inputs, float32 accumulation): the general Hamiltonian with leapfrog, two hidden layers of equal
         * width h (a multiple of 16, at most 256), n ≤ 8. Agrees with the reference within bf16 rounding, not
         * float32 (see cuda/integrate_tc.cu).
         */
        TENSOR_BF16(2);

        /** The engram_integrate_kernel value. */
        final int code;

        Kernel(int code) {
            this.code = code;
        }
    }

    /** The library's choice for everything. */
    public static final IntegrationLaunch AUTO = new IntegrationLaunch(Kernel.AUTO, 0, 0, 0);

    public IntegrationLaunch {
        java.util.Objects.requireNonNull(kernel, "kernel");
        if (blockThreads != 0 && (blockThreads < 32 || blockThreads > 256 || blockThreads % 32 != 0)) {
            throw new IllegalArgumentException("blockThreads must be 0 or a multiple of 32 in [32, 256], got " + blockThreads);
        }
        if (tile != 0 && tile != 16 && tile != 32) {
            throw new IllegalArgumentException("tile must be 0, 16 or 32, got " + tile);
        }
        if (maxBlocks < 0) {
            throw new IllegalArgumentException("maxBlocks must be >= 0, got " + maxBlocks);
        }
    }

    /** The default shape with another kernel. */
    public static IntegrationLaunch of(Kernel kernel) {
        return new IntegrationLaunch(kernel, 0, 0, 0);
    }
}
