package dev.engram.hnn.integrate;

/**
 * Störmer–Verlet (velocity Verlet) for separable H = T(p) + V(q), symplectic and second order:
 * <pre>
 *   p_{½} = p − (h/2)·∇V(q);   q' = q + h·∇T(p_{½});   p' = p_{½} − (h/2)·∇V(q')
 * </pre>
 * The force ∇V(q') of one step is the force of the next, so a step costs one ∇V and one ∇T evaluation.
 */
public final class StormerVerletIntegrator implements Integrator {
    private final SeparableHamiltonian h;
    private final double[] force;
    private final double[] velocity;
    private final double[] lastQ;
    private boolean forceValid;

    public StormerVerletIntegrator(SeparableHamiltonian h) {
        this.h = h;
        int n = h.dof();
        force = new double[n];
        velocity = new double[n];
        lastQ = new double[n];
    }

    @Override
    public void step(double t, double step, double[] q, double[] p) {
        int n = q.length;
        if (!forceValid || !java.util.Arrays.equals(q, lastQ)) {
            h.potentialGradient(q, force);
        }
        for (int i = 0; i < n; i++) {
            p[i] -= 0.5 * step * force[i];
        }
        h.kineticGradient(p, velocity);
        for (int i = 0; i < n; i++) {
            q[i] += step * velocity[i];
        }
        h.potentialGradient(q, force);
        for (int i = 0; i < n; i++) {
            p[i] -= 0.5 * step * force[i];
        }
        System.arraycopy(q, 0, lastQ, 0, n);
        forceValid = true;
    }

    @Override
    public void reset() {
        forceValid = false;
    }

    @Override
    public int evaluationsPerStep() {
        return 2;
    }
}
