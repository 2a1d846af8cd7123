package dev.engram.hnn;

import dev.engram.tensor.RandomSampling;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every analytic gradient against central finite differences in double precision:
 * (f(θ + h e_i) − f(θ − h e_i)) / 2h with h = 1e-5 has truncation error ~h²·f''' ≈ 1e-10 and round-off
 * ~ε·|f|/h ≈ 1e-11 for the O(1) quantities here, so we ask for agreement within 1e-7·max(1, |g|).
 */
class GradientCheckTest {
    static final double H = 1e-5;
    static final double TOL = 1e-7;

    static double[] gaussian(SplittableRandom r, int n, double s) {
        return RandomSampling.gaussians(r, n, s);
    }

    /** Central differences of f over every component of v (restored afterwards). */
    static double[] finiteDifferences(double[] v, ToDoubleFunction<double[]> f) {
        double[] g = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double old = v[i];
            v[i] = old + H;
            double up = f.applyAsDouble(v);
            v[i] = old - H;
            double down = f.applyAsDouble(v);
            v[i] = old;
            g[i] = (up - down) / (2 * H);
        }
        return g;
    }

    static void assertClose(double[] expected, double[] actual, String what) {
        assertEquals(expected.length, actual.length);
        double maxAbs = 0;
        for (int i = 0; i < expected.length; i++) {
            double tol = TOL * Math.max(1, Math.abs(expected[i]));
            assertTrue(Math.abs(expected[i] - actual[i]) <= tol, what + "[" + i + "]: finite differences "
                    + expected[i] + ", analytic " + actual[i]);
            maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
        }
        assertTrue(maxAbs > 1e-3, what + ": gradient should not be trivially zero");
    }

    static List<int[]> shapes() {
        return List.of(new int[] {3, 1}, new int[] {3, 7, 1}, new int[] {4, 6, 5, 1}, new int[] {2, 5, 4, 3, 1});
    }

    static Mlp randomMlp(int[] widths, long seed) {
        Mlp m = Mlp.of(widths);
        SplittableRandom r = new SplittableRandom(seed);
        m.initGlorot(r);
        // non-zero biases so that every parameter matters
        double[] th = m.parameters();
        for (int k = 0; k < m.layers(); k++) {
            for (int i = 0; i < widths[k + 1]; i++) {
                th[m.biasOffset(k) + i] = 0.3 * (2 * r.nextDouble() - 1);
            }
        }
        return m;
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void inputGradientOfScalarMlp(int[] widths) {
        Mlp m = randomMlp(widths, 1);
        double[] x = gaussian(new SplittableRandom(2), widths[0], 1);
        double[] g = new double[widths[0]];
        double y = m.valueAndInputGradient(x, g);
        double[] out = new double[1];
        m.forward(x, out);
        assertEquals(out[0], y, 1e-15);
        assertClose(finiteDifferences(x, v -> {
            double[] o = new double[1];
            m.forward(v, o);
            return o[0];
        }), g, "dy/dx");
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void firstOrderParameterBackprop(int[] shape) {
        int[] widths = shape.clone();
        widths[widths.length - 1] = 3; // vector output
        Mlp m = randomMlp(widths, 3);
        SplittableRandom r = new SplittableRandom(4);
        double[] x = gaussian(r, widths[0], 1);
        double[] yBar = gaussian(r, 3, 1);
        double[] grad = new double[m.parameterCount()];
        m.backpropParameters(x, yBar, grad);
        assertClose(finiteDifferences(m.parameters(), th -> {
            double[] y = new double[3];
            m.forward(x, y);
            return y[0] * yBar[0] + y[1] * yBar[1] + y[2] * yBar[2];
        }), grad, "d(ȳ·y)/dθ");
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void doubleBackpropOfInputGradient(int[] widths) {
        Mlp m = randomMlp(widths, 5);
        SplittableRandom r = new SplittableRandom(6);
        double[] x = gaussian(r, widths[0], 1);
        double[] gBar = gaussian(r, widths[0], 1);
        double[] grad = new double[m.parameterCount()];
        m.backpropInputGradient(x, gBar, grad);
        assertClose(finiteDifferences(m.parameters(), th -> {
            double[] g = new double[widths[0]];
            m.valueAndInputGradient(x, g);
            double s = 0;
            for (int i = 0; i < g.length; i++) {
                s += gBar[i] * g[i];
            }
            return s;
        }), grad, "d(ḡ·∇ₓy)/dθ");
        int bo = m.biasOffset(m.layers() - 1);
        assertEquals(0.0, grad[bo], "the output bias does not enter ∇ₓy");
    }

    @Test
    void gradientsAccumulateAtTheNetworksOffset() {
        int[] w = {2, 4, 1};
        int count = Mlp.parameterCount(w);
        double[] theta = new double[count + 5];
        Mlp m = new Mlp(w, theta, 5);
        m.initGlorot(new SplittableRandom(9));
        double[] grad = new double[theta.length];
        grad[0] = 42;
        m.backpropInputGradient(new double[] {0.3, -0.2}, new double[] {1, 2}, grad);
        assertEquals(42, grad[0], "entries before the offset untouched");
        double[] grad2 = grad.clone();
        m.backpropInputGradient(new double[] {0.3, -0.2}, new double[] {1, 2}, grad2);
        for (int i = 5; i < theta.length; i++) {
            assertEquals(2 * grad[i], grad2[i], 1e-15, "added, not overwritten");
        }
    }

    static List<LearnedField> models() {
        return List.of(
                HamiltonianNetwork.create(2, new int[] {6, 5}, 11),
                SeparableHamiltonianNetwork.create(2, new int[] {6, 5}, 12),
                DissipativeHamiltonianNetwork.create(2, new int[] {6, 5}, new int[] {4}, 13),
                PortHamiltonianNetwork.create(2, 3, new int[] {6, 5}, new int[] {4}, new int[] {5}, 14),
                DerivativeNetwork.create(2, 0, new int[] {6, 5}, 15),
                DerivativeNetwork.create(2, 2, new int[] {6}, 16));
    }

    @ParameterizedTest
    @MethodSource("models")
    void modelBackpropMatchesFiniteDifferences(LearnedField model) {
        SplittableRandom r = new SplittableRandom(21);
        double[] th = model.parameters();
        for (int i = 0; i < th.length; i++) {
            th[i] += 0.1 * (2 * r.nextDouble() - 1); // biases away from zero
        }
        int n = model.dof();
        double[] q = gaussian(r, n, 1);
        double[] p = gaussian(r, n, 1);
        double[] u = gaussian(r, model.inputCount(), 1);
        double[] dqBar = gaussian(r, n, 1);
        double[] dpBar = gaussian(r, n, 1);
        double[] grad = new double[th.length];
        model.backprop(q, p, u, dqBar, dpBar, grad);
        assertClose(finiteDifferences(th, t -> {
            double[] dq = new double[n];
            double[] dp = new double[n];
            model.predict(q, p, u, dq, dp);
            double s = 0;
            for (int i = 0; i < n; i++) {
                s += dqBar[i] * dq[i] + dpBar[i] * dp[i];
            }
            return s;
        }), grad, model.kind() + " d(loss)/dθ");
    }

    @ParameterizedTest
    @MethodSource("models")
    void hamiltonianModelsFollowHamiltonsEquations(LearnedField model) {
        if (!(model instanceof HamiltonianGradient h)) {
            return;
        }
        SplittableRandom r = new SplittableRandom(31);
        int n = model.dof();
        double[] q = gaussian(r, n, 1);
        double[] p = gaussian(r, n, 1);
        double[] dHdq = new double[n];
        double[] dHdp = new double[n];
        h.gradient(q, p, dHdq, dHdp);
        // ∇H against finite differences of energy(q, p)
        assertClose(finiteDifferences(q, v -> h.energy(v, p)), dHdq, model.kind() + " ∂H/∂q");
        assertClose(finiteDifferences(p, v -> h.energy(q, v)), dHdp, model.kind() + " ∂H/∂p");
        double[] dq = new double[n];
        double[] dp = new double[n];
        model.predict(q, p, new double[model.inputCount()], dq, dp);
        for (int i = 0; i < n; i++) {
            assertEquals(dHdp[i], dq[i], 1e-15, "dq/dt = ∂H/∂p");
        }
        if (model instanceof HamiltonianNetwork || model instanceof SeparableHamiltonianNetwork) {
            for (int i = 0; i < n; i++) {
                assertEquals(-dHdq[i], dp[i], 1e-15, "dp/dt = −∂H/∂q");
            }
        }
    }

    @Test
    void dissipativeModelLosesEnergyAndDampingIsNonNegative() {
        DissipativeHamiltonianNetwork model = DissipativeHamiltonianNetwork.create(2, new int[] {8}, new int[] {4}, 41);
        SplittableRandom r = new SplittableRandom(42);
        for (int trial = 0; trial < 50; trial++) {
            double[] q = gaussian(r, 2, 2);
            double[] p = gaussian(r, 2, 2);
            double[] d = new double[2];
            model.damping(q, p, d);
            double[] dq = new double[2];
            double[] dp = new double[2];
            model.predict(q, p, new double[0], dq, dp);
            double[] gq = new double[2];
            double[] gp = new double[2];
            model.gradient(q, p, gq, gp);
            double dHdt = gq[0] * dq[0] + gq[1] * dq[1] + gp[0] * dp[0] + gp[1] * dp[1];
            assertTrue(d[0] >= 0 && d[1] >= 0, "D ≥ 0");
            assertEquals(-(d[0] * gp[0] * gp[0] + d[1] * gp[1] * gp[1]), dHdt, 1e-12, "dH/dt = −Σ D_i (∂H/∂p_i)²");
        }
    }
}
