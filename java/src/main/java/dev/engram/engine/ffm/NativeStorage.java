package dev.engram.engine.ffm;

/**
 * How the native engine stores patterns and values on the device. Queries, scores and every sum stay float32 (or
 * wider); only the stored X and V are narrowed, halving the bytes each retrieval streams.
 */
public enum NativeStorage {
    /** IEEE float32, exact. */
    F32(0),
    /** IEEE binary16, rounded to nearest even at upload; every stored value must satisfy |x| ≤ 65504. */
    F16(1),
    /** bfloat16 (8-bit exponent, 7-bit fraction), rounded to nearest even at upload. */
    BF16(2);

    /** The engram_storage value (engram.h ENGRAM_STORAGE_*). */
    final int code;

    NativeStorage(int code) {
        this.code = code;
    }
}
