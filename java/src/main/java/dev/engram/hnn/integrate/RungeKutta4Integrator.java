package dev.engram.hnn.integrate;

import dev.engram.hnn.PhaseSpaceField;

/**
 * Classical fourth-order Runge–Kutta on a phase-space field f:
 * {@code k1 = f(t, x), k2 = f(t + h/2, x + h/2·k1), k3 = f(t + h/2, x + h/2·k2), k4 = f(t + h, x + h·k3),
 * x' = x + h/6·(k1 + 2k2 + 2k3 + k4)}. Not symplectic: on H = (q² + p²)/2 the energy changes by the factor
 * 1 − h⁶/72 + h⁸/576 per step.
 */
public final class RungeKutta4Integrator implements Integrator {
    private final PhaseSpaceField f;
    private final double[][] kq;
    private final double[][] kp;
    private final double[] tq;
    private final double[] tp;

    public RungeKutta4Integrator(PhaseSpaceField f) {
        this.f = f;
        int n = f.dof();
        kq = new double[4][n];
        kp = new double[4][n];
        tq = new double[n];
        tp = new double[n];
    }

    @Override
    public void step(double t, double h, double[] q, double[] p) {
        int n = q.length;
        f.derivatives(t, q, p, kq[0], kp[0]);
        stage(q, p, 0.5 * h, 0, n);
        f.derivatives(t + 0.5 * h, tq, tp, kq[1], kp[1]);
        stage(q, p, 0.5 * h, 1, n);
        f.derivatives(t + 0.5 * h, tq, tp, kq[2], kp[2]);
        stage(q, p, h, 2, n);
        f.derivatives(t + h, tq, tp, kq[3], kp[3]);
        for (int i = 0; i < n; i++) {
            q[i] += h / 6 * (kq[0][i] + 2 * kq[1][i] + 2 * kq[2][i] + kq[3][i]);
            p[i] += h / 6 * (kp[0][i] + 2 * kp[1][i] + 2 * kp[2][i] + kp[3][i]);
        }
    }

    private void stage(double[] q, double[] p, double a, int k, int n) {
        for (int i = 0; i < n; i++) {
            tq[i] = q[i] + a * kq[k][i];
            tp[i] = p[i] + a * kp[k][i];
        }
    }

    @Override
    public int evaluationsPerStep() {
        return 4;
    }
}
