package dev.engram.engine.jcuda;

/**
 * The C type of one kernel parameter as cuLaunchKernel sees it: a byte size, which is also its alignment in the
 * parameter buffer (every type the kernels take is naturally aligned).
 */
enum KernelParam {
    /** A device pointer (any element type): 8 bytes. */
    POINTER(8),
    /** {@code int}: 4 bytes. */
    INT(4),
    /** {@code long long}: 8 bytes. */
    LONG(8),
    /** {@code float}: 4 bytes. */
    FLOAT(4);

    final int bytes;

    KernelParam(int bytes) {
        this.bytes = bytes;
    }
}
