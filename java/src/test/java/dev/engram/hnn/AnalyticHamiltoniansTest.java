package dev.engram.hnn;

import dev.engram.engine.MlpWeights;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The closed-form systems against hand-computed values, and the closed-form MLP against the oscillator. */
class AnalyticHamiltoniansTest {

    private static double[] gradient(HamiltonianGradient h, double q, double p) {
        double[] gq = new double[1];
        double[] gp = new double[1];
        h.gradient(new double[] {q}, new double[] {p}, gq, gp);
        return new double[] {gq[0], gp[0]};
    }

    @Test
    void quadraticOscillatorAndMassSpringHaveTheirEnergiesAndGradients() {
        HamiltonianGradient h = AnalyticHamiltonians.quadratic(2, 3);
        assertEquals(1, h.dof());
        assertEquals(2 * 0.25 + 3 * 4, h.energy(new double[] {0.5}, new double[] {2}), 1e-15);
        assertEquals(2, gradient(h, 0.5, 2)[0], 1e-15);
        assertEquals(12, gradient(h, 0.5, 2)[1], 1e-15);
        HamiltonianGradient ho = AnalyticHamiltonians.harmonicOscillator();
        assertEquals((0.09 + 0.16) / 2, ho.energy(new double[] {0.3}, new double[] {-0.4}), 1e-15);
        assertEquals(0.3, gradient(ho, 0.3, -0.4)[0], 1e-15);
        assertEquals(-0.4, gradient(ho, 0.3, -0.4)[1], 1e-15);
        HamiltonianGradient ms = AnalyticHamiltonians.massSpring();
        assertEquals(1, ms.dof());
        assertEquals(0.09 + 0.16, ms.energy(new double[] {0.3}, new double[] {-0.4}), 1e-15);
        assertEquals(0.6, gradient(ms, 0.3, -0.4)[0], 1e-15);
        assertEquals(-0.8, gradient(ms, 0.3, -0.4)[1], 1e-15);
    }

    @Test
    void pendulumIsThreeTimesOneMinusCosinePlusMomentumSquared() {
        HamiltonianGradient h = AnalyticHamiltonians.pendulum();
        assertEquals(1, h.dof());
        // q = π/3: 1 − cos q = ½, sin q = √3/2
        assertEquals(1.5 + 0.25, h.energy(new double[] {Math.PI / 3}, new double[] {0.5}), 1e-15);
        assertEquals(3 * Math.sqrt(3) / 2, gradient(h, Math.PI / 3, 0.5)[0], 1e-15);
        assertEquals(1.0, gradient(h, Math.PI / 3, 0.5)[1], 1e-15);
        assertEquals(6, h.energy(new double[] {Math.PI}, new double[] {0}), 1e-15, "the top of the swing");
    }

    /** The tanh network evaluated by hand (float32 weights) equals (q² + p²)/2 up to O(ε²) relative. */
    @Test
    void quadraticMlpIsTheOscillatorToSecondOrderInEpsilon() {
        double eps = 0.05;
        MlpWeights w = AnalyticHamiltonians.quadraticMlp(eps);
        assertEquals(2, w.inputWidth());
        assertEquals(1, w.outputWidth());
        assertEquals(2, w.layers());
        double[][] points = {{0.3, -0.4}, {1, 0}, {0, -1.5}, {0.7, 0.7}, {0, 0}};
        for (double[] x : points) {
            double y = w.bias(1, 0);
            for (int i = 0; i < 4; i++) {
                double z = w.bias(0, i) + w.weight(0, i, 0) * x[0] + w.weight(0, i, 1) * x[1];
                y += w.weight(1, 0, i) * Math.tanh(z);
            }
            double expected = (x[0] * x[0] + x[1] * x[1]) / 2;
            // relative O(ε²x²) from the Taylor remainder plus float32 rounding of scale ≈ 1/ε² (absolute ~1e-3)
            assertEquals(expected, y, 2e-2 * expected + 2e-3, "at (" + x[0] + ", " + x[1] + ")");
        }
    }
}
