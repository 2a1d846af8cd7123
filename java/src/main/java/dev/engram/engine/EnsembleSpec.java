package dev.engram.engine;

import java.util.Objects;

/**
 * A batched Monte-Carlo integration of N trajectories of a phase-space model: a Hamiltonian neural network
 * {@code H(q, p) = MLP(q, p)} (n degrees of freedom, {@code dq/dt = ∂H/∂p, dp/dt = −∂H/∂q}) or any other kind of
 * {@link EnsembleModel} (separable, dissipative, port-Hamiltonian with inputs u(t), the derivative baseline).
 *
 * <p>Trajectory i starts at {@code (q0, p0) + (σ_q·ξ_q, σ_p·ξ_p)} (or at row i of {@code initialStates}) and, after
 * each integrator step of size h, receives momentum noise {@code p += σ·√h·ξ}. Every ξ is a standard normal from
 * {@link Philox} keyed by (seed, i, step, draw), so results do not depend on how the work is split.
 *
 * @param model         what is integrated; {@link EnsembleModel.Hamiltonian} wraps MLP weights with input width 2n
 *                      (q then p) and output width 1
 * @param q0            n: base initial positions
 * @param p0            n: base initial momenta
 * @param initialStates N×2n row-major (q then p) explicit initial states, or null to use q0/p0 + perturbation
 * @param trajectories  N ≥ 1
 * @param dt            step size h > 0
 * @param steps         number of steps ≥ 1
 * @param sigmaQ        std of the initial perturbation of q (≥ 0)
 * @param sigmaP        std of the initial perturbation of p (≥ 0)
 * @param noise         σ of the momentum noise per √time (≥ 0)
 * @param seed          Philox key
 * @param sampleEvery   record states and energy every this many steps (and at the end); 0 = start and end only
 * @param keepPaths     keep every sampled state of every trajectory (S×N×2n floats), not just the quantiles
 * @param quantiles     levels in [0, 1] for the per-time quantiles, e.g. 0.05, 0.25, 0.5, 0.75, 0.95
 * @param scheme        integrator; must be one the model's kind supports ({@link EnsembleModel#supports})
 * @param taoOmega      coupling ω &gt; 0 of the two copies in {@link Scheme#TAO} (unused by the other schemes)
 */
public record EnsembleSpec(EnsembleModel model, float[] q0, float[] p0, float[] initialStates, int trajectories,
                           float dt, int steps, float sigmaQ, float sigmaP, float noise, long seed, int sampleEvery,
                           boolean keepPaths, double[] quantiles, Scheme scheme, double taoOmega) {

    /** Integration schemes the engines run in batch; which kinds accept which: {@link EnsembleModel}. */
    public enum Scheme {
        /**
         * The seed's leapfrog: {@code p ← p − h/2·∂H/∂q(q,p); q ← q + h·∂H/∂p(q,p); p ← p − h/2·∂H/∂q(q,p)}, three
         * gradient evaluations per step (H is not assumed separable). Symplectic and second order when H is
         * separable; on a general H it is explicit but only first order (use TAO there).
         */
        LEAPFROG,
        /**
         * Störmer–Verlet for H = T(p) + V(q): {@code p ← p − h/2·∇V(q); q ← q + h·∇T(p); p ← p − h/2·∇V(q)}. The
         * force ∇V(q) that ends a step starts the next (momentum noise does not change q), so a step costs one ∇V and
         * one ∇T. Symplectic, second order.
         */
        STORMER_VERLET,
        /**
         * Tao's explicit symplectic scheme for non-separable H (Phys. Rev. E 94, 043303, 2016), second order: the
         * phase space doubled to (q, p, x, y), {@code φ_A(h/2) ∘ φ_B(h/2) ∘ φ_C(h) ∘ φ_B(h/2) ∘ φ_A(h/2)}, four
         * gradient evaluations per step, coupling ω = {@link #taoOmega()}. The copy (x, y) starts at (q, p) and
         * receives the same momentum noise as p.
         */
        TAO,
        /** Classical Runge–Kutta 4 on the model's field: four field evaluations per step, not symplectic. */
        RK4
    }

    /** The coupling ω of {@link Scheme#TAO} unless set: ω·h ≲ 1 for the step sizes used here (Tao suggests 10…100). */
    public static final double DEFAULT_TAO_OMEGA = 20;

    /** The usual quantile levels of a fan chart. */
    public static final double[] FAN = {0.05, 0.25, 0.5, 0.75, 0.95};

    /** A general Hamiltonian H = MLP(q, p), as before kinds existed; Tao's ω at its default. */
    public EnsembleSpec(MlpWeights hamiltonian, float[] q0, float[] p0, float[] initialStates, int trajectories,
                        float dt, int steps, float sigmaQ, float sigmaP, float noise, long seed, int sampleEvery,
                        boolean keepPaths, double[] quantiles, Scheme scheme) {
        this(new EnsembleModel.Hamiltonian(hamiltonian), q0, p0, initialStates, trajectories, dt, steps, sigmaQ, sigmaP,
                noise, seed, sampleEvery, keepPaths, quantiles, scheme, DEFAULT_TAO_OMEGA);
    }

    public EnsembleSpec {
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(quantiles, "quantiles");
        if (!model.supports(scheme)) {
            throw new IllegalArgumentException("scheme " + scheme + " is not valid for a '" + model.kind()
                    + "' model; use " + validSchemes(model));
        }
        if (!(taoOmega > 0) || !Double.isFinite(taoOmega)) {
            throw new IllegalArgumentException("taoOmega must be a finite number > 0, got " + taoOmega);
        }
        int n = model.dof();
        int in = 2 * n;
        float[] u = model.inputs();
        if (u != null && (long) u.length != (long) steps * model.inputCount()) {
            throw new IllegalArgumentException("the model's input table has " + u.length / model.inputCount()
                    + " rows of m = " + model.inputCount() + ", expected one per step: steps = " + steps);
        }
        if (trajectories < 1) {
            throw new IllegalArgumentException("trajectories must be >= 1, got " + trajectories);
        }
        if (!(dt > 0) || !Float.isFinite(dt)) {
            throw new IllegalArgumentException("dt must be a finite number > 0, got " + dt);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        requireNonNegative("sigmaQ", sigmaQ);
        requireNonNegative("sigmaP", sigmaP);
        requireNonNegative("noise", noise);
        if (sampleEvery < 0) {
            throw new IllegalArgumentException("sampleEvery must be >= 0, got " + sampleEvery);
        }
        if (initialStates == null) {
            requireState("q0", q0, n);
            requireState("p0", p0, n);
            q0 = q0.clone();
            p0 = p0.clone();
        } else {
            if ((long) initialStates.length != (long) trajectories * 2 * n) {
                throw new IllegalArgumentException("initialStates has " + initialStates.length + " values, expected N×2n = "
                        + trajectories + "×" + 2 * n);
            }
            requireState("initialStates", initialStates, initialStates.length);
            initialStates = initialStates.clone();
            q0 = q0 == null ? new float[n] : q0.clone();
            p0 = p0 == null ? new float[n] : p0.clone();
        }
        for (double level : quantiles) {
            if (!(level >= 0 && level <= 1)) {
                throw new IllegalArgumentException("quantile levels must lie in [0, 1], got " + level);
            }
        }
        quantiles = quantiles.clone();
        long samples = sampleCount(steps, sampleEvery);
        if (samples * trajectories * (in + 1) > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("samples × trajectories × (2n+1) = " + samples + "×" + trajectories + "×"
                    + (in + 1) + " is too many to keep; raise sampleEvery or lower trajectories");
        }
    }

    private static void requireNonNegative(String name, float v) {
        if (!(v >= 0) || !Float.isFinite(v)) {
            throw new IllegalArgumentException(name + " must be a finite number >= 0, got " + v);
        }
    }

    private static void requireState(String name, float[] v, int n) {
        Objects.requireNonNull(v, name);
        if (v.length != n) {
            throw new IllegalArgumentException(name + " has " + v.length + " values, expected " + n);
        }
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] must be finite, got " + v[i]);
            }
        }
    }

    /**
     * A spec for a general Hamiltonian MLP from one initial state, with perturbation and noise, sampling every
     * {@code sampleEvery} steps, with leapfrog.
     */
    public static EnsembleSpec of(MlpWeights h, float[] q0, float[] p0, int trajectories, float dt, int steps,
                                  float sigmaQ, float sigmaP, float noise, long seed, int sampleEvery) {
        return of(new EnsembleModel.Hamiltonian(h), q0, p0, trajectories, dt, steps, sigmaQ, sigmaP, noise, seed,
                sampleEvery);
    }

    /** The same for any kind of model, with the kind's default scheme ({@link EnsembleModel#defaultScheme()}). */
    public static EnsembleSpec of(EnsembleModel model, float[] q0, float[] p0, int trajectories, float dt, int steps,
                                  float sigmaQ, float sigmaP, float noise, long seed, int sampleEvery) {
        return new EnsembleSpec(model, q0, p0, null, trajectories, dt, steps, sigmaQ, sigmaP, noise, seed, sampleEvery,
                false, FAN, model.defaultScheme(), DEFAULT_TAO_OMEGA);
    }

    /** The same spec with another scheme. */
    public EnsembleSpec withScheme(Scheme s) {
        return new EnsembleSpec(model, q0, p0, initialStates, trajectories, dt, steps, sigmaQ, sigmaP, noise, seed,
                sampleEvery, keepPaths, quantiles, s, taoOmega);
    }

    /** The same spec keeping (or not) every sampled path. */
    public EnsembleSpec withKeepPaths(boolean keep) {
        return new EnsembleSpec(model, q0, p0, initialStates, trajectories, dt, steps, sigmaQ, sigmaP, noise, seed,
                sampleEvery, keep, quantiles, scheme, taoOmega);
    }

    /** The same spec with another coupling ω for {@link Scheme#TAO}. */
    public EnsembleSpec withTaoOmega(double omega) {
        return new EnsembleSpec(model, q0, p0, initialStates, trajectories, dt, steps, sigmaQ, sigmaP, noise, seed,
                sampleEvery, keepPaths, quantiles, scheme, omega);
    }

    /** n, degrees of freedom. */
    public int dof() {
        return model.dof();
    }

    /** The schemes {@code model} accepts, for error messages: "LEAPFROG, TAO or RK4". */
    static String validSchemes(EnsembleModel model) {
        java.util.List<String> ok = new java.util.ArrayList<>();
        for (Scheme s : Scheme.values()) {
            if (model.supports(s)) {
                ok.add(s.name());
            }
        }
        return ok.size() == 1 ? ok.get(0)
                : String.join(", ", ok.subList(0, ok.size() - 1)) + " or " + ok.get(ok.size() - 1);
    }

    /** The step indices at which states are sampled: 0, e, 2e, …, and always {@code steps}. */
    public int[] sampleSteps() {
        int count = (int) sampleCount(steps, sampleEvery);
        int[] s = new int[count];
        for (int i = 0; i < count - 1; i++) {
            s[i] = i * (sampleEvery == 0 ? steps : sampleEvery);
        }
        s[count - 1] = steps;
        return s;
    }

    private static long sampleCount(int steps, int every) {
        if (every == 0 || every >= steps) {
            return 2;
        }
        return (steps + every - 1) / every + 1;
    }

    @Override
    public String toString() {
        return "EnsembleSpec[" + model.kind() + ", N=" + trajectories + ", n=" + dof() + ", dt=" + dt + ", steps=" + steps
                + ", " + scheme + "]";
    }
}
