package dev.engram.engine.jcuda;

/**
 * The C type of one kernel parameter as cuLaunchKernel sees it: a byte size and an alignment in the parameter buffer
 * (the scalars are naturally aligned; a struct passed by value is aligned as its widest member).
 */
enum KernelParam {
    /** A device pointer (any element type): 8 bytes. */
    POINTER(8, 8),
    /** {@code int}: 4 bytes. */
    INT(4, 4),
    /** {@code long long}: 8 bytes. */
    LONG(8, 8),
    /** {@code float}: 4 bytes. */
    FLOAT(4, 4),
    /** {@code engram::IntegrateArgs} by value ({@link IntegrateArgsLayout}). */
    INTEGRATE_ARGS(IntegrateArgsLayout.SIZE, 8),
    /** {@code engram::QuantileColumns} by value ({@link IntegrateArgsLayout#QUANTILE_COLUMNS}). */
    QUANTILE_COLUMNS((int) IntegrateArgsLayout.QUANTILE_COLUMNS.byteSize(), 8);

    final int bytes;
    final int align;

    KernelParam(int bytes, int align) {
        this.bytes = bytes;
        this.align = align;
    }
}
