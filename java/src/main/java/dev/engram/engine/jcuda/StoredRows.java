package dev.engram.engine.jcuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Rows converted to a storage kind on the host (round to nearest even, as libengram's half_bits.h), and the norms of
 * the stored (rounded) patterns in double, as libengram computes them.
 */
final class StoredRows {
    private StoredRows() {
    }

    /**
     * {@code src[0..n·width)} encoded as {@code storage} into a new direct buffer (native byte order).
     *
     * @throws IllegalArgumentException for a non-finite element, or one that overflows fp16 (naming row and column)
     */
    static ByteBuffer encode(float[] src, int n, int width, JCudaStorage storage, String what) {
        ByteBuffer out = ByteBuffer.allocateDirect(n * width * storage.bytes).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n * width; i++) {
            float f = src[i];
            if (!Float.isFinite(f)) {
                throw new IllegalArgumentException(what + " must be finite, but element (" + i / width + ", " + i % width
                        + ") is " + f);
            }
            switch (storage) {
                case F32 -> out.putFloat(f);
                case F16 -> {
                    short h = Float.floatToFloat16(f);
                    if ((h & 0x7c00) == 0x7c00) {
                        throw new IllegalArgumentException(what + " element (" + i / width + ", " + i % width + ") = " + f
                                + " overflows fp16 storage (|x| <= 65504)");
                    }
                    out.putShort(h);
                }
                case BF16 -> out.putShort(bf16(f));
            }
        }
        return out.flip();
    }

    /** bfloat16 bits of a finite float, rounded to nearest even. */
    static short bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        bits += 0x7fff + ((bits >>> 16) & 1);
        return (short) (bits >>> 16);
    }

    /** The value a stored element decodes to. */
    static float decode(ByteBuffer b, int index, JCudaStorage storage) {
        return switch (storage) {
            case F32 -> b.getFloat(index * 4);
            case F16 -> Float.float16ToFloat(b.getShort(index * 2));
            case BF16 -> Float.intBitsToFloat(b.getShort(index * 2) << 16);
        };
    }

    /** ‖x_r‖ of the n stored rows of width d in {@code stored}, in double, rounded to float. */
    static float[] norms(ByteBuffer stored, int n, int d, JCudaStorage storage) {
        float[] out = new float[n];
        for (int r = 0; r < n; r++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double f = decode(stored, r * d + j, storage);
                s += f * f;
            }
            out[r] = (float) Math.sqrt(s);
        }
        return out;
    }
}
