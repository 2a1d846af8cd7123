package dev.engram.hnn.integrate;

import dev.engram.hnn.PhaseSpaceField;

/**
 * Explicit Euler, {@code x' = x + h·f(t, x)}: the baseline every other scheme is judged against. On
 * H = (q² + p²)/2 the energy grows by the factor 1 + h² every step.
 */
public final class EulerIntegrator implements Integrator {
    private final PhaseSpaceField f;
    private final double[] dq;
    private final double[] dp;

    public EulerIntegrator(PhaseSpaceField f) {
        this.f = f;
        dq = new double[f.dof()];
        dp = new double[f.dof()];
    }

    @Override
    public void step(double t, double h, double[] q, double[] p) {
        f.derivatives(t, q, p, dq, dp);
        for (int i = 0; i < q.length; i++) {
            q[i] += h * dq[i];
            p[i] += h * dp[i];
        }
    }

    @Override
    public int evaluationsPerStep() {
        return 1;
    }
}
