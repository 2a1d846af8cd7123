package dev.engram.hnn;

import dev.engram.engine.EnsembleModel;
import dev.engram.engine.TrainingModel;

import java.util.Map;

/**
 * A trainable phase-space model: parameters θ (one flat vector), a prediction of the time derivatives
 * (dq/dt, dp/dt) = f_θ(q, p, u) and the gradient of a loss on that prediction with respect to θ.
 * <p>
 * n = {@link #dof()} degrees of freedom; m = {@link #inputCount()} external inputs u (0 except for the
 * port-Hamiltonian model). The models: {@link HamiltonianNetwork} (general H(q, p)),
 * {@link SeparableHamiltonianNetwork} (H = T(p) + V(q)), {@link DissipativeHamiltonianNetwork},
 * {@link PortHamiltonianNetwork} and the non-Hamiltonian baseline {@link DerivativeNetwork}.
 * Implementations are thread-safe for concurrent {@link #predict}/{@link #backprop} calls while θ is not written.
 */
public sealed interface LearnedField permits NetworkField {

    /** n: q and p each have n components. */
    int dof();

    /** m: the length of the external input u (0 when the model has none). */
    int inputCount();

    /** A short name stored in model files: "hnn", "separable", "dissipative", "port", "baseline". */
    String kind();

    /** θ, live: the optimiser updates it in place. */
    double[] parameters();

    /** The networks by name ("H", "T", "V", "D", "G", "F"), each a view over a slice of {@link #parameters()}. */
    Map<String, Mlp> networks();

    /**
     * (dq/dt, dp/dt) = f_θ(q, p, u) for one state.
     *
     * @param q  length n
     * @param p  length n
     * @param u  length m (may be empty when m = 0)
     * @param dq dq/dt, length n, overwritten
     * @param dp dp/dt, length n, overwritten
     */
    default void predict(double[] q, double[] p, double[] u, double[] dq, double[] dp) {
        predict(new double[][] {q}, new double[][] {p}, new double[][] {u}, new double[][] {dq}, new double[][] {dp});
    }

    /**
     * (dq/dt, dp/dt) = f_θ(q, p, u) for a batch of B states (row b is one state).
     *
     * @param q  B×n
     * @param p  B×n
     * @param u  B×m (rows may be empty when m = 0)
     * @param dq B×n, overwritten
     * @param dp B×n, overwritten
     */
    void predict(double[][] q, double[][] p, double[][] u, double[][] dq, double[][] dp);

    /**
     * Adds ∂(dq̄·dq/dt + dp̄·dp/dt)/∂θ to {@code grad} (length {@code parameters().length}): the chain rule of any loss
     * on the predicted derivatives, given its adjoints dq̄ = ∂loss/∂(dq/dt) and dp̄ = ∂loss/∂(dp/dt) (each length n).
     */
    default void backprop(double[] q, double[] p, double[] u, double[] dqBar, double[] dpBar, double[] grad) {
        backprop(new double[][] {q}, new double[][] {p}, new double[][] {u}, new double[][] {dqBar},
                new double[][] {dpBar}, grad);
    }

    /**
     * Batched {@link #backprop(double[], double[], double[], double[], double[], double[])}: adds
     * Σ_b ∂(dq̄_b·dq/dt_b + dp̄_b·dp/dt_b)/∂θ to {@code grad}. All arrays B×n (u: B×m).
     */
    void backprop(double[][] q, double[][] p, double[][] u, double[][] dqBar, double[][] dpBar, double[] grad);

    /**
     * The squared-error loss of a batch and its gradient: returns L = s·Σ_b (‖dq/dt_b − dq*_b‖² + ‖dp/dt_b − dp*_b‖²)
     * and adds ∂L/∂θ to {@code grad}. The default predicts, then back-propagates the adjoints 2s·(prediction −
     * target); models may fuse the two passes (same result, less work).
     *
     * @param dqTarget B×n targets dq*
     * @param dpTarget B×n targets dp*
     * @param scale    s &gt; 0
     */
    default double squaredErrorBackprop(double[][] q, double[][] p, double[][] u, double[][] dqTarget,
                                        double[][] dpTarget, double scale, double[] grad) {
        Networks.checkBatch(dof(), inputCount(), q, p, u, dqTarget, dpTarget);
        int batch = q.length;
        int n = dof();
        double[][] dq = new double[batch][n];
        double[][] dp = new double[batch][n];
        predict(q, p, u, dq, dp);
        double sum = 0;
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < n; i++) {
                double eq = dq[b][i] - dqTarget[b][i];
                double ep = dp[b][i] - dpTarget[b][i];
                sum += eq * eq + ep * ep;
                dq[b][i] = 2 * eq * scale;
                dp[b][i] = 2 * ep * scale;
            }
        }
        backprop(q, p, u, dq, dp, grad);
        return sum * scale;
    }

    /**
     * The model for the training engines: its kind, n, m and the widths of its networks in θ order
     * ({@link TrainingModel}); θ itself is handed over at every step.
     */
    TrainingModel toTrainingModel();

    /** The model for the batched ensemble engines ({@link EnsembleModel}: plain float32 weights), with u = 0. */
    default EnsembleModel toEnsembleModel() {
        return toEnsembleModel(null);
    }

    /**
     * The model for the batched ensemble engines, driven by a table of inputs.
     *
     * @param inputs steps×m row-major u(t) on the integration grid, row i applying on [t_i, t_{i+1})
     *               (see {@link EnsembleModel}); null for u = 0; must be null when m = 0
     * @throws IllegalArgumentException if a parameter is not finite or the table does not fit m
     */
    EnsembleModel toEnsembleModel(float[] inputs);

    /**
     * The model as a field for integrators, with u = 0 for models that take inputs
     * ({@link PortHamiltonianNetwork#field(InputSignal)} gives one with inputs).
     */
    default PhaseSpaceField field() {
        LearnedField self = this;
        double[] zero = new double[inputCount()];
        return new PhaseSpaceField() {
            @Override
            public int dof() {
                return self.dof();
            }

            @Override
            public void derivatives(double t, double[] q, double[] p, double[] dq, double[] dp) {
                self.predict(q, p, zero, dq, dp);
            }
        };
    }

    /** u(t): the external inputs of a port-Hamiltonian model along time. */
    @FunctionalInterface
    interface InputSignal {
        /** Writes u(t) (length m) into {@code u}. */
        void at(double t, double[] u);
    }
}
