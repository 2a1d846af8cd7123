package dev.engram.hnn;

import dev.engram.engine.EnsembleModel;

import java.util.Map;

/**
 * A separable Hamiltonian H(q, p) = T(p) + V(q) with two scalar tanh MLPs, kinetic T_θ : R^n → R and potential
 * V_θ : R^n → R:
 * <pre>
 *   dq/dt = ∂H/∂p = ∇T(p),   dp/dt = −∂H/∂q = −∇V(q)
 * </pre>
 * The form Störmer–Verlet needs. Training gradient: double backprop through T with ḡ = dq̄ and through V with
 * ḡ = −dp̄. Networks "T" [n, hidden…, 1] then "V" [n, hidden…, 1], in that order in θ.
 */
public final class SeparableHamiltonianNetwork extends NetworkField implements HamiltonianGradient {
    public static final String KIND = "separable";
    private final Mlp kinetic;
    private final Mlp potential;

    SeparableHamiltonianNetwork(int dof, Map<String, int[]> widths, double[] theta) {
        Networks.requireDof(dof);
        int[] wt = widths.get("T");
        int[] wv = widths.get("V");
        Networks.requireWidths(KIND, "T", wt, dof, 1, "n", "1");
        Networks.requireWidths(KIND, "V", wv, dof, 1, "n", "1");
        super(dof, 0, theta, Networks.layout(theta, new String[] {"T", "V"}, new int[][] {wt, wv}), KIND);
        this.kinetic = nets.get("T");
        this.potential = nets.get("V");
    }

    /** T and V each [n, hidden…, 1], Glorot-initialised from {@code seed}. */
    public static SeparableHamiltonianNetwork create(int dof, int[] hidden, long seed) {
        Networks.requireDof(dof);
        int[] w = Networks.widths(dof, hidden, 1);
        SeparableHamiltonianNetwork m = new SeparableHamiltonianNetwork(dof, Map.of("T", w, "V", w),
                new double[Networks.count(w, w)]);
        Networks.init(m.nets, seed);
        return m;
    }

    @Override
    public double energy(double[] q, double[] p) {
        double[] t = new double[1];
        double[] v = new double[1];
        kinetic.forward(p, t);
        potential.forward(q, v);
        return t[0] + v[0];
    }

    @Override
    public void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp) {
        Networks.checkState(n, q, p, dHdq, dHdp);
        Networks.checkFinite("q", q, 0);
        Networks.checkFinite("p", p, 0);
        potential.valueAndInputGradient(q, dHdq);
        kinetic.valueAndInputGradient(p, dHdp);
    }

    /** ∇V(q) (length n) into {@code out}: what Störmer–Verlet evaluates once per step. */
    public void potentialGradient(double[] q, double[] out) {
        potential.valueAndInputGradient(q, out);
    }

    /** ∇T(p) (length n) into {@code out}. */
    public void kineticGradient(double[] p, double[] out) {
        kinetic.valueAndInputGradient(p, out);
    }

    @Override
    EnsembleModel ensembleModel(float[] inputs) {
        return new EnsembleModel.Separable(kinetic.toWeights(), potential.toWeights());
    }

    @Override
    public void predict(double[][] q, double[][] p, double[][] u, double[][] dq, double[][] dp) {
        Networks.checkBatch(n, 0, q, p, u, dq, dp);
        double[][] gv = new double[q.length][n];
        kinetic.valueAndInputGradient(p, null, dq);
        potential.valueAndInputGradient(q, null, gv);
        for (int b = 0; b < q.length; b++) {
            for (int i = 0; i < n; i++) {
                dp[b][i] = -gv[b][i];
            }
        }
    }

    @Override
    public void backprop(double[][] q, double[][] p, double[][] u, double[][] dqBar, double[][] dpBar,
                         double[] grad) {
        Networks.checkBatch(n, 0, q, p, u, dqBar, dpBar);
        double[][] vBar = new double[q.length][n];
        for (int b = 0; b < q.length; b++) {
            for (int i = 0; i < n; i++) {
                vBar[b][i] = -dpBar[b][i];
            }
        }
        kinetic.backpropInputGradient(p, dqBar, grad);
        potential.backpropInputGradient(q, vBar, grad);
    }

    @Override
    public PhaseSpaceField field() {
        return PhaseSpaceField.of(this);
    }
}
