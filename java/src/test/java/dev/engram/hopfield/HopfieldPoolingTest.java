package dev.engram.hopfield;

import dev.engram.optim.Adam;
import dev.engram.engine.Backends;
import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HopfieldPoolingTest {

    static double[][] sequence(SplittableRandom rnd, int t, int d) {
        double[][] y = new double[t][d];
        for (double[] row : y) {
            for (int j = 0; j < d; j++) {
                row[j] = rnd.nextDouble() * 2 - 1;
            }
        }
        return y;
    }

    static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    /**
     * L = Σ G∘Z for a fixed random G, so ∂L/∂Z = G; every parameter and input entry against central differences of
     * the double forward pass. Reference engine: double throughout, so the differences' own error (h² terms and
     * rounding, about 1e-10 here) bounds it. cpu: the attention in float32 (inputs rounded to 2⁻²⁴, sums of 6 terms),
     * gradients of order 1, so 1e-5 is about 100 times the expected error and 10⁴ times below a wrong term.
     */
    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void backwardMatchesCentralFiniteDifferences(String engine) {
        SplittableRandom rnd = new SplittableRandom(4);
        HopfieldPooling pool = new HopfieldPooling(new HopfieldPooling.Config(4, 3, 2, 2, 1.3), 5);
        double[][] y = sequence(rnd, 6, 4);
        double[] g = new double[2 * 2];
        for (int i = 0; i < g.length; i++) {
            g[i] = rnd.nextDouble() * 2 - 1;
        }
        HopfieldPooling.Gradients grads = pool.backward(Backends.select(engine), y, g);
        double h = 1e-5;
        double abs = engine.equals("reference") ? 1e-8 : 1e-5;
        double rel = engine.equals("reference") ? 1e-6 : 1e-5;
        String[] names = {"Q", "W_k", "W_v"};
        List<double[]> params = pool.parameters();
        for (int k = 0; k < params.size(); k++) {
            double[] p = params.get(k);
            for (int i = 0; i < p.length; i++) {
                double keep = p[i];
                p[i] = keep + h;
                double up = dot(g, pool.poolExact(y));
                p[i] = keep - h;
                double down = dot(g, pool.poolExact(y));
                p[i] = keep;
                double fd = (up - down) / (2 * h);
                assertEquals(fd, grads.parameterGradients().get(k)[i], abs + rel * Math.abs(fd), names[k] + "[" + i + "]");
            }
        }
        for (int s = 0; s < y.length; s++) {
            for (int c = 0; c < 4; c++) {
                double keep = y[s][c];
                y[s][c] = keep + h;
                double up = dot(g, pool.poolExact(y));
                y[s][c] = keep - h;
                double down = dot(g, pool.poolExact(y));
                y[s][c] = keep;
                assertEquals((up - down) / (2 * h), grads.input()[s][c], abs, "Y(" + s + ", " + c + ")");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void poolingOnTheEngineMatchesTheDoubleForwardAndTheClosedForms(String engine) {
        SplittableRandom rnd = new SplittableRandom(6);
        HopfieldPooling pool = new HopfieldPooling(HopfieldPooling.Config.defaults(5, 4, 3, 2), 8);
        assertEquals(0.5, pool.config().beta(), 1e-15, "default beta = 1/sqrt(dk)");
        double[][] y = sequence(rnd, 9, 5);
        float[] flat = new float[9 * 5];
        for (int s = 0; s < 9; s++) {
            for (int c = 0; c < 5; c++) {
                flat[s * 5 + c] = (float) y[s][c];
            }
        }
        try (FloatMatrix seq = FloatMatrix.of(flat, 9, 5); FloatMatrix z = pool.pool(Backends.select(engine), seq)) {
            double[] exact = pool.poolExact(y);
            float[] got = z.toArray();
            for (int i = 0; i < exact.length; i++) {
                assertEquals(exact[i], got[i], 1e-5, "Z[" + i + "]");
            }
        }
        // a sequence of one vector pools to its value W_v·y, whatever the queries
        double[][] one = {y[0]};
        double[] z1 = pool.poolExact(one);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                double v = 0;
                for (int c = 0; c < 5; c++) {
                    v += pool.wv[j * 5 + c] * y[0][c];
                }
                assertEquals(v, z1[i * 3 + j], 1e-12);
            }
        }
        // identical rows: uniform attention, Z = W_v·y too
        double[] z2 = pool.poolExact(new double[][] {y[1], y[1], y[1]});
        assertArrayEquals(pool.poolExact(new double[][] {y[1]}), z2, 1e-12);
    }

    /** Trained with AdamW, the learned query finds the one flagged element of a sequence and returns its payload. */
    @Test
    void learnsToPoolTheFlaggedElement() {
        SplittableRandom rnd = new SplittableRandom(10);
        HopfieldPooling pool = new HopfieldPooling(new HopfieldPooling.Config(3, 4, 1, 1, 1.0), 3);
        Adam opt = new Adam(Adam.Config.adamW(0), pool.parameters(), new boolean[] {false, false, false});
        double first = 0;
        double last = 0;
        for (int step = 0; step < 400; step++) {
            double loss = 0;
            double[] gq = new double[pool.q.length];
            double[] gk = new double[pool.wk.length];
            double[] gv = new double[pool.wv.length];
            for (int b = 0; b < 8; b++) {
                double[][] y = new double[6][3];
                int flagged = rnd.nextInt(6);
                for (int s = 0; s < 6; s++) {
                    y[s][0] = s == flagged ? 1 : 0;        // the flag
                    y[s][1] = rnd.nextDouble() * 2 - 1;    // payload
                    y[s][2] = rnd.nextDouble() * 2 - 1;    // distractor
                }
                double e = pool.poolExact(y)[0] - y[flagged][1];
                loss += e * e / 8;
                HopfieldPooling.Gradients g = pool.backward(y, new double[] {2 * e / 8});
                for (int i = 0; i < gq.length; i++) {
                    gq[i] += g.queries()[i];
                }
                for (int i = 0; i < gk.length; i++) {
                    gk[i] += g.keyProj()[i];
                }
                for (int i = 0; i < gv.length; i++) {
                    gv[i] += g.valueProj()[i];
                }
            }
            opt.step(List.of(gq, gk, gv), 0.05);
            if (step < 20) {
                first += loss / 20;
            }
            if (step >= 380) {
                last += loss / 20;
            }
        }
        System.out.printf("Hopfield pooling, flagged-element task: loss %.4f -> %.4f%n", first, last);
        assertTrue(last < 0.05 * first, "loss " + first + " -> " + last);
    }

    @Test
    void badInputIsRejectedByName() {
        HopfieldPooling pool = new HopfieldPooling(HopfieldPooling.Config.defaults(3, 2, 2, 1), 1);
        double[] before = pool.q.clone();
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.poolExact(new double[][] {{1, 2}}))
                .getMessage().contains("sequence row 0 has 2 columns but 3"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.poolExact(new double[][] {{1, Double.NaN, 2}}))
                .getMessage().contains("(0, 1) is NaN"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.backward(new double[][] {{1, 1, 2}}, new double[3]))
                .getMessage().contains("dz has length 3 but 2"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> HopfieldPooling.Config.defaults(3, 0, 2, 1))
                .getMessage().contains("keyDim must be >= 1, got 0"));
        try (FloatMatrix empty = FloatMatrix.allocate(0, 3); FloatMatrix wide = FloatMatrix.allocate(2, 4)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.pool(Backends.select("reference"), empty))
                    .getMessage().contains("at least one row"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> pool.pool(Backends.select("reference"), wide))
                    .getMessage().contains("d=4"));
        }
        assertArrayEquals(before, pool.q);
    }
}
