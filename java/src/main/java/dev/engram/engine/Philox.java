package dev.engram.engine;

import dev.engram.tensor.RandomSampling;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a counter-based generator.
 * The random numbers for (trajectory, step, draw) are a pure function of the seed and those counters, so results do
 * not depend on thread count, block size or engine — the same function runs on the CPU engines and (as Philox is
 * cuRAND's) on the GPU.
 */
public final class Philox {
    private static final int M0 = 0xD2511F53;
    private static final int M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;
    private static final double INV_2_32 = 1.0 / 4294967296.0;

    private Philox() {
    }

    /** The 4 × 32-bit output block for counter (c0, c1, c2, c3) under key (k0, k1). */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xffffffffL) * (c0 & 0xffffffffL);
            long p1 = (M1 & 0xffffffffL) * (c2 & 0xffffffffL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            c0 = hi1 ^ c1 ^ k0;
            c1 = lo1;
            c2 = hi0 ^ c3 ^ k1;
            c3 = lo0;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0;
        out[1] = c1;
        out[2] = c2;
        out[3] = c3;
    }

    /**
     * Four standard normal draws for (seed, stream, step, group) by Box–Muller on the four uniforms of one block:
     * draw j of a step lives in group j/4, lane j%4.
     *
     * @param stream trajectory index
     * @param step   step index (−1 for initial perturbations)
     * @param group  which group of four draws
     * @param out    receives 4 normals
     */
    public static void gaussians(long seed, long stream, int step, int group, double[] out) {
        int[] b = new int[4];
        block((int) stream, (int) (stream >>> 32), step, group, (int) seed, (int) (seed >>> 32), b);
        for (int i = 0; i < 4; i += 2) {
            RandomSampling.gaussianPair(((b[i] & 0xffffffffL) + 0.5) * INV_2_32, ((b[i + 1] & 0xffffffffL) + 0.5) * INV_2_32,
                    out, i);
        }
    }
}
