package dev.engram.hopfield;

import dev.engram.engine.Backends;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dense memory's training through the engine contract ({@link DenseAssociativeMemory#gradient(
 * dev.engram.engine.Backend, double[][], double[], double)}) against its all-double heap gradient, the one checked
 * by finite differences in {@link DenseAssociativeMemoryTest}, on memories of several attention chunks.
 */
class DenseMemoryEngineTrainingTest {

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /**
     * Reference engine: the same equations in double, only summed in another order, so 1e-9 of each block's largest
     * entry. cpu: the attention in float32 (2⁻²⁴ per rounding, sums of ≤ 512 terms per chunk, chunks in double; the
     * chain through the normalisations and projections keeps the relative size), so 1e-4 of the block's largest
     * entry, about 30 times √512·2⁻²⁴ and far below any wrong term.
     */
    @ParameterizedTest(name = "{0} engine, seed {1}, M={2}, B={3}")
    @CsvSource({"reference, 1, 5, 4", "reference, 2, 1300, 40", "cpu, 1, 5, 4", "cpu, 2, 1300, 40", "cpu, 3, 2, 70"})
    void engineGradientMatchesTheHeapGradient(String engine, long seed, int memory, int batch) {
        var cfg = new DenseAssociativeMemory.Config(6, 2, memory, 3, 4, 5, 8, true);
        SplittableRandom rnd = new SplittableRandom(seed);
        try (DenseAssociativeMemory dam = new DenseAssociativeMemory(cfg, seed + 10)) {
            double[][] f = DenseAssociativeMemoryTest.randomRows(rnd, batch, 6, 1);
            double[] y = new double[batch];
            for (int b = 0; b < batch; b++) {
                y[b] = rnd.nextDouble() - 0.5;
            }
            DenseAssociativeMemory.Gradient heap = dam.gradient(f, y, 0.3);
            DenseAssociativeMemory.Gradient eng = dam.gradient(Backends.select(engine), f, y, 0.3);
            double tol = engine.equals("reference") ? 1e-9 : 1e-4;
            assertEquals(heap.loss(), eng.loss(), tol * Math.abs(heap.loss()), "loss");
            for (int b = 0; b < batch; b++) {
                assertEquals(heap.weights()[b], eng.weights()[b], tol, "omega[" + b + "]");
            }
            String[] names = {"W_q", "W_k", "W_v", "W_o", "w_p", "b_p", "keys", "values", "log beta"};
            List<double[]> h = heap.gradients();
            List<double[]> e = eng.gradients();
            for (int k = 0; k < names.length; k++) {
                double scale = Math.max(maxAbs(h.get(k)), 1e-12);
                assertTrue(scale > 1e-9, names[k] + " has a gradient");
                for (int i = 0; i < h.get(k).length; i++) {
                    assertEquals(h.get(k)[i], e.get(k)[i], tol * scale, names[k] + "[" + i + "]");
                }
            }
        }
    }

    /**
     * 30 training steps on the cpu engine and on the reference engine from the same weights and minibatches: float32
     * rounding compounds over the steps through Adam, so the losses are held to 1% and the learned β to 1%.
     */
    @ParameterizedTest(name = "seed {0}")
    @CsvSource({"5"})
    void trainingOnCpuFollowsTheReference(long seed) {
        var cfg = new DenseAssociativeMemory.Config(6, 1, 700, 4, 4, 8, 8, true);
        SplittableRandom rnd = new SplittableRandom(seed);
        double[][] f = DenseAssociativeMemoryTest.randomRows(rnd, 200, 6, 1);
        double[] y = new double[200];
        for (int i = 0; i < 200; i++) {
            y[i] = 0.5 * Math.tanh(f[i][0] - f[i][1]);
        }
        var tc = new DenseAssociativeMemory.TrainingConfig(30, 32, 1e-2, 1e-3, 3, 1e-4, 1e-2, 3);
        DenseAssociativeMemory.TrainingReport ref;
        DenseAssociativeMemory.TrainingReport cpu;
        try (DenseAssociativeMemory a = new DenseAssociativeMemory(cfg, 9);
             DenseAssociativeMemory b = new DenseAssociativeMemory(cfg, 9)) {
            ref = a.train(Backends.select("reference"), f, y, tc);
            cpu = b.train(Backends.select("cpu"), f, y, tc);
        }
        for (int s = 0; s < 30; s++) {
            assertEquals(ref.losses()[s], cpu.losses()[s], 1e-2 * ref.losses()[s], "loss at step " + s);
        }
        assertTrue(ref.losses()[29] < ref.losses()[0], "training lowers the loss: " + ref.losses()[0] + " -> "
                + ref.losses()[29]);
        assertEquals(ref.beta(), cpu.beta(), 1e-2 * ref.beta(), "learned beta");
        System.out.printf("dense memory, 30 steps: loss %.6f -> reference %.6f, cpu %.6f; beta %.4f vs %.4f%n",
                ref.losses()[0], ref.losses()[29], cpu.losses()[29], ref.beta(), cpu.beta());
    }
}
