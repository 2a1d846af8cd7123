package dev.engram.engine.ffm;

import dev.engram.tensor.FloatMatrix;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Shared by the native-engine tests: which libraries are here, and rounding to the stored precisions. */
final class NativeTestSupport {
    private NativeTestSupport() {
    }

    /** Skips the test (with the reason) when libengram_emu was not built. */
    static void assumeEmu() {
        String why = NativeBackend.emulatedUnavailableReason();
        assumeTrue(why == null, () -> "emulated native engine unavailable: " + why);
    }

    /** Skips the test (with the reason) when there is no CUDA library, driver or device. */
    static void assumeCuda() {
        String why = NativeBackend.cudaUnavailableReason();
        assumeTrue(why == null, () -> "no GPU: " + why);
    }

    /** A copy of m with every element rounded to binary16 and back (round to nearest even), as fp16 storage does. */
    static FloatMatrix roundedToF16(FloatMatrix m) {
        FloatMatrix out = m.copy();
        for (long r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                out.set(r, c, Float.float16ToFloat(Float.floatToFloat16(m.get(r, c))));
            }
        }
        return out;
    }

    /** A copy of m with every element rounded to bfloat16 (round to nearest even), as bf16 storage does. */
    static FloatMatrix roundedToBf16(FloatMatrix m) {
        FloatMatrix out = m.copy();
        for (long r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                out.set(r, c, bf16(m.get(r, c)));
            }
        }
        return out;
    }

    static float bf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        bits += 0x7fff + ((bits >>> 16) & 1);
        return Float.intBitsToFloat(bits & 0xffff0000);
    }

    static FloatMatrix rounded(FloatMatrix m, NativeStorage storage) {
        return switch (storage) {
            case F32 -> m.copy();
            case F16 -> roundedToF16(m);
            case BF16 -> roundedToBf16(m);
        };
    }
}
