package dev.engram.hnn;

/**
 * A Hamiltonian H(q, p) on a phase space of n degrees of freedom, with its gradient: what symplectic integrators
 * need. Implementations: analytic systems ({@link AnalyticHamiltonians}) and trained models.
 */
public interface HamiltonianGradient {
    /** n, the number of degrees of freedom (q and p each have n components). */
    int dof();

    /** H(q, p). */
    double energy(double[] q, double[] p);

    /**
     * Writes ∂H/∂q into {@code dHdq} and ∂H/∂p into {@code dHdp} (each of length n).
     */
    void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp);
}
