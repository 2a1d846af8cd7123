package dev.engram.hnn;

import dev.engram.engine.EnsembleModel;

import java.util.Map;

/**
 * A port-Hamiltonian model driven by external inputs u(t) ∈ R^m (for markets e.g. funding rate, open-interest
 * change, liquidations):
 * <pre>
 *   dq/dt = ∂H/∂p,   dp/dt = −∂H/∂q − D(q, p) ⊙ ∂H/∂p + G(q)·u,   D = softplus(R_θ(q, p)) ≥ 0
 * </pre>
 * H_θ : R^(2n) → R, R_θ : R^(2n) → R^n and the input map G_θ : R^n → R^(n×m) (row-major, G_ij = output i·m + j)
 * are tanh MLPs. The inputs enter as a generalised force on p. Training gradient: as
 * {@link DissipativeHamiltonianNetwork} for H and R, and Ḡ_ij = dp̄_i·u_j backpropagated through G.
 * Networks "H" [2n, hidden…, 1], "D" [2n, dampingHidden…, n], "G" [n, inputHidden…, n·m], in that order in θ.
 */
public final class PortHamiltonianNetwork extends HamiltonianMlpField {
    public static final String KIND = "port";
    private final Mlp damping;
    private final Mlp inputMap;

    PortHamiltonianNetwork(int dof, int inputs, Map<String, int[]> widths, double[] theta) {
        Networks.requireDof(dof);
        if (inputs < 1) {
            throw new IllegalArgumentException("port model: inputs m must be >= 1, got " + inputs);
        }
        int[] wh = widths.get("H");
        int[] wd = widths.get("D");
        int[] wg = widths.get("G");
        Networks.requireWidths(KIND, "H", wh, 2 * dof, 1, "2n", "1");
        Networks.requireWidths(KIND, "D", wd, 2 * dof, dof, "2n", "n");
        Networks.requireWidths(KIND, "G", wg, dof, dof * inputs, "n", "n·m");
        super(dof, inputs, theta, Networks.layout(theta, new String[] {"H", "D", "G"}, new int[][] {wh, wd, wg}), KIND);
        this.damping = nets.get("D");
        this.inputMap = nets.get("G");
    }

    /**
     * @param dof           n ≥ 1
     * @param inputs        m ≥ 1
     * @param hidden        hidden widths of H
     * @param dampingHidden hidden widths of the damping network
     * @param inputHidden   hidden widths of the input map G
     */
    public static PortHamiltonianNetwork create(int dof, int inputs, int[] hidden, int[] dampingHidden,
                                                int[] inputHidden, long seed) {
        Networks.requireDof(dof);
        int[] wh = Networks.widths(2 * dof, hidden, 1);
        int[] wd = Networks.widths(2 * dof, dampingHidden, dof);
        int[] wg = Networks.widths(dof, inputHidden, dof * Math.max(inputs, 1));
        PortHamiltonianNetwork model = new PortHamiltonianNetwork(dof, inputs, Map.of("H", wh, "D", wd, "G", wg),
                new double[Networks.count(wh, wd, wg)]);
        Networks.init(model.nets, seed);
        return model;
    }

    @Override
    EnsembleModel ensembleModel(float[] inputs) {
        return new EnsembleModel.PortHamiltonian(h.toWeights(), damping.toWeights(), inputMap.toWeights(), inputs);
    }

    /** Writes G(q) (n×m row-major, length n·m) into {@code g}. */
    public void inputMap(double[] q, double[] g) {
        inputMap.forward(q, g);
    }

    @Override
    public void predict(double[][] q, double[][] p, double[][] u, double[][] dq, double[][] dp) {
        Networks.checkBatch(n, m, q, p, u, dq, dp);
        DissipativeHamiltonianNetwork.dissipativeField(h, damping, n, q, p, dq, dp);
        double[][] g = new double[q.length][n * m];
        inputMap.forward(q, g);
        for (int b = 0; b < q.length; b++) {
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < m; j++) {
                    s += g[b][i * m + j] * u[b][j];
                }
                dp[b][i] += s;
            }
        }
    }

    @Override
    public void backprop(double[][] q, double[][] p, double[][] u, double[][] dqBar, double[][] dpBar,
                         double[] grad) {
        Networks.checkBatch(n, m, q, p, u, dqBar, dpBar);
        DissipativeHamiltonianNetwork.dissipativeBackprop(h, damping, n, q, p, dqBar, dpBar, grad);
        double[][] gBar = new double[q.length][n * m];
        for (int b = 0; b < q.length; b++) {
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    gBar[b][i * m + j] = dpBar[b][i] * u[b][j];
                }
            }
        }
        inputMap.backpropParameters(q, gBar, grad);
    }

    /** The model as a field for integrators, driven by u(t). */
    public PhaseSpaceField field(InputSignal input) {
        PortHamiltonianNetwork self = this;
        return new PhaseSpaceField() {
            @Override
            public int dof() {
                return n;
            }

            @Override
            public void derivatives(double t, double[] q, double[] p, double[] dq, double[] dp) {
                double[] u = new double[m];
                input.at(t, u);
                self.predict(q, p, u, dq, dp);
            }
        };
    }
}
