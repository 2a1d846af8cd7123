package dev.engram.hnn.integrate;

import dev.engram.hnn.HamiltonianGradient;

/**
 * The seed's leapfrog for a general H(q, p):
 * <pre>
 *   p_{½} = p − (h/2)·∂H/∂q(q, p);   q' = q + h·∂H/∂p(q, p_{½});   p' = p_{½} − (h/2)·∂H/∂q(q', p_{½})
 * </pre>
 * Three gradient evaluations per step. For separable H it is the symplectic Störmer–Verlet scheme (second order;
 * for H = (q² + p²)/2 it conserves p² + (1 − h²/4)q² exactly); for non-separable H it is explicit but not
 * symplectic — use {@link TaoIntegrator} there.
 */
public final class LeapfrogIntegrator implements Integrator {
    private final HamiltonianGradient h;
    private final double[] dq;
    private final double[] dp;

    public LeapfrogIntegrator(HamiltonianGradient h) {
        this.h = h;
        this.dq = new double[h.dof()];
        this.dp = new double[h.dof()];
    }

    @Override
    public void step(double t, double step, double[] q, double[] p) {
        int n = q.length;
        h.gradient(q, p, dq, dp);
        for (int i = 0; i < n; i++) {
            p[i] -= 0.5 * step * dq[i];
        }
        h.gradient(q, p, dq, dp);
        for (int i = 0; i < n; i++) {
            q[i] += step * dp[i];
        }
        h.gradient(q, p, dq, dp);
        for (int i = 0; i < n; i++) {
            p[i] -= 0.5 * step * dq[i];
        }
    }

    @Override
    public int evaluationsPerStep() {
        return 3;
    }
}
