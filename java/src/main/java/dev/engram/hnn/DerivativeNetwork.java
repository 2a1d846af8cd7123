package dev.engram.hnn;

import dev.engram.engine.EnsembleModel;

import java.util.Map;

/**
 * The baseline of Greydanus et al. (2019): a tanh MLP that predicts the time derivatives directly, with no
 * Hamiltonian structure,
 * <pre>
 *   (dq/dt, dp/dt) = F_θ(q, p[, u]),   F_θ : R^(2n+m) → R^(2n)
 * </pre>
 * Training gradient: first-order backprop of (dq̄, dp̄). Network "F" [2n + m, hidden…, 2n].
 */
public final class DerivativeNetwork extends NetworkField {
    public static final String KIND = "baseline";
    private final Mlp f;

    DerivativeNetwork(int dof, int inputs, Map<String, int[]> widths, double[] theta) {
        Networks.requireDof(dof);
        if (inputs < 0) {
            throw new IllegalArgumentException("baseline model: inputs m must be >= 0, got " + inputs);
        }
        int[] wf = widths.get("F");
        Networks.requireWidths(KIND, "F", wf, 2 * dof + inputs, 2 * dof, "2n+m", "2n");
        super(dof, inputs, theta, Networks.layout(theta, new String[] {"F"}, new int[][] {wf}), KIND);
        this.f = nets.get("F");
    }

    /**
     * @param dof    n ≥ 1
     * @param inputs m ≥ 0 external inputs appended to the network input
     * @param hidden hidden widths
     */
    public static DerivativeNetwork create(int dof, int inputs, int[] hidden, long seed) {
        Networks.requireDof(dof);
        int[] w = Networks.widths(2 * dof + Math.max(inputs, 0), hidden, 2 * dof);
        DerivativeNetwork model = new DerivativeNetwork(dof, inputs, Map.of("F", w), new double[Networks.count(w)]);
        Networks.init(model.nets, seed);
        return model;
    }

    @Override
    EnsembleModel ensembleModel(float[] inputs) {
        return new EnsembleModel.Derivative(f.toWeights(), inputs);
    }

    private double[][] input(double[][] q, double[][] p, double[][] u) {
        double[][] x = new double[q.length][2 * n + m];
        for (int b = 0; b < q.length; b++) {
            System.arraycopy(q[b], 0, x[b], 0, n);
            System.arraycopy(p[b], 0, x[b], n, n);
            System.arraycopy(u[b], 0, x[b], 2 * n, m);
        }
        return x;
    }

    @Override
    public void predict(double[][] q, double[][] p, double[][] u, double[][] dq, double[][] dp) {
        Networks.checkBatch(n, m, q, p, u, dq, dp);
        double[][] y = new double[q.length][2 * n];
        f.forward(input(q, p, u), y);
        for (int b = 0; b < q.length; b++) {
            System.arraycopy(y[b], 0, dq[b], 0, n);
            System.arraycopy(y[b], n, dp[b], 0, n);
        }
    }

    @Override
    public void backprop(double[][] q, double[][] p, double[][] u, double[][] dqBar, double[][] dpBar,
                         double[] grad) {
        Networks.checkBatch(n, m, q, p, u, dqBar, dpBar);
        double[][] yBar = new double[q.length][];
        for (int b = 0; b < q.length; b++) {
            yBar[b] = Networks.concat(dqBar[b], dpBar[b]);
        }
        f.backpropParameters(input(q, p, u), yBar, grad);
    }
}
