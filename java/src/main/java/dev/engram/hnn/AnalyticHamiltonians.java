package dev.engram.hnn;

import dev.engram.engine.MlpWeights;

/** Closed-form Hamiltonians for tests, demos and the physics tasks (n = 1). */
public final class AnalyticHamiltonians {
    private AnalyticHamiltonians() {
    }

    /** H = (k·q² + p²/m)/2 scaled: {@code H = a·q² + c·p²}. Harmonic oscillator with H = (q² + p²)/2 at a = c = ½. */
    public static HamiltonianGradient quadratic(double a, double c) {
        return new HamiltonianGradient() {
            @Override
            public int dof() {
                return 1;
            }

            @Override
            public double energy(double[] q, double[] p) {
                return a * q[0] * q[0] + c * p[0] * p[0];
            }

            @Override
            public void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp) {
                dHdq[0] = 2 * a * q[0];
                dHdp[0] = 2 * c * p[0];
            }
        };
    }

    /** The harmonic oscillator H = (q² + p²)/2. */
    public static HamiltonianGradient harmonicOscillator() {
        return quadratic(0.5, 0.5);
    }

    /** Ideal mass-spring of the HNN paper (Greydanus et al. 2019): H = q² + p². */
    public static HamiltonianGradient massSpring() {
        return quadratic(1, 1);
    }

    /** Ideal pendulum of the HNN paper: H = 3(1 − cos q) + p². */
    public static HamiltonianGradient pendulum() {
        return new HamiltonianGradient() {
            @Override
            public int dof() {
                return 1;
            }

            @Override
            public double energy(double[] q, double[] p) {
                return 3 * (1 - Math.cos(q[0])) + p[0] * p[0];
            }

            @Override
            public void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp) {
                dHdq[0] = 3 * Math.sin(q[0]);
                dHdp[0] = 2 * p[0];
            }
        };
    }

    /**
     * A tanh MLP (2 → 4 → 1) that equals {@code (q² + p²)/2} up to O(ε²) relative error on |q|, |p| ≲ 1/ε: per
     * coordinate x, {@code tanh(c + εx) + tanh(c − εx) − 2 tanh(c) = ε²x²·tanh''(c) + O(ε⁴x⁴)} with
     * {@code tanh''(c) = −2 tanh(c)(1 − tanh²(c))}. The "MLP fitted to" the oscillator, in closed form, so the
     * engines can be checked against the oscillator's known answers.
     */
    public static MlpWeights quadraticMlp(double eps) {
        double c = 0.5;
        double t = Math.tanh(c);
        double second = -2 * t * (1 - t * t);
        float scale = (float) (0.5 / (eps * eps * second));
        float e = (float) eps;
        float[] w1 = {e, 0, -e, 0, 0, e, 0, -e};
        float[] b1 = {(float) c, (float) c, (float) c, (float) c};
        float[] w2 = {scale, scale, scale, scale};
        float[] b2 = {(float) (-4 * t * scale)};
        return new MlpWeights(new int[] {2, 4, 1}, new float[][] {w1, w2}, new float[][] {b1, b2});
    }
}
