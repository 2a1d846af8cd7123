package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.tensor.FloatMatrix;

import java.util.Objects;

/**
 * The continuous ("modern") Hopfield network of Ramsauer et al. 2020, "Hopfield Networks is All You Need".
 *
 * <p>Stored patterns X (M×d, the rows x_i) and a state ξ ∈ R^d. Update rule (one step = one attention read with V = X):
 * <pre>
 *   ξ ← Xᵀ·softmax(β·X·ξ)
 * </pre>
 * Energy:
 * <pre>
 *   E(ξ) = −lse(β, X·ξ) + ½·ξᵀξ + β⁻¹·log M + ½·max_i ‖x_i‖²,   lse(β, z) = β⁻¹·log Σ_i exp(β·z_i)
 * </pre>
 * The update is the concave–convex procedure for E, so E never increases along updates (Theorem 1 of the paper);
 * the tests check this as a property. Default β is {@code 1/√d}, the scaled dot-product attention temperature.
 *
 * <p>Every update and every energy goes through the {@link Backend} contract, so the network runs on any engine:
 * the update is {@code retrieve(memory, states)} with V = X, and {@code lse} comes from the mergeable partial
 * state ({@code log Σ e^(s_i) = m + log l}). The memory is borrowed, not owned: the caller closes it.
 */
public final class ContinuousHopfield {
    private final PatternMemory memory;
    private final Backend engine;
    private final float beta;
    private final double halfMaxNormSquared;

    /**
     * @param memory stored patterns with V = X (made by {@link PatternMemory#of(FloatMatrix)}), at least one
     * @param engine the engine every retrieval runs on
     * @param beta   inverse temperature, finite and > 0
     */
    public ContinuousHopfield(PatternMemory memory, Backend engine, float beta) {
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(engine, "engine");
        if (!memory.valuesArePatterns()) {
            throw new IllegalArgumentException("a Hopfield memory must have V = X, but this one stores values of dv="
                    + memory.valueDim());
        }
        if (memory.size() == 0) {
            throw new IllegalArgumentException("memory is empty: a Hopfield network needs at least one stored pattern");
        }
        Checks.positiveFinite("beta", beta);
        this.memory = memory;
        this.engine = engine;
        this.beta = beta;
        FloatMatrix norms = memory.norms();
        double maxNorm = 0;
        for (long i = 0; i < norms.rows(); i++) {
            maxNorm = Math.max(maxNorm, norms.get(i, 0));
        }
        this.halfMaxNormSquared = 0.5 * maxNorm * maxNorm;
    }

    /** A network with the default β = 1/√d. */
    public ContinuousHopfield(PatternMemory memory, Backend engine) {
        this(memory, engine, defaultBeta(memory.dim()));
    }

    /** β = 1/√d. */
    public static float defaultBeta(int dim) {
        Checks.positive("dim", dim);
        return (float) (1.0 / Math.sqrt(dim));
    }

    public float beta() {
        return beta;
    }

    public PatternMemory memory() {
        return memory;
    }

    /**
     * One update of every state: {@code ξ_b ← Xᵀ·softmax(β·X·ξ_b)}.
     *
     * @param states B×d
     * @return B×d new states (the caller closes it)
     */
    public FloatMatrix update(FloatMatrix states) {
        float[] out = engine.retrieve(memory, states, new RetrievalParams(beta, 0)).output();
        return FloatMatrix.of(out, states.rows(), memory.dim());
    }

    /**
     * {@code E(ξ_b)} for every state (see the class comment), in double.
     *
     * @param states B×d
     * @return B energies
     */
    public double[] energy(FloatMatrix states) {
        RetrievalPartial p = engine.retrievePartial(memory, 0, memory.size(), states, new RetrievalParams(beta, 0));
        int batch = (int) states.rows();
        double[] e = new double[batch];
        double logM = Math.log(memory.size());
        float[] row = new float[memory.dim()];
        for (int b = 0; b < batch; b++) {
            // log Σ_i exp(β·x_i·ξ) = m + log l, from the engine's partial state
            double lse = (p.max(b) + Math.log(p.sum(b))) / beta;
            states.copyRow(b, row, 0);
            double sq = 0;
            for (float f : row) {
                sq += (double) f * f;
            }
            e[b] = -lse + 0.5 * sq + logM / beta + halfMaxNormSquared;
        }
        return e;
    }

    /**
     * Updates the states until no component moves by more than {@code tolerance} (max norm over the batch) or
     * {@code maxSteps} updates are done.
     *
     * @param states    B×d start states; not modified
     * @param maxSteps  at least 1
     * @param tolerance ≥ 0; 0 runs exactly {@code maxSteps} updates unless a step changes nothing
     */
    public Retrieval retrieve(FloatMatrix states, int maxSteps, double tolerance) {
        Checks.positive("maxSteps", maxSteps);
        if (!(tolerance >= 0) || !Double.isFinite(tolerance)) {
            throw new IllegalArgumentException("tolerance must be a finite number >= 0, got " + tolerance);
        }
        Checks.columns("states", states, memory.dim());
        states.requireFinite("states");
        FloatMatrix current = states.copy();
        for (int step = 1; step <= maxSteps; step++) {
            FloatMatrix next = update(current);
            double moved = maxAbsDifference(current, next);
            current.close();
            current = next;
            if (moved <= tolerance) {
                return new Retrieval(current, step, true);
            }
        }
        return new Retrieval(current, maxSteps, false);
    }

    private static double maxAbsDifference(FloatMatrix a, FloatMatrix b) {
        float[] x = a.toArray();
        float[] y = b.toArray();
        double m = 0;
        for (int i = 0; i < x.length; i++) {
            m = Math.max(m, Math.abs(x[i] - y[i]));
        }
        return m;
    }

    /**
     * The result of {@link #retrieve}; owns {@code states}.
     *
     * @param states    B×d final states
     * @param steps     updates done
     * @param converged whether the last update moved no component by more than the tolerance
     */
    public record Retrieval(FloatMatrix states, int steps, boolean converged) implements AutoCloseable {
        @Override
        public void close() {
            states.close();
        }
    }
}
