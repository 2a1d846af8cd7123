package dev.engram.hnn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The MLP's argument checks (each names the argument and the value) and its initialisation order. */
class MlpChecksTest {

    private static <T extends Throwable> void rejected(Class<T> type, Executable op, String message) {
        T e = assertThrows(type, op);
        assertTrue(e.getMessage().contains(message), "message '" + e.getMessage() + "' should contain '" + message + "'");
    }

    private static void rejected(Executable op, String message) {
        rejected(IllegalArgumentException.class, op, message);
    }

    @Test
    void everyBatchArgumentIsCheckedByName() {
        Mlp scalar = Mlp.of(3, 4, 1);
        scalar.initGlorot(new SplittableRandom(1));
        double[][] x = {{0.1, 0.2, 0.3}, {0.4, 0.5, 0.6}};
        double[] grad = new double[scalar.parameterCount()];
        rejected(() -> scalar.forward(new double[0][], new double[0][]), "x is an empty batch");
        rejected(() -> scalar.forward(new double[][] {{0.1, 0.2, 0.3}, {0.1}}, new double[2][1]),
                "x[1] has length 1, expected 3");
        rejected(() -> scalar.forward(x, new double[][] {{0}, {0, 0}}), "y[1] has length 2, expected 1");
        rejected(() -> scalar.valueAndInputGradient(x, new double[2], new double[][] {{0, 0, 0}, {0, 0}}),
                "gx[1] has length 2, expected 3");
        rejected(() -> scalar.valueAndInputGradient(new double[][] {{1}}, new double[1], new double[1][3]),
                "x[0] has length 1, expected 3");
        rejected(() -> scalar.valueAndInputGradient(x, new double[3], new double[2][3]),
                "y has length 3, expected the batch size 2");
        rejected(() -> scalar.backpropParameters(new double[][] {{1}}, new double[1][1], grad), "x[0] has length 1");
        rejected(() -> scalar.backpropParameters(x, new double[][] {{1}, {1, 2}}, grad), "yBar[1] has length 2, expected 1");
        rejected(() -> scalar.backpropParameters(x, new double[2][1], new double[3]),
                "grad has length 3, needs at least " + scalar.parameterCount() + " (laid out like theta)");
        rejected(() -> scalar.backpropInputGradient(x, new double[][] {{0, 0, 0}, {0}}, grad), "gBar[1] has length 1");
        rejected(() -> scalar.backpropInputGradient(new double[][] {{1, 2}}, g -> g, grad), "x[0] has length 2");
        rejected(() -> scalar.backpropInputGradient(x, g -> g, new double[grad.length - 1]),
                "grad has length " + (grad.length - 1));
        rejected(() -> scalar.backpropInputGradient(x, g -> new double[][] {{0, 0}}, grad), "adjoint[0] has length 2, expected 3");
        rejected(() -> scalar.backpropInputGradient(x, g -> new double[][] {{0, 0, 0}}, grad), "adjoint has 1 rows, expected 2");
        assertArrayEquals(new double[grad.length], grad, "no rejected call added to grad");

        Mlp vector = Mlp.of(3, 2);
        rejected(IllegalStateException.class, () -> vector.valueAndInputGradient(x, null, new double[2][3]),
                "the input gradient needs a scalar output, widths are [3, 2]");
        rejected(IllegalStateException.class, () -> vector.backpropInputGradient(x, g -> g, new double[100]),
                "needs a scalar output");
    }

    @Test
    void aSliceOfThetaMustFitAndGradNeedsRoomUpToTheSlicesEnd() {
        double[] theta = new double[30];
        // [2, 3, 1]: 2·3 + 3 + 3·1 + 1 = 13 parameters
        assertEquals(13, Mlp.parameterCount(2, 3, 1));
        Mlp m = new Mlp(new int[] {2, 3, 1}, theta, 17);
        assertEquals(17, m.offset());
        assertEquals(2, m.inputWidth());
        rejected(() -> new Mlp(new int[] {2, 3, 1}, theta, 18), "needs 13 parameters from offset 18, but theta has 30");
        rejected(() -> new Mlp(new int[] {2, 3, 1}, theta, -1), "from offset -1");
        rejected(() -> m.backpropParameters(new double[1][2], new double[1][1], new double[29]),
                "grad has length 29, needs at least 30");
        double[] grad = new double[30];
        m.backpropParameters(new double[][] {{0.5, -0.5}}, new double[][] {{1}}, grad);
        assertEquals(1.0, grad[29], 0, "∂y/∂b_out = 1 lands at the slice's last entry");
        for (int i = 0; i < 17; i++) {
            assertEquals(0.0, grad[i], 0, "nothing before the slice");
        }
    }

    @Test
    void parameterCountsBeyondAnIntArrayAreRejected() {
        rejected(() -> Mlp.parameterCount(50_000, 50_000), "widths [50000, 50000] give 2500050000 parameters, too many");
        rejected(() -> Mlp.parameterCount(4), "widths needs at least [in, out], got [4]");
        rejected(() -> Mlp.parameterCount(4, 0, 1), "widths[1] must be >= 1, got 0 in [4, 0, 1]");
        rejected(() -> Networks.count(new int[] {46_000, 46_000}, new int[] {46_000, 46_000}), "too many");
    }

    /** Weights are drawn layer by layer in parameter order, one draw each; biases take no draws and are 0. */
    @Test
    void glorotDrawsOneNumberPerWeightInParameterOrder() {
        Mlp m = Mlp.of(2, 3, 2);
        m.initGlorot(new SplittableRandom(5));
        SplittableRandom rnd = new SplittableRandom(5);
        double[] theta = m.parameters();
        int o = 0;
        int[] w = {2, 3, 2};
        for (int k = 0; k < 2; k++) {
            double r = Math.sqrt(6.0 / (w[k] + w[k + 1]));
            for (int i = 0; i < w[k] * w[k + 1]; i++) {
                assertEquals((2 * rnd.nextDouble() - 1) * r, theta[o++], 0, "layer " + k + " weight " + i);
            }
            for (int i = 0; i < w[k + 1]; i++) {
                assertEquals(0.0, theta[o++], 0, "layer " + k + " bias " + i);
            }
        }
        assertEquals(theta.length, o);
    }
}
