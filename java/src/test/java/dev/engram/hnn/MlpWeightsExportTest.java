package dev.engram.hnn;

import dev.engram.engine.MlpWeights;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@link Mlp#toWeights}: every weight and bias (none zero here) lands where the engines read it. */
class MlpWeightsExportTest {

    @Test
    void everyWeightAndBiasIsExportedFromItsOffset() {
        int[] widths = {3, 5, 4, 2};
        int offset = 7;
        double[] theta = new double[offset + Mlp.parameterCount(widths) + 3];
        SplittableRandom rnd = new SplittableRandom(11);
        for (int i = 0; i < theta.length; i++) {
            theta[i] = 0.5 + rnd.nextDouble(); // non-zero and distinct: a bias read from a weight's place shows
        }
        Mlp mlp = new Mlp(widths, theta, offset);
        MlpWeights w = mlp.toWeights();
        assertArrayEquals(widths, w.widths());
        int o = offset;
        for (int k = 0; k < widths.length - 1; k++) {
            for (int i = 0; i < widths[k + 1]; i++) {
                for (int j = 0; j < widths[k]; j++) {
                    assertEquals((float) theta[o + i * widths[k] + j], w.weight(k, i, j), "W" + k + "[" + i + "][" + j + "]");
                }
            }
            o += widths[k + 1] * widths[k];
            for (int i = 0; i < widths[k + 1]; i++) {
                assertEquals((float) theta[o + i], w.bias(k, i), "b" + k + "[" + i + "]");
            }
            o += widths[k + 1];
        }
        // the exported network computes what the MLP computes (float32 weights: to ~1e-6)
        double[] x = {0.3, -0.7, 1.1};
        double[] y = new double[2];
        mlp.forward(x, y);
        double[] a = x;
        for (int k = 0; k < w.layers(); k++) {
            double[] z = new double[widths[k + 1]];
            for (int i = 0; i < z.length; i++) {
                double s = w.bias(k, i);
                for (int j = 0; j < a.length; j++) {
                    s += w.weight(k, i, j) * a[j];
                }
                z[i] = k + 1 < w.layers() ? Math.tanh(s) : s;
            }
            a = z;
        }
        assertArrayEquals(y, a, 1e-5);
    }

    @Test
    void aNonFiniteParameterIsRefused() {
        int[] widths = {2, 3, 1};
        double[] theta = new double[Mlp.parameterCount(widths)];
        java.util.Arrays.fill(theta, 0.1);
        theta[theta.length - 1] = Double.NaN; // the output bias
        Mlp mlp = new Mlp(widths, theta, 0);
        var e = assertThrows(IllegalArgumentException.class, mlp::toWeights);
        assertEquals("biases[1][0] is NaN", e.getMessage());
    }
}
