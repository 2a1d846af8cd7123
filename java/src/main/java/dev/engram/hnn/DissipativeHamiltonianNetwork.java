package dev.engram.hnn;

import dev.engram.engine.EnsembleModel;

import java.util.Map;

/**
 * A Hamiltonian with learned, state-dependent damping:
 * <pre>
 *   dq/dt = ∂H/∂p,   dp/dt = −∂H/∂q − D(q, p) ⊙ ∂H/∂p,   D = softplus(R_θ(q, p)) ≥ 0
 * </pre>
 * H_θ : R^(2n) → R and R_θ : R^(2n) → R^n are tanh MLPs; D is a diagonal (per-coordinate) damping, non-negative by
 * construction, so dH/dt = −Σ_i D_i (∂H/∂p_i)² ≤ 0 along the model's own flow. Training gradient, with
 * g = ∇H: ḡ_q = −dp̄, ḡ_p = dq̄ − D ⊙ dp̄ (double backprop through H), and R̄ = −dp̄ ⊙ g_p ⊙ sigmoid(R)
 * (first-order backprop through R). Networks "H" [2n, hidden…, 1] then "D" [2n, dampingHidden…, n].
 * {@link #energy}/{@link #gradient} give the learned H (not conserved by this flow).
 */
public final class DissipativeHamiltonianNetwork extends HamiltonianMlpField {
    public static final String KIND = "dissipative";
    private final Mlp damping;

    DissipativeHamiltonianNetwork(int dof, Map<String, int[]> widths, double[] theta) {
        Networks.requireDof(dof);
        int[] wh = widths.get("H");
        int[] wd = widths.get("D");
        Networks.requireWidths(KIND, "H", wh, 2 * dof, 1, "2n", "1");
        Networks.requireWidths(KIND, "D", wd, 2 * dof, dof, "2n", "n");
        super(dof, 0, theta, Networks.layout(theta, new String[] {"H", "D"}, new int[][] {wh, wd}), KIND);
        this.damping = nets.get("D");
    }

    /**
     * @param hidden        hidden widths of H
     * @param dampingHidden hidden widths of the damping network (small, e.g. {16})
     */
    public static DissipativeHamiltonianNetwork create(int dof, int[] hidden, int[] dampingHidden, long seed) {
        Networks.requireDof(dof);
        int[] wh = Networks.widths(2 * dof, hidden, 1);
        int[] wd = Networks.widths(2 * dof, dampingHidden, dof);
        DissipativeHamiltonianNetwork m = new DissipativeHamiltonianNetwork(dof, Map.of("H", wh, "D", wd),
                new double[Networks.count(wh, wd)]);
        Networks.init(m.nets, seed);
        return m;
    }

    @Override
    EnsembleModel ensembleModel(float[] inputs) {
        return new EnsembleModel.Dissipative(h.toWeights(), damping.toWeights());
    }

    /** Writes D(q, p) ≥ 0 (length n) into {@code d}. */
    public void damping(double[] q, double[] p, double[] d) {
        damping.forward(Networks.concat(q, p), d);
        for (int i = 0; i < n; i++) {
            d[i] = Networks.softplus(d[i]);
        }
    }

    @Override
    public void predict(double[][] q, double[][] p, double[][] u, double[][] dq, double[][] dp) {
        Networks.checkBatch(n, 0, q, p, u, dq, dp);
        dissipativeField(h, damping, n, q, p, dq, dp);
    }

    @Override
    public void backprop(double[][] q, double[][] p, double[][] u, double[][] dqBar, double[][] dpBar,
                         double[] grad) {
        Networks.checkBatch(n, 0, q, p, u, dqBar, dpBar);
        dissipativeBackprop(h, damping, n, q, p, dqBar, dpBar, grad);
    }

    /** dq = g_p, dp = −g_q − softplus(R)⊙g_p per row; shared with the port-Hamiltonian model. */
    static void dissipativeField(Mlp h, Mlp damping, int n, double[][] q, double[][] p, double[][] dq,
                                 double[][] dp) {
        double[][] x = Networks.concat(q, p);
        double[][] g = new double[q.length][2 * n];
        h.valueAndInputGradient(x, null, g);
        double[][] r = new double[q.length][n];
        damping.forward(x, r);
        for (int b = 0; b < q.length; b++) {
            for (int i = 0; i < n; i++) {
                dq[b][i] = g[b][n + i];
                dp[b][i] = -g[b][i] - Networks.softplus(r[b][i]) * g[b][n + i];
            }
        }
    }

    /** The adjoint of {@link #dissipativeField}. */
    static void dissipativeBackprop(Mlp h, Mlp damping, int n, double[][] q, double[][] p, double[][] dqBar,
                                    double[][] dpBar, double[] grad) {
        double[][] x = Networks.concat(q, p);
        double[][] g = new double[q.length][2 * n];
        h.valueAndInputGradient(x, null, g);
        double[][] r = new double[q.length][n];
        damping.forward(x, r);
        double[][] gBar = new double[q.length][2 * n];
        double[][] rBar = new double[q.length][n];
        for (int b = 0; b < q.length; b++) {
            for (int i = 0; i < n; i++) {
                double d = Networks.softplus(r[b][i]);
                gBar[b][i] = -dpBar[b][i];
                gBar[b][n + i] = dqBar[b][i] - d * dpBar[b][i];
                rBar[b][i] = -dpBar[b][i] * g[b][n + i] * Networks.sigmoid(r[b][i]);
            }
        }
        h.backpropInputGradient(x, gBar, grad);
        damping.backpropParameters(x, rBar, grad);
    }
}
