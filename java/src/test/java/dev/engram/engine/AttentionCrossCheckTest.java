package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The training attention ({@link Backend#attend}, {@link Backend#attendBackward}): the cpu engine against the
 * double reference on seeded random problems (several chunks, several query tiles, one stored row), the reference
 * against central finite differences of its own forward pass, and both at extreme scales (β·s from 10^3 to 10^9)
 * on inputs whose scores are exact in float32 (multiples of 1/4), where the answers are known: one-hot weights give
 * gradients that are exactly 0 for q, k and β and ∂o for the winner's v; two tied rows give weights of exactly 1/2
 * and gradients of order β.
 */
class AttentionCrossCheckTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final CpuBackend CPU = new CpuBackend(CpuBackend.Config.defaults().withThreads(3));

    @AfterAll
    static void close() {
        CPU.close();
    }

    static Attention random(long seed, int heads, int batch, int memory, int dk, int dv, double beta) {
        SplittableRandom r = new SplittableRandom(seed);
        return new Attention(heads, batch, memory, dk, dv, uniform(r, heads * batch * dk),
                uniform(r, heads * memory * dk), uniform(r, heads * memory * dv), beta);
    }

    static double[] uniform(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextDouble() * 2 - 1;
        }
        return a;
    }

    private static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** ‖a − b‖∞ ≤ tol·max(‖b‖∞, floor). */
    private static void close(double[] expected, double[] actual, double tol, double floor, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double scale = Math.max(maxAbs(expected), floor);
        for (int i = 0; i < expected.length; i++) {
            if (!(Math.abs(expected[i] - actual[i]) <= tol * scale)) {
                throw new AssertionError(what + "[" + i + "]: reference " + expected[i] + ", cpu " + actual[i]
                        + " (tolerance " + tol * scale + ")");
            }
        }
    }

    /**
     * cpu against the reference. Tolerances: inputs rounded to float32 (2⁻²⁴ relative), scores sum dk ≤ 16 products,
     * outputs and ∂q sum at most 512 float32 terms per chunk (√512·2⁻²⁴ ≈ 1.3e-6 typically), the chunks merge in
     * double; so 2e-5 of the block's largest entry is about 10 times the expected error. ∂β sums B·M·H terms that
     * cancel (Σ_i ∂s_bi = 0), so it is held to 2e-5 of Σ|∂q|·|q|/β-sized terms: the scale ‖∂q‖∞·‖q‖∞·B·H/β.
     */
    @ParameterizedTest(name = "seed {0}: H={1} B={2} M={3} dk={4} dv={5} beta={6}")
    @CsvSource({
            "1, 1, 1, 1, 1, 1, 1",
            "2, 2, 3, 5, 3, 2, 1.3",
            "3, 4, 32, 1300, 8, 8, 32",
            "4, 1, 70, 1025, 16, 3, 8",
            "5, 3, 7, 513, 5, 16, 0.25",
            "6, 2, 33, 2048, 8, 1, 64",
            "7, 1, 1, 1, 4, 4, 1e6"})
    void cpuMatchesTheReference(long seed, int heads, int batch, int memory, int dk, int dv, double beta) {
        Attention a = random(seed, heads, batch, memory, dk, dv, beta);
        AttentionForward ref = REFERENCE.attend(a);
        AttentionForward cpu = CPU.attend(a);
        close(ref.output(), cpu.output(), 2e-5, 1e-3, "output");
        close(ref.max(), cpu.max(), 2e-6, 1, "max");
        close(ref.logSumExp(), cpu.logSumExp(), 2e-5, 1, "logSumExp");
        close(ref.entropy(), cpu.entropy(), 2e-5, 1, "entropy");
        double[] g = uniform(new SplittableRandom(seed + 100), heads * batch * dv);
        AttentionGradient gr = REFERENCE.attendBackward(a, ref, g);
        AttentionGradient gc = CPU.attendBackward(a, cpu, g);
        close(gr.queries(), gc.queries(), 2e-5, 1e-3, "dq");
        close(gr.keys(), gc.keys(), 2e-5, 1e-3, "dk");
        close(gr.values(), gc.values(), 2e-5, 1e-3, "dv");
        double betaScale = Math.max(maxAbs(gr.queries()), 1e-3) * heads * batch / beta;
        assertEquals(gr.beta(), gc.beta(), 2e-5 * Math.max(betaScale, Math.abs(gr.beta())), "dbeta");
    }

    /** L = Σ G∘o; central differences of the reference forward, step h, against the engine's backward. */
    private static void finiteDifferences(Backend engine, Attention a, double[] g, double h, double tol, String label) {
        AttentionGradient grad = engine.attendBackward(a, engine.attend(a), g);
        double[][] blocks = {a.queries(), a.keys(), a.values()};
        double[][] analytic = {grad.queries(), grad.keys(), grad.values()};
        String[] names = {"dq", "dk", "dv"};
        double scale = 0;
        for (double[] b : analytic) {
            scale = Math.max(scale, maxAbs(b));
        }
        scale = Math.max(scale, 1e-12);
        for (int k = 0; k < blocks.length; k++) {
            double[] p = blocks[k];
            for (int i = 0; i < p.length; i++) {
                double keep = p[i];
                p[i] = keep + h;
                double up = loss(a, g);
                p[i] = keep - h;
                double down = loss(a, g);
                p[i] = keep;
                double fd = (up - down) / (2 * h);
                if (!(Math.abs(fd - analytic[k][i]) <= tol * scale)) {
                    throw new AssertionError(label + " " + names[k] + "[" + i + "]: differences " + fd + ", "
                            + engine.name() + " " + analytic[k][i] + " (tolerance " + tol * scale + ")");
                }
            }
        }
        double hb = h * a.beta() / maxAbs(a.queries());
        double up = loss(withBeta(a, a.beta() + hb), g);
        double down = loss(withBeta(a, a.beta() - hb), g);
        double fd = (up - down) / (2 * hb);
        double betaScale = scale * maxAbs(a.queries()) * a.heads() * a.batch() / a.beta();
        assertEquals(fd, grad.beta(), tol * Math.max(betaScale, Math.abs(fd)), label + " dbeta");
    }

    private static Attention withBeta(Attention a, double beta) {
        return new Attention(a.heads(), a.batch(), a.memory(), a.keyDim(), a.valueDim(), a.queries(), a.keys(),
                a.values(), beta);
    }

    private static double loss(Attention a, double[] g) {
        double[] o = REFERENCE.attend(a).output();
        double s = 0;
        for (int i = 0; i < o.length; i++) {
            s += g[i] * o[i];
        }
        return s;
    }

    /**
     * Central differences with h = 1e-5 on scores of order 1: truncation h²·|L'''| ≈ 1e-10 and rounding
     * 1e-16/h ≈ 1e-11 bound the reference's error, so 1e-7 of the largest gradient entry; the cpu engine's float32
     * (above) is held to 2e-5.
     */
    @ParameterizedTest(name = "seed {0}: {1} engine")
    @CsvSource({"11, reference", "12, reference", "11, cpu", "12, cpu"})
    void gradientsMatchFiniteDifferences(long seed, String engine) {
        Attention a = random(seed, 2, 3, 5, 3, 2, 1.7);
        double[] g = uniform(new SplittableRandom(seed + 1), 2 * 3 * 2);
        Backend e = engine.equals("cpu") ? CPU : REFERENCE;
        finiteDifferences(e, a, g, 1e-5, engine.equals("cpu") ? 2e-5 : 1e-7, "seed " + seed);
    }

    /**
     * Per head: queries (1, 1, x, y) with x, y multiples of 1/4 in [−1, 1]; row 0 = (2, 1, 0, 0) scores 3; row 1 =
     * (1, 2, 0, 0) (tied: scores 3) or (1, 1.5, 0, 0) (scores 2.5); the other rows have entries in [−1/2, 1/2] (multiples
     * of 1/4) and score at most 2. Every score is exact in float32.
     */
    static Attention extreme(long seed, int heads, int batch, int memory, boolean tied, double beta) {
        SplittableRandom r = new SplittableRandom(seed);
        int dk = 4;
        int dv = 3;
        double[] q = new double[heads * batch * dk];
        for (int i = 0; i < heads * batch; i++) {
            q[i * dk] = 1;
            q[i * dk + 1] = 1;
            q[i * dk + 2] = (r.nextInt(9) - 4) / 4.0;
            q[i * dk + 3] = (r.nextInt(9) - 4) / 4.0;
        }
        double[] k = new double[heads * memory * dk];
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < memory; i++) {
                int o = (h * memory + i) * dk;
                if (i == 0) {
                    k[o] = 2;
                    k[o + 1] = 1;
                } else if (i == 1) {
                    k[o] = 1;
                    k[o + 1] = tied ? 2 : 1.5;
                } else {
                    for (int j = 0; j < dk; j++) {
                        k[o + j] = (r.nextInt(5) - 2) / 4.0;
                    }
                }
            }
        }
        return new Attention(heads, batch, memory, dk, dv, q, k, uniform(r, heads * memory * dv), beta);
    }

    /** One-hot rows (every other weight below e^(−β/2), 0 in float32 and below 1e-200 in double from β = 10^3). */
    @ParameterizedTest(name = "beta {0}")
    @ValueSource(doubles = {1e3, 1e5, 1e7, 1e9})
    void oneHotAtExtremeScalesGivesExactGradients(double beta) {
        Attention a = extreme(21, 2, 37, 600, false, beta);
        double[] g = uniform(new SplittableRandom(22), 2 * 37 * 3);
        for (Backend e : new Backend[] {REFERENCE, CPU}) {
            AttentionForward f = e.attend(a);
            for (int qb = 0; qb < 2 * 37; qb++) {
                int h = qb / 37;
                assertEquals(3, f.max()[qb], 0, e.name() + " max");
                assertEquals(0, f.logSumExp()[qb], 1e-200, e.name() + " logSumExp");
                assertEquals(0, f.entropy()[qb], 1e-200, e.name() + " entropy");
                for (int j = 0; j < 3; j++) {
                    assertEquals(a.values()[h * 600 * 3 + j], f.output()[qb * 3 + j], 1e-7, e.name() + " output");
                }
            }
            AttentionGradient gr = e.attendBackward(a, f, g);
            assertTrue(maxAbs(gr.queries()) <= 1e-190 && maxAbs(gr.keys()) <= 1e-190 && Math.abs(gr.beta()) <= 1e-190,
                    e.name() + ": dq, dk, dbeta must vanish, got " + maxAbs(gr.queries()) + ", " + maxAbs(gr.keys())
                            + ", " + gr.beta());
            for (int h = 0; h < 2; h++) {
                for (int j = 0; j < 3; j++) {
                    double sum = 0;
                    for (int b = 0; b < 37; b++) {
                        sum += g[(h * 37 + b) * 3 + j];
                    }
                    assertEquals(sum, gr.values()[h * 600 * 3 + j], 1e-5, e.name() + " dv of the winner");
                }
                for (int i = 1; i < 600; i++) {
                    for (int j = 0; j < 3; j++) {
                        assertEquals(0, gr.values()[(h * 600 + i) * 3 + j], 1e-190, e.name() + " dv of a loser");
                    }
                }
            }
        }
    }

    /**
     * Two tied rows: weights exactly 1/2, entropy log 2, gradients of order β. cpu against the reference within
     * float32's 2e-5 (the scores are exact; only log 2, the exponentials and ∂o·v round), and both against central
     * differences with h = 10⁻³/β (the tie is broken by 10⁻³ in β·s: truncation ≈ 1e-6 relative; rounding of the
     * perturbed input, 1e-16/h relative to β, ≈ 1e-4 at β = 10^9), held to 1e-3.
     */
    @ParameterizedTest(name = "beta {0}")
    @ValueSource(doubles = {1e3, 1e6, 1e9})
    void tiesAtExtremeScalesMatchTheReferenceAndFiniteDifferences(double beta) {
        Attention a = extreme(31, 2, 5, 40, true, beta);
        double[] g = uniform(new SplittableRandom(32), 2 * 5 * 3);
        AttentionForward ref = REFERENCE.attend(a);
        AttentionForward cpu = CPU.attend(a);
        for (int qb = 0; qb < 10; qb++) {
            assertEquals(Math.log(2), ref.logSumExp()[qb], 1e-15, "reference logSumExp");
            assertEquals(Math.log(2), ref.entropy()[qb], 1e-15, "reference entropy");
        }
        close(ref.output(), cpu.output(), 2e-5, 1e-3, "output");
        close(ref.logSumExp(), cpu.logSumExp(), 2e-5, 1, "logSumExp");
        close(ref.entropy(), cpu.entropy(), 2e-5, 1, "entropy");
        AttentionGradient gr = REFERENCE.attendBackward(a, ref, g);
        AttentionGradient gc = CPU.attendBackward(a, cpu, g);
        assertTrue(maxAbs(gr.queries()) > 1e-3 * beta, "a tie gives gradients of order beta, got " + maxAbs(gr.queries()));
        close(gr.queries(), gc.queries(), 2e-5, 0, "dq");
        close(gr.keys(), gc.keys(), 2e-5, 0, "dk");
        close(gr.values(), gc.values(), 2e-5, 0, "dv");
        finiteDifferences(REFERENCE, a, g, 1e-3 / beta, 1e-3, "reference beta " + beta);
        finiteDifferences(CPU, a, g, 1e-3 / beta, 1e-3, "cpu beta " + beta);
    }

    /** One stored row: the weight is 1 whatever β, so o = v, ∂v = ∂o and nothing else moves. */
    @ParameterizedTest(name = "beta {0}")
    @ValueSource(doubles = {1, 1e3, 1e9})
    void singleRowMemory(double beta) {
        Attention a = random(41, 3, 6, 1, 5, 2, beta);
        double[] g = uniform(new SplittableRandom(42), 3 * 6 * 2);
        for (Backend e : new Backend[] {REFERENCE, CPU}) {
            AttentionForward f = e.attend(a);
            AttentionGradient gr = e.attendBackward(a, f, g);
            for (int h = 0; h < 3; h++) {
                for (int b = 0; b < 6; b++) {
                    int qb = h * 6 + b;
                    assertEquals(0, f.logSumExp()[qb], 0, e.name() + " logSumExp");
                    assertEquals(0, f.entropy()[qb], 0, e.name() + " entropy");
                    for (int j = 0; j < 2; j++) {
                        assertEquals(a.values()[h * 2 + j], f.output()[qb * 2 + j], 1e-7, e.name() + " output");
                    }
                }
                for (int j = 0; j < 2; j++) {
                    double sum = 0;
                    for (int b = 0; b < 6; b++) {
                        sum += g[(h * 6 + b) * 2 + j];
                    }
                    assertEquals(sum, gr.values()[h * 2 + j], 1e-6, e.name() + " dv");
                }
            }
            assertEquals(0, maxAbs(gr.queries()), 0, e.name() + " dq");
            assertEquals(0, maxAbs(gr.keys()), 0, e.name() + " dk");
            assertEquals(0, gr.beta(), 0, e.name() + " dbeta");
        }
    }

    @Test
    void badInputIsRejectedInOneLine() {
        var e1 = assertThrows(IllegalArgumentException.class,
                () -> new Attention(1, 2, 3, 2, 1, new double[3], new double[6], new double[3], 1));
        assertEquals("queries has length 3, expected 4", e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class,
                () -> new Attention(1, 1, 1, 1, 1, new double[1], new double[] {Double.NaN}, new double[1], 1));
        assertEquals("keys[0] is NaN; every value must be finite", e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class,
                () -> new Attention(1, 1, 1, 1, 1, new double[1], new double[1], new double[1], 0));
        assertEquals("beta must be a finite number > 0, got 0.0", e3.getMessage());
        Attention a = random(1, 1, 2, 3, 2, 2, 1);
        AttentionForward f = REFERENCE.attend(a);
        var e4 = assertThrows(IllegalArgumentException.class, () -> CPU.attendBackward(a, f, new double[3]));
        assertEquals("outputGradient has length 3, expected 4", e4.getMessage());
        Attention huge = new Attention(1, 1, 1, 1, 1, new double[1], new double[1], new double[1], 1e39);
        var e6 = assertThrows(IllegalArgumentException.class, () -> CPU.attend(huge));
        assertEquals("beta = 1.0E39 overflows float32 on the cpu engine; use beta <= 3.4028235E38 or the reference"
                + " engine", e6.getMessage());
        AttentionForward wrong = new AttentionForward(new double[2], new double[1], new double[1], new double[1]);
        var e5 = assertThrows(IllegalArgumentException.class, () -> REFERENCE.attendBackward(a, wrong, new double[4]));
        assertTrue(e5.getMessage().startsWith("forward has output 2, max 1 values; this attention needs 4 and 2"),
                e5.getMessage());
    }
}
