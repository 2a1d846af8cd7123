package dev.engram.engine.jcuda;

import dev.engram.engine.MlpWeights;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The tensor-core integration kernel's weight image (cuda/integrate_tc.cu {@code tc_layout} and
 * {@code pack_tensor_weights}), built here for H = [2n, h, h, 1]: W1 [h][24] bf16 with the columns interleaved
 * (q_0, p_0, q_1, p_1, ...; zero beyond 2n), W2 [h][h + 8] bf16 (8 columns of padding), then b1, b2, w3 (h floats
 * each) and b3, float32. bf16 is rounded to nearest even as libengram's half_bits.h does. A test compares the offsets
 * with {@code engram_tensor_weights_layout} and the bytes with {@code engram_pack_tensor_weights}.
 */
final class TensorWeights {
    /** W1's row stride in bf16 elements: 16 inputs and 8 of padding (kS1). */
    static final int S1 = 24;

    /** Byte offsets of the parts and the image's size for hidden width h. */
    record Layout(int w1, int w2, int b1, int b2, int w3, int b3, int bytes) {
        static Layout of(int h) {
            int w1 = 0;
            int w2 = w1 + h * S1 * 2;
            int b1 = w2 + h * (h + 8) * 2;
            int b2 = b1 + h * 4;
            int w3 = b2 + h * 4;
            int b3 = w3 + h * 4;
            return new Layout(w1, w2, b1, b2, w3, b3, b3 + 16);
        }
    }

    private TensorWeights() {
    }

    /** The image of {@code net} = [2n, h, h, 1] (checked by the caller: {@link IntegrationPack#tensorSupport}). */
    static byte[] pack(MlpWeights net, int n) {
        int h = net.widths()[1];
        int in = 2 * n;
        Layout l = Layout.of(h);
        ByteBuffer out = ByteBuffer.allocate(l.bytes()).order(ByteOrder.LITTLE_ENDIAN);
        float[][] w = net.weights();
        float[][] b = net.biases();
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < n; j++) {
                out.putShort(l.w1() + 2 * (i * S1 + 2 * j), StoredRows.bf16(w[0][i * in + j]));          // q_j
                out.putShort(l.w1() + 2 * (i * S1 + 2 * j + 1), StoredRows.bf16(w[0][i * in + n + j]));  // p_j
            }
            for (int k = 0; k < h; k++) {
                out.putShort(l.w2() + 2 * (i * (h + 8) + k), StoredRows.bf16(w[1][i * h + k]));
            }
            out.putFloat(l.b1() + 4 * i, b[0][i]);
            out.putFloat(l.b2() + 4 * i, b[1][i]);
            out.putFloat(l.w3() + 4 * i, w[2][i]);
        }
        out.putFloat(l.b3(), b[2][0]);
        return out.array();
    }
}
