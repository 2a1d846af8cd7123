package dev.engram.hnn;

/**
 * A general first-order system on phase space, {@code (dq/dt, dp/dt) = f(t, q, p)}: dissipative and port-Hamiltonian
 * models and the baseline MLP are of this kind; a conservative Hamiltonian gives {@code dq/dt = ∂H/∂p,
 * dp/dt = −∂H/∂q} ({@link #of(HamiltonianGradient)}).
 */
public interface PhaseSpaceField {
    int dof();

    /** Writes dq/dt into {@code dq} and dp/dt into {@code dp} at time t. */
    void derivatives(double t, double[] q, double[] p, double[] dq, double[] dp);

    /** Hamilton's equations of {@code h}. */
    static PhaseSpaceField of(HamiltonianGradient h) {
        return new PhaseSpaceField() {
            @Override
            public int dof() {
                return h.dof();
            }

            @Override
            public void derivatives(double t, double[] q, double[] p, double[] dq, double[] dp) {
                h.gradient(q, p, dp, dq);
                for (int i = 0; i < dp.length; i++) {
                    dp[i] = -dp[i];
                }
            }
        };
    }
}
