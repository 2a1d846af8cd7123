package dev.engram.hopfield;

import dev.engram.tensor.RandomSampling;

import java.util.Arrays;
import java.util.random.RandomGenerator;

/**
 * The classical binary Hopfield network (Hopfield 1982) of N bipolar neurons {@code s ∈ {−1, +1}^N}.
 *
 * <p>Hebbian storage of P patterns ξ<sup>μ</sup>: {@code W = (1/N)·Σ_μ ξ^μ ξ^μᵀ} with {@code W_ii = 0}.
 * Update of neuron i: {@code s_i ← sign(h_i)} with the local field {@code h_i = Σ_j W_ij s_j}; a zero field keeps
 * {@code s_i} (so an update never raises the energy). Energy {@code E(s) = −½·sᵀWs}. Asynchronous updates
 * (one neuron at a time) change the energy by {@code ΔE = −Δs_i·h_i ≤ 0}, so they never increase it and reach a
 * fixed point; synchronous updates (all neurons at once) may end in a 2-cycle instead.
 *
 * <p>Capacity: with random patterns, stored patterns stay (nearly) stable up to the load {@code P/N ≈ 0.138}
 * (Amit, Gutfreund &amp; Sompolinsky 1985), beyond which recall collapses.
 *
 * <p>The weights are kept as the exact integer sums {@code C = Σ_μ ξξᵀ} (so storing is exact and order-free);
 * {@code W = C/N}. Not thread-safe.
 */
public final class ClassicalHopfield {
    private final int n;
    private final int[] hebb;
    private int patterns;

    /** An empty network of {@code neurons} neurons (all weights 0). */
    public ClassicalHopfield(int neurons) {
        Checks.positive("neurons", neurons);
        if ((long) neurons * neurons > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("neurons=" + neurons + " is too large for a dense N×N weight matrix");
        }
        this.n = neurons;
        this.hebb = new int[neurons * neurons];
    }

    /** A network of N = {@code patterns[0].length} neurons storing every row of {@code patterns} (P×N, ±1). */
    public static ClassicalHopfield of(int[][] patterns) {
        if (patterns.length == 0) {
            throw new IllegalArgumentException("patterns has no rows");
        }
        ClassicalHopfield h = new ClassicalHopfield(patterns[0].length);
        for (int[] p : patterns) {
            h.requireState("pattern", p);
        }
        for (int[] p : patterns) {
            h.addOuter(p);
        }
        return h;
    }

    /** Stores one bipolar pattern (length N, entries ±1): {@code C += ξξᵀ} off the diagonal. */
    public void store(int[] pattern) {
        requireState("pattern", pattern);
        addOuter(pattern);
    }

    private void addOuter(int[] p) {
        for (int i = 0; i < n; i++) {
            int row = i * n;
            int pi = p[i];
            for (int j = 0; j < n; j++) {
                if (j != i) {
                    hebb[row + j] += pi * p[j];
                }
            }
        }
        patterns++;
    }

    /** Number of neurons N. */
    public int neurons() {
        return n;
    }

    /** Number of stored patterns P. */
    public int patternCount() {
        return patterns;
    }

    /** {@code W_ij = (1/N)·Σ_μ ξ_i^μ ξ_j^μ}, 0 on the diagonal. */
    public double weight(int i, int j) {
        return hebb[i * n + j] / (double) n;
    }

    /** Local field {@code h_i = Σ_j W_ij s_j} of neuron i. */
    public double field(int[] s, int i) {
        requireState("state", s);
        return fieldUnchecked(s, i) / (double) n;
    }

    private long fieldUnchecked(int[] s, int i) {
        long h = 0;
        int row = i * n;
        for (int j = 0; j < n; j++) {
            h += (long) hebb[row + j] * s[j];
        }
        return h;
    }

    /** {@code E(s) = −½·sᵀWs}. */
    public double energy(int[] s) {
        requireState("state", s);
        long e = 0;
        for (int i = 0; i < n; i++) {
            e += s[i] * fieldUnchecked(s, i);
        }
        return -0.5 * e / n;
    }

    /** One synchronous step: every neuron takes {@code sign(h_i)} of the old state (ties keep s_i). A new array. */
    public int[] updateSynchronous(int[] s) {
        requireState("state", s);
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            next[i] = signKeep(fieldUnchecked(s, i), s[i]);
        }
        return next;
    }

    /** Updates neuron {@code i} of {@code s} in place; returns whether it flipped. */
    public boolean updateNeuron(int[] s, int i) {
        requireState("state", s);
        if (i < 0 || i >= n) {
            throw new IllegalArgumentException("neuron index " + i + " outside 0.." + (n - 1));
        }
        return updateUnchecked(s, i);
    }

    private boolean updateUnchecked(int[] s, int i) {
        int v = signKeep(fieldUnchecked(s, i), s[i]);
        boolean flipped = v != s[i];
        s[i] = v;
        return flipped;
    }

    private static int signKeep(long h, int current) {
        return h > 0 ? 1 : h < 0 ? -1 : current;
    }

    /**
     * Asynchronous recall: sweeps over all neurons in a fresh random order each sweep, until a whole sweep flips
     * nothing (a fixed point) or {@code maxSweeps} sweeps are done.
     *
     * @param probe start state (length N, ±1); not modified
     */
    public Recall recallAsynchronous(int[] probe, int maxSweeps, RandomGenerator random) {
        requireState("probe", probe);
        Checks.positive("maxSweeps", maxSweeps);
        int[] s = probe.clone();
        int[] order = new int[n];
        Arrays.setAll(order, i -> i);
        for (int sweep = 1; sweep <= maxSweeps; sweep++) {
            RandomSampling.shuffle(order, random);
            boolean changed = false;
            for (int i : order) {
                changed |= updateUnchecked(s, i);
            }
            if (!changed) {
                return new Recall(s, sweep, true);
            }
        }
        return new Recall(s, maxSweeps, false);
    }

    /** Synchronous recall: steps until a fixed point ({@code converged}) or {@code maxSteps}. */
    public Recall recallSynchronous(int[] probe, int maxSteps) {
        requireState("probe", probe);
        Checks.positive("maxSteps", maxSteps);
        int[] s = probe.clone();
        for (int step = 1; step <= maxSteps; step++) {
            int[] next = updateSynchronous(s);
            if (Arrays.equals(next, s)) {
                return new Recall(s, step, true);
            }
            s = next;
        }
        return new Recall(s, maxSteps, false);
    }

    /** Fraction of the N bits where {@code a} and {@code b} differ. */
    public static double bitErrorRate(int[] a, int[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("states differ in length: " + a.length + " and " + b.length);
        }
        int d = 0;
        for (int i = 0; i < a.length; i++) {
            d += a[i] != b[i] ? 1 : 0;
        }
        return d / (double) a.length;
    }

    private void requireState(String name, int[] s) {
        if (s == null) {
            throw new IllegalArgumentException(name + " is null");
        }
        if (s.length != n) {
            throw new IllegalArgumentException(name + " has length " + s.length + " but the network has N=" + n + " neurons");
        }
        for (int i = 0; i < n; i++) {
            if (s[i] != 1 && s[i] != -1) {
                throw new IllegalArgumentException(name + " must be bipolar (±1), but element " + i + " is " + s[i]);
            }
        }
    }

    /**
     * The end of a recall.
     *
     * @param state     final state, length N
     * @param steps     sweeps (asynchronous) or steps (synchronous) taken
     * @param converged whether the final state is a fixed point
     */
    public record Recall(int[] state, int steps, boolean converged) {
    }
}
