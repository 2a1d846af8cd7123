package dev.engram.hnn;

import dev.engram.hnn.integrate.EnergyMonitor;
import dev.engram.hnn.integrate.EulerIntegrator;
import dev.engram.hnn.integrate.LeapfrogIntegrator;
import dev.engram.hnn.integrate.RungeKutta4Integrator;
import dev.engram.hnn.integrate.SeparableHamiltonian;
import dev.engram.hnn.integrate.StormerVerletIntegrator;
import dev.engram.hnn.integrate.TaoIntegrator;
import dev.engram.hnn.integrate.Trajectory;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closed forms on the harmonic oscillator H = (q² + p²)/2, and Tao's scheme on a non-separable H. */
class IntegratorKnownAnswersTest {
    private static final HamiltonianGradient OSC = AnalyticHamiltonians.harmonicOscillator();
    private static final double H = 0.1;

    private static SeparableHamiltonian separableOscillator() {
        return SeparableHamiltonian.of(1, q -> 0.5 * q[0] * q[0], p -> 0.5 * p[0] * p[0],
                (q, out) -> out[0] = q[0], (p, out) -> out[0] = p[0]);
    }

    @Test
    void leapfrogKeepsTheModifiedEnergyToRoundOffAndEnergyWithinHSquaredOver8() {
        Trajectory t = Trajectory.integrate(new LeapfrogIntegrator(OSC), OSC, new double[] {1}, new double[] {0}, H, 10_000);
        double invariant0 = 1 - H * H / 4;
        double maxDev = 0;
        double maxDe = 0;
        for (int s = 0; s <= t.steps(); s++) {
            double q = t.q()[s];
            double p = t.p()[s];
            maxDev = Math.max(maxDev, Math.abs(p * p + (1 - H * H / 4) * q * q - invariant0));
            maxDe = Math.max(maxDe, Math.abs(t.energy()[s] - 0.5));
        }
        assertTrue(maxDev < 1e-12, "p² + (1 − h²/4)q² drifted by " + maxDev);
        // E swings between 1/2 and 1/2 − h²/8: the bound is attained, never exceeded
        assertEquals(H * H / 8, maxDe, 2e-6, "max |ΔE|");
    }

    @Test
    void stormerVerletMatchesLeapfrogOnSeparableH() {
        SeparableHamiltonian h = separableOscillator();
        Trajectory sv = Trajectory.integrate(new StormerVerletIntegrator(h), h, new double[] {0.3}, new double[] {-0.8}, H, 2000);
        Trajectory lf = Trajectory.integrate(new LeapfrogIntegrator(h), h, new double[] {0.3}, new double[] {-0.8}, H, 2000);
        for (int s = 0; s <= 2000; s++) {
            assertEquals(lf.q()[s], sv.q()[s], 1e-12);
            assertEquals(lf.p()[s], sv.p()[s], 1e-12);
        }
        assertEquals(2, new StormerVerletIntegrator(h).evaluationsPerStep());
    }

    @Test
    void eulerGrowsEnergyByOnePlusHSquaredEachStep() {
        Trajectory t = Trajectory.integrate(new EulerIntegrator(PhaseSpaceField.of(OSC)), OSC, new double[] {1}, new double[] {0}, H, 200);
        for (int s = 1; s <= 200; s++) {
            assertEquals(1 + H * H, t.energy()[s] / t.energy()[s - 1], 1e-12, "step " + s);
        }
    }

    @Test
    void rungeKutta4ChangesEnergyByItsClosedFormFactor() {
        double factor = 1 - Math.pow(H, 6) / 72 + Math.pow(H, 8) / 576;
        Trajectory t = Trajectory.integrate(new RungeKutta4Integrator(PhaseSpaceField.of(OSC)), OSC, new double[] {1},
                new double[] {0}, H, 5000);
        assertEquals(Math.pow(factor, 5000), t.energy()[5000] / t.energy()[0], 1e-12);
    }

    @Test
    void taoIsSecondOrderOnTheOscillator() {
        // exact: q(t) = cos t, p(t) = −sin t; halving h must cut the error at t = 2 by about 4
        double[] err = new double[2];
        for (int i = 0; i < 2; i++) {
            double h = 0.02 / (1 << i);
            int steps = (int) Math.round(2 / h);
            Trajectory t = Trajectory.integrate(new TaoIntegrator(OSC, 5), OSC, new double[] {1}, new double[] {0}, h, steps);
            err[i] = Math.hypot(t.q()[steps] - Math.cos(2), t.p()[steps] + Math.sin(2));
        }
        double order = Math.log(err[0] / err[1]) / Math.log(2);
        assertEquals(2, order, 0.2, "observed order (errors " + err[0] + ", " + err[1] + ")");
    }

    @Test
    void taoKeepsANonSeparableEnergyBoundedWhereRk4Drifts() {
        // H = (q² + 1)(p² + 1)/2 is non-separable
        HamiltonianGradient h = new HamiltonianGradient() {
            @Override
            public int dof() {
                return 1;
            }

            @Override
            public double energy(double[] q, double[] p) {
                return 0.5 * (q[0] * q[0] + 1) * (p[0] * p[0] + 1);
            }

            @Override
            public void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp) {
                dHdq[0] = q[0] * (p[0] * p[0] + 1);
                dHdp[0] = p[0] * (q[0] * q[0] + 1);
            }
        };
        double step = 0.05;
        int steps = 40_000;
        Trajectory tao = Trajectory.integrate(new TaoIntegrator(h, 20), h, new double[] {-3}, new double[] {0}, step, steps);
        Trajectory rk = Trajectory.integrate(new RungeKutta4Integrator(PhaseSpaceField.of(h)), h, new double[] {-3},
                new double[] {0}, step, steps);
        EnergyMonitor.Summary st = EnergyMonitor.of(tao.energy(), 50);
        EnergyMonitor.Summary sr = EnergyMonitor.of(rk.energy(), 50);
        assertTrue(st.maxRelativeError() < 0.05, "Tao relative energy error " + st.maxRelativeError());
        // bounded: the second half is no worse than the first (no secular drift)
        double firstHalf = 0;
        double secondHalf = 0;
        for (int s = 0; s <= steps; s++) {
            double e = Math.abs(tao.energy()[s] - tao.energy()[0]);
            if (s <= steps / 2) {
                firstHalf = Math.max(firstHalf, e);
            } else {
                secondHalf = Math.max(secondHalf, e);
            }
        }
        assertTrue(secondHalf < 1.5 * firstHalf, "Tao energy error grows: " + firstHalf + " then " + secondHalf);
        assertTrue(Math.abs(sr.drift()) > Math.abs(st.drift()), "RK4 drift " + sr.drift() + " vs Tao " + st.drift());
    }

    @Test
    void badArgumentsAreNamed() {
        var lf = new LeapfrogIntegrator(OSC);
        assertThrows(IllegalArgumentException.class, () -> Trajectory.integrate(lf, OSC, new double[] {1}, new double[] {0}, 0, 10));
        assertThrows(IllegalArgumentException.class, () -> Trajectory.integrate(lf, OSC, new double[] {1}, new double[] {0}, 0.1, 0));
        var e = assertThrows(IllegalArgumentException.class,
                () -> Trajectory.integrate(lf, OSC, new double[] {Double.NaN}, new double[] {0}, 0.1, 3));
        assertTrue(e.getMessage().contains("step 0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TaoIntegrator(OSC, -1));
    }
}
