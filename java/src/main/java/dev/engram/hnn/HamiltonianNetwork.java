package dev.engram.hnn;

import dev.engram.engine.EnsembleModel;

import java.util.Map;

/**
 * The general (non-separable) Hamiltonian neural network of Greydanus et al. (2019): a scalar tanh MLP
 * H_θ : R^(2n) → R on x = (q, p), and Hamilton's equations
 * <pre>
 *   dq/dt = ∂H/∂p,   dp/dt = −∂H/∂q
 * </pre>
 * ∇H comes from {@link Mlp#valueAndInputGradient}; the training gradient from the double backpropagation
 * {@link Mlp#backpropInputGradient} with ḡ = (∂H/∂q)̄, (∂H/∂p)̄ = (−dp̄, dq̄). Network: "H", widths [2n, hidden…, 1].
 */
public final class HamiltonianNetwork extends HamiltonianMlpField {
    public static final String KIND = "hnn";

    /** Loading constructor: networks {@code {"H": widths}} over θ. */
    HamiltonianNetwork(int dof, Map<String, int[]> widths, double[] theta) {
        Networks.requireDof(dof);
        int[] wh = widths.get("H");
        Networks.requireWidths(KIND, "H", wh, 2 * dof, 1, "2n", "1");
        super(dof, 0, theta, Networks.layout(theta, new String[] {"H"}, new int[][] {wh}), KIND);
    }

    /**
     * A Glorot-initialised network.
     *
     * @param dof    n ≥ 1
     * @param hidden hidden widths, e.g. {200, 200}
     * @param seed   same seed ⇒ same weights
     */
    public static HamiltonianNetwork create(int dof, int[] hidden, long seed) {
        Networks.requireDof(dof);
        int[] w = Networks.widths(2 * dof, hidden, 1);
        HamiltonianNetwork m = new HamiltonianNetwork(dof, Map.of("H", w), new double[Networks.count(w)]);
        Networks.init(m.nets, seed);
        return m;
    }

    /** The scalar network H_θ. */
    public Mlp hamiltonian() {
        return h;
    }

    @Override
    EnsembleModel ensembleModel(float[] inputs) {
        return new EnsembleModel.Hamiltonian(h.toWeights());
    }

    @Override
    public void predict(double[][] q, double[][] p, double[][] u, double[][] dq, double[][] dp) {
        Networks.checkBatch(n, 0, q, p, u, dq, dp);
        double[][] g = new double[q.length][2 * n];
        h.valueAndInputGradient(Networks.concat(q, p), null, g);
        for (int b = 0; b < q.length; b++) {
            for (int i = 0; i < n; i++) {
                dq[b][i] = g[b][n + i];
                dp[b][i] = -g[b][i];
            }
        }
    }

    @Override
    public void backprop(double[][] q, double[][] p, double[][] u, double[][] dqBar, double[][] dpBar,
                         double[] grad) {
        Networks.checkBatch(n, 0, q, p, u, dqBar, dpBar);
        double[][] gBar = new double[q.length][2 * n];
        for (int b = 0; b < q.length; b++) {
            for (int i = 0; i < n; i++) {
                gBar[b][i] = -dpBar[b][i];
                gBar[b][n + i] = dqBar[b][i];
            }
        }
        h.backpropInputGradient(Networks.concat(q, p), gBar, grad);
    }

    /**
     * Fused: one forward and one backward pass give ∇H, the loss and its adjoint (ḡ_q = −dp̄, ḡ_p = dq̄), and the
     * double backprop continues from there.
     */
    @Override
    public double squaredErrorBackprop(double[][] q, double[][] p, double[][] u, double[][] dqTarget,
                                       double[][] dpTarget, double scale, double[] grad) {
        Networks.checkBatch(n, 0, q, p, u, dqTarget, dpTarget);
        double[] sum = new double[1];
        h.backpropInputGradient(Networks.concat(q, p), g -> {
            double[][] gBar = new double[g.length][2 * n];
            double s = 0;
            for (int b = 0; b < g.length; b++) {
                for (int i = 0; i < n; i++) {
                    double eq = g[b][n + i] - dqTarget[b][i]; // dq/dt = ∂H/∂p
                    double ep = -g[b][i] - dpTarget[b][i];    // dp/dt = −∂H/∂q
                    s += eq * eq + ep * ep;
                    gBar[b][i] = -2 * ep * scale;
                    gBar[b][n + i] = 2 * eq * scale;
                }
            }
            sum[0] = s;
            return gBar;
        }, grad);
        return sum[0] * scale;
    }

    @Override
    public PhaseSpaceField field() {
        return PhaseSpaceField.of(this);
    }
}
