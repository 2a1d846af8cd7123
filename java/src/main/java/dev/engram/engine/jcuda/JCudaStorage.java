package dev.engram.engine.jcuda;

/**
 * How the JCuda engine keeps patterns and values on the device (the same kinds as libengram's engram_storage, so the
 * same kernels read them). Queries, scores and every sum stay float32 or wider.
 */
public enum JCudaStorage {
    /** IEEE float32, exact. */
    F32(4),
    /** IEEE binary16, rounded to nearest even at upload; |x| ≤ 65504. */
    F16(2),
    /** bfloat16, rounded to nearest even at upload. */
    BF16(2);

    /** Bytes per stored element. */
    public final int bytes;

    JCudaStorage(int bytes) {
        this.bytes = bytes;
    }
}
