package dev.engram.hnn;

import java.util.Map;

/**
 * A model whose energy is one scalar tanh MLP H_θ(q, p), the network "H" on x = (q, p): the general, dissipative
 * and port-Hamiltonian models. {@link #energy} and {@link #gradient} give H and ∇H (through
 * {@link Mlp#valueAndInputGradient}), whatever else the model's flow adds.
 */
abstract sealed class HamiltonianMlpField extends NetworkField implements HamiltonianGradient
        permits HamiltonianNetwork, DissipativeHamiltonianNetwork, PortHamiltonianNetwork {
    /** The scalar network H_θ, widths [2n, hidden…, 1]. */
    final Mlp h;

    HamiltonianMlpField(int n, int m, double[] theta, Map<String, Mlp> nets, String kind) {
        super(n, m, theta, nets, kind);
        this.h = nets.get("H");
    }

    @Override
    public final double energy(double[] q, double[] p) {
        double[] y = new double[1];
        h.forward(Networks.concat(q, p), y);
        return y[0];
    }

    /** ∂H/∂q and ∂H/∂p (n each); the state is checked first. */
    @Override
    public final void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp) {
        Networks.checkState(n, q, p, dHdq, dHdp);
        Networks.checkFinite("q", q, 0);
        Networks.checkFinite("p", p, 0);
        double[] g = new double[2 * n];
        h.valueAndInputGradient(Networks.concat(q, p), g);
        System.arraycopy(g, 0, dHdq, 0, n);
        System.arraycopy(g, n, dHdp, 0, n);
    }
}
