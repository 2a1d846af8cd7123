package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.hnn.AnalyticHamiltonians;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ensemble integration: CPU engine against the reference engine, thread-count independence, divergence flagging,
 * the oscillator's known answers through an MLP, bad input.
 *
 * <p>Tolerance: the CPU engine runs the MLP and the state in float32 (relative 2⁻²⁴ per operation), the reference in
 * double. Over 60 steps of a smooth, non-chaotic field with |state| ≲ 2 the difference stays below 2e-4; we allow
 * 1e-3 absolute on states, quantiles and energies.
 */
class EnsembleCrossCheckTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final CpuBackend CPU1 = new CpuBackend(new CpuBackend.Config(1, 128, 64, 2, 16384));
    private static final CpuBackend CPU3 = new CpuBackend(new CpuBackend.Config(3, 128, 64, 2, 16384));

    @AfterAll
    static void close() {
        CPU1.close();
        CPU3.close();
    }

    /** A random tanh MLP 2n → h → h → 1 with non-zero biases (Glorot weights scaled up to make the field lively). */
    static MlpWeights randomMlp(int n, int hidden, long seed) {
        MlpWeights g = MlpWeights.glorot(new int[] {2 * n, hidden, hidden, 1}, seed);
        SplittableRandom rnd = new SplittableRandom(seed + 1);
        float[][] w = g.weights();
        float[][] b = g.biases();
        for (int l = 0; l < w.length; l++) {
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] *= 1.5f;
            }
            for (int i = 0; i < b[l].length; i++) {
                b[l][i] = (float) (rnd.nextDouble() - 0.5);
            }
        }
        return new MlpWeights(g.widths(), w, b);
    }

    @ParameterizedTest(name = "n={0} hidden={1} N={2} {3} noise={4}")
    @CsvSource({"1, 16, 300, LEAPFROG, 0.05", "2, 24, 130, LEAPFROG, 0.0", "1, 8, 77, RK4, 0.1", "3, 32, 257, RK4, 0.02"})
    void cpuAgreesWithReference(int n, int hidden, int count, EnsembleSpec.Scheme scheme, float noise) {
        float[] q0 = new float[n];
        float[] p0 = new float[n];
        for (int j = 0; j < n; j++) {
            q0[j] = 0.5f - 0.3f * j;
            p0[j] = -0.2f + 0.25f * j;
        }
        EnsembleSpec spec = new EnsembleSpec(randomMlp(n, hidden, 11 + n), q0, p0, null, count, 0.05f, 60, 0.1f, 0.2f,
                noise, 99, 7, true, EnsembleSpec.FAN, scheme);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult cpu = CPU3.integrate(spec);
        assertEquals(0, ref.divergedCount());
        assertEquals(0, cpu.divergedCount());
        assertArrayEquals(ref.sampleSteps(), cpu.sampleSteps());
        assertClose(ref.finalStates(), cpu.finalStates(), 1e-3, "final states");
        assertClose(ref.initialEnergy(), cpu.initialEnergy(), 1e-3, "initial energy");
        assertClose(ref.finalEnergy(), cpu.finalEnergy(), 1e-3, "final energy");
        assertClose(ref.quantiles(), cpu.quantiles(), 1e-3, "quantiles");
        assertClose(ref.paths(), cpu.paths(), 1e-3, "paths");
        // quantiles are ordered and the median of q at step 0 is near q0 (perturbation σ = 0.1)
        assertTrue(cpu.quantile(0, 0, 0) <= cpu.quantile(0, 0, 2) && cpu.quantile(0, 0, 2) <= cpu.quantile(0, 0, 4));
        assertEquals(q0[0], cpu.quantile(0, 0, 2), 0.05);
    }

    private static void assertClose(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double worst = 0;
        int at = -1;
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs(expected[i] - actual[i]);
            if (d > worst || Double.isNaN(d)) {
                worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
                at = i;
            }
        }
        assertTrue(worst <= tol, what + ": max |Δ| = " + worst + " at " + at + " (tolerance " + tol + ")");
    }

    @Test
    void progressCountsEveryTrajectoryOnce() {
        EnsembleSpec spec = EnsembleSpec.of(randomMlp(1, 8, 2), new float[] {0.1f}, new float[] {0.3f}, 1000, 0.02f, 5,
                0.1f, 0.1f, 0f, 7, 0);
        for (Backend engine : new Backend[] {REFERENCE, CPU3}) {
            java.util.concurrent.atomic.AtomicLong calls = new java.util.concurrent.atomic.AtomicLong();
            java.util.concurrent.atomic.AtomicLong last = new java.util.concurrent.atomic.AtomicLong();
            engine.integrate(spec, done -> {
                calls.incrementAndGet();
                last.accumulateAndGet(done, Math::max);
            });
            assertEquals(1000, last.get(), engine.name() + ": final count");
            assertEquals(100, calls.get(), engine.name() + ": one report per 1% (10 trajectories)");
        }
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        EnsembleSpec spec = EnsembleSpec.of(randomMlp(2, 16, 5), new float[] {0.1f, -0.4f}, new float[] {0.3f, 0.2f},
                1000, 0.02f, 40, 0.3f, 0.3f, 0.2f, 7, 10);
        EnsembleResult a = CPU1.integrate(spec);
        EnsembleResult b = CPU3.integrate(spec);
        assertArrayEquals(a.finalStates(), b.finalStates());
        assertArrayEquals(a.quantiles(), b.quantiles());
        assertArrayEquals(a.finalEnergy(), b.finalEnergy());
    }

    @Test
    void oscillatorThroughAnMlpKeepsLeapfrogEnergyBoundedAndReturnsAfterOnePeriod() {
        MlpWeights h = AnalyticHamiltonians.quadraticMlp(0.05);
        int steps = 629; // ≈ 2π / 0.01
        EnsembleSpec spec = new EnsembleSpec(h, new float[] {1f}, new float[] {0f}, null, 40, 0.01f, steps, 0f, 0f, 0f,
                1, 1, true, EnsembleSpec.FAN, EnsembleSpec.Scheme.LEAPFROG);
        for (Backend engine : new Backend[] {REFERENCE, CPU3}) {
            EnsembleResult r = engine.integrate(spec);
            double e0 = r.quantile(0, 2, 2);
            double maxDe = 0;
            for (int s = 0; s < r.sampleSteps().length; s++) {
                maxDe = Math.max(maxDe, Math.abs(r.quantile(s, 2, 2) - e0));
            }
            // the MLP equals (q² + p²)/2 to O(ε²) ≈ 0.3 %; leapfrog's own swing is h²/8 ≈ 1e-5
            assertTrue(maxDe < 0.01 * e0, engine.name() + ": energy swing " + maxDe + " of " + e0);
            double t = steps * 0.01;
            assertEquals(Math.cos(t), r.finalState(0, 0), 0.02, engine.name() + ": q after one period");
            assertEquals(-Math.sin(t), r.finalState(0, 1), 0.02, engine.name() + ": p after one period");
        }
    }

    @Test
    void divergingTrajectoriesAreFlaggedNotPropagated() {
        // momentum noise of 3e38·√h overflows float32 whenever |ξ| > ~1.1: those trajectories must stop and be
        // reported. Same counter-based normals on both engines; float32 vs double arithmetic near the float limit may
        // move the overflow by one step.
        EnsembleSpec spec = new EnsembleSpec(AnalyticHamiltonians.quadraticMlp(0.05), new float[] {1f}, new float[] {0f},
                null, 20, 1f, 50, 0.1f, 0f, 3e38f, 3, 5, false, EnsembleSpec.FAN, EnsembleSpec.Scheme.LEAPFROG);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult cpu = CPU3.integrate(spec);
        assertTrue(ref.divergedCount() > 10, "diverged: " + ref.divergedCount());
        for (int i = 0; i < 20; i++) {
            int a = ref.divergedAtStep()[i];
            int c = cpu.divergedAtStep()[i];
            assertEquals(a >= 0, c >= 0, "trajectory " + i + " diverged on one engine only: " + a + " vs " + c);
            assertTrue(Math.abs(a - c) <= 1, "trajectory " + i + " diverged at " + a + " vs " + c);
        }
        for (EnsembleResult r : new EnsembleResult[] {ref, cpu}) {
            for (int i = 0; i < r.trajectories(); i++) {
                for (int j = 0; j < 2; j++) {
                    assertTrue(Float.isFinite(r.finalState(i, j)), "non-finite state propagated");
                }
                if (r.divergedAtStep()[i] >= 0) {
                    assertTrue(r.divergedAtStep()[i] >= 1 && r.divergedAtStep()[i] <= 50);
                    assertTrue(Float.isNaN(r.finalEnergy()[i]));
                }
            }
        }
    }

    @Test
    void badSpecsAreRejectedWithTheirName() {
        MlpWeights h = randomMlp(1, 4, 1);
        float[] q = {0f};
        float[] p = {0f};
        assertMessage(() -> EnsembleSpec.of(h, q, p, 10, 0f, 5, 0, 0, 0, 1, 0), "dt");
        assertMessage(() -> EnsembleSpec.of(h, q, p, 10, 0.1f, 0, 0, 0, 0, 1, 0), "steps");
        assertMessage(() -> EnsembleSpec.of(h, q, p, 0, 0.1f, 5, 0, 0, 0, 1, 0), "trajectories");
        assertMessage(() -> EnsembleSpec.of(h, new float[] {Float.NaN}, p, 10, 0.1f, 5, 0, 0, 0, 1, 0), "q0[0]");
        assertMessage(() -> EnsembleSpec.of(h, q, new float[] {0f, 1f}, 10, 0.1f, 5, 0, 0, 0, 1, 0), "p0");
        assertMessage(() -> EnsembleSpec.of(h, q, p, 10, 0.1f, 5, -1, 0, 0, 1, 0), "sigmaQ");
        assertMessage(() -> EnsembleSpec.of(h, q, p, 10, Float.NaN, 5, 0, 0, 0, 1, 0), "dt");
        MlpWeights vectorOut = new MlpWeights(new int[] {2, 3, 2}, new float[][] {new float[6], new float[6]},
                new float[][] {new float[3], new float[2]});
        assertMessage(() -> EnsembleSpec.of(vectorOut, q, p, 10, 0.1f, 5, 0, 0, 0, 1, 0), "output width");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String part) {
        var e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should mention " + part);
    }
}
