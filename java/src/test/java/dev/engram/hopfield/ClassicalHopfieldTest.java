package dev.engram.hopfield;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassicalHopfieldTest {

    static int[] randomPattern(SplittableRandom rnd, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = rnd.nextBoolean() ? 1 : -1;
        }
        return p;
    }

    @Test
    void hebbianWeightsAndEnergyMatchTheClosedForm() {
        int[] a = {1, -1, 1, -1};
        int[] b = {1, 1, -1, -1};
        ClassicalHopfield h = ClassicalHopfield.of(new int[][] {a, b});
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                double w = i == j ? 0 : (a[i] * a[j] + b[i] * b[j]) / 4.0;
                assertEquals(w, h.weight(i, j), 0, "W(" + i + "," + j + ")");
            }
        }
        // E(a) = −½·Σ_{i≠j} W_ij a_i a_j = −½·(1/N)·Σ_{i≠j}(1 + a_i a_j b_i b_j) = −½·(12 + Σ_{i≠j} c_i c_j)/4, c = a∘b
        int[] c = {1, -1, -1, 1};
        double cross = 0;
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                cross += i == j ? 0 : c[i] * c[j];
            }
        }
        assertEquals(-0.5 * (12 + cross) / 4, h.energy(a), 1e-12);
        // orthogonal stored patterns are fixed points of both update modes
        assertArrayEquals(a, h.updateSynchronous(a));
        assertTrue(h.recallAsynchronous(b, 5, new SplittableRandom(1)).converged());
    }

    @Test
    void asynchronousUpdatesNeverIncreaseTheEnergy() {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int trial = 0; trial < 20; trial++) {
            int n = 30 + rnd.nextInt(50);
            ClassicalHopfield h = new ClassicalHopfield(n);
            int p = 1 + rnd.nextInt(n / 3);
            for (int k = 0; k < p; k++) {
                h.store(randomPattern(rnd, n));
            }
            int[] s = randomPattern(rnd, n);
            double e = h.energy(s);
            for (int step = 0; step < 5 * n; step++) {
                int i = rnd.nextInt(n);
                double field = h.field(s, i);
                int before = s[i];
                boolean flipped = h.updateNeuron(s, i);
                double e2 = h.energy(s);
                assertTrue(e2 <= e + 1e-12, "energy rose from " + e + " to " + e2);
                if (flipped) {
                    // ΔE = −Δs_i·h_i with Δs_i = ±2
                    assertEquals(-(s[i] - before) * field, e2 - e, 1e-9);
                }
                e = e2;
            }
        }
    }

    /** One pattern (1, −1) gives W_12 = −½; from (1, 1) synchronous updates flip both neurons forever. */
    @Test
    void synchronousUpdatesCanCycleWhereAsynchronousOnesConverge() {
        ClassicalHopfield h = ClassicalHopfield.of(new int[][] {{1, -1}});
        assertEquals(-0.5, h.weight(0, 1), 0);
        assertArrayEquals(new int[] {-1, -1}, h.updateSynchronous(new int[] {1, 1}));
        assertArrayEquals(new int[] {1, 1}, h.updateSynchronous(new int[] {-1, -1}));
        ClassicalHopfield.Recall sync = h.recallSynchronous(new int[] {1, 1}, 50);
        assertTrue(!sync.converged() && sync.steps() == 50, "a 2-cycle never converges");
        ClassicalHopfield.Recall async = h.recallAsynchronous(new int[] {1, 1}, 50, new SplittableRandom(5));
        assertTrue(async.converged());
        assertEquals(-0.5, h.energy(async.state()), 0, "a stored pattern or its negative: E = −½·2·W_12·(−1)");
    }

    @Test
    void synchronousRecallCleansANoisyProbeAtLowLoad() {
        SplittableRandom rnd = new SplittableRandom(3);
        int n = 200;
        int[][] ps = new int[10][];
        for (int k = 0; k < ps.length; k++) {
            ps[k] = randomPattern(rnd, n);
        }
        ClassicalHopfield h = ClassicalHopfield.of(ps);
        int[] probe = ps[4].clone();
        for (int i = 0; i < 30; i++) {
            probe[rnd.nextInt(n)] *= -1;
        }
        ClassicalHopfield.Recall r = h.recallSynchronous(probe, 20);
        assertTrue(r.converged());
        assertEquals(0, ClassicalHopfield.bitErrorRate(ps[4], r.state()), 0.01);
    }

    /**
     * Recall error against the load α = P/N: start at each stored pattern, run asynchronous updates to a fixed point,
     * count wrong bits. Theory (N → ∞): below α_c ≈ 0.138 the retrieval state sits within ~1.5% of the pattern;
     * above it retrieval is lost. At N = 100…400 the knee is smeared but lies where theory puts it.
     */
    @Test
    void capacityKneeNearPoint138TimesN() {
        double[] loads = {0.05, 0.08, 0.11, 0.14, 0.17, 0.20, 0.25};
        int[] sizes = {100, 200, 400};
        double[][] err = new double[sizes.length][loads.length];
        SplittableRandom rnd = new SplittableRandom(2026);
        System.out.println("classical Hopfield recall error (fraction of wrong bits) vs load P/N");
        System.out.print("     N");
        for (double a : loads) {
            System.out.printf("  %6.2f", a);
        }
        System.out.println();
        for (int s = 0; s < sizes.length; s++) {
            int n = sizes[s];
            int nets = 4 * 100 / n; // fewer networks for larger N: same number of bits per point
            System.out.printf("%6d", n);
            for (int l = 0; l < loads.length; l++) {
                int p = (int) Math.round(loads[l] * n);
                double sum = 0;
                int probes = 0;
                for (int net = 0; net < Math.max(1, nets); net++) {
                    int[][] ps = new int[p][];
                    for (int k = 0; k < p; k++) {
                        ps[k] = randomPattern(rnd, n);
                    }
                    ClassicalHopfield h = ClassicalHopfield.of(ps);
                    for (int k = 0; k < Math.min(p, 12); k++) {
                        ClassicalHopfield.Recall r = h.recallAsynchronous(ps[k], 100, rnd);
                        sum += ClassicalHopfield.bitErrorRate(ps[k], r.state());
                        probes++;
                    }
                }
                err[s][l] = sum / probes;
                System.out.printf("  %6.3f", err[s][l]);
            }
            System.out.println();
        }
        for (int s = 0; s < sizes.length; s++) {
            assertTrue(err[s][0] < 0.01, "N=" + sizes[s] + ": nearly perfect recall at load 0.05, got " + err[s][0]);
            assertTrue(err[s][2] < 0.03, "N=" + sizes[s] + ": still good at load 0.11, got " + err[s][2]);
            assertTrue(err[s][6] > 0.08, "N=" + sizes[s] + ": recall lost at load 0.25, got " + err[s][6]);
            // the knee: the first load whose error exceeds 3% lies between 0.11 and 0.20
            int knee = 0;
            while (knee < loads.length && err[s][knee] <= 0.03) {
                knee++;
            }
            assertTrue(knee >= 3 && knee <= 5, "N=" + sizes[s] + ": knee at load " + (knee < loads.length ? loads[knee] : "none"));
        }
        // the transition sharpens with N: at load 0.25 the largest network has lost more than the smallest at 0.11
        assertTrue(err[2][6] > err[0][2]);
        // where the error crosses 1.6%, the error of the retrieval state at α_c (overlap m ≈ 0.967, Amit et al.),
        // linearly interpolated between the measured loads: close to 0.138 for the two larger networks
        for (int s = 1; s < sizes.length; s++) {
            double crossing = crossing(loads, err[s], 0.016);
            System.out.printf("N=%d: error crosses 1.6%% at load %.3f%n", sizes[s], crossing);
            assertEquals(0.138, crossing, 0.025, "N=" + sizes[s]);
        }
    }

    /** The first load where {@code err} reaches {@code level}, linearly interpolated (NaN if never). */
    static double crossing(double[] loads, double[] err, double level) {
        for (int i = 1; i < loads.length; i++) {
            if (err[i] >= level && err[i - 1] < level) {
                return loads[i - 1] + (loads[i] - loads[i - 1]) * (level - err[i - 1]) / (err[i] - err[i - 1]);
            }
        }
        return Double.NaN;
    }

    @Test
    void badInputIsRejectedByName() {
        ClassicalHopfield h = new ClassicalHopfield(3);
        h.store(new int[] {1, -1, 1});
        var e1 = assertThrows(IllegalArgumentException.class, () -> h.store(new int[] {1, -1}));
        assertTrue(e1.getMessage().contains("pattern has length 2") && e1.getMessage().contains("N=3"), e1.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> h.store(new int[] {1, 0, 1}));
        assertTrue(e2.getMessage().contains("element 1 is 0"), e2.getMessage());
        var e3 = assertThrows(IllegalArgumentException.class, () -> new ClassicalHopfield(0));
        assertTrue(e3.getMessage().contains("neurons must be >= 1, got 0"), e3.getMessage());
        assertEquals(1, h.patternCount(), "rejected patterns are not stored");
        assertEquals(-1.0 / 3, h.weight(0, 1), 0);
    }
}
