package dev.engram.hnn.integrate;

import dev.engram.hnn.HamiltonianGradient;
import dev.engram.hnn.PhaseSpaceField;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The integrators against closed forms of their own discrete maps (not against each other, which would break the
 * same way), on two degrees of freedom with different constants per component so that mixed-up indices show.
 */
class IntegratorClosedFormsTest {
    /** Masses and spring constants of two independent oscillators, H = Σ p_i²/(2m_i) + k_i·q_i²/2. */
    private static final double[] MASS = {0.5, 2.0};
    private static final double[] SPRING = {3.0, 0.7};

    private static SeparableHamiltonian oscillators() {
        return SeparableHamiltonian.of(2,
                q -> 0.5 * (SPRING[0] * q[0] * q[0] + SPRING[1] * q[1] * q[1]),
                p -> p[0] * p[0] / (2 * MASS[0]) + p[1] * p[1] / (2 * MASS[1]),
                (q, out) -> {
                    out[0] = SPRING[0] * q[0];
                    out[1] = SPRING[1] * q[1];
                },
                (p, out) -> {
                    out[0] = p[0] / MASS[0];
                    out[1] = p[1] / MASS[1];
                });
    }

    /**
     * Velocity Verlet on one oscillator is the linear map x' = A·x with
     * A = [[1 − h²ω²/2, h/m], [−h·k·(1 − h²ω²/4), 1 − h²ω²/2]], ω² = k/m; det A = 1 and trace A = 2cos θ with
     * cos θ = 1 − h²ω²/2, so A^N = cos(Nθ)·I + sin(Nθ)/sin θ·(A − cos θ·I), and it conserves exactly the modified
     * energy H̃ = p²/(2m) + (k·q²/2)·(1 − h²ω²/4).
     */
    @Test
    void stormerVerletIsTheClosedFormLinearMapAndKeepsItsModifiedEnergyExactly() {
        double h = 0.05;
        int steps = 2000;
        double[] q0 = {0.8, -1.1};
        double[] p0 = {0.3, 0.9};
        Trajectory tr = Trajectory.integrate(new StormerVerletIntegrator(oscillators()), oscillators(), q0, p0, h, steps);
        for (int i = 0; i < 2; i++) {
            double m = MASS[i];
            double k = SPRING[i];
            double w2 = k / m;
            double c = 1 - h * h * w2 / 2;
            double a12 = h / m;
            double a21 = -h * k * (1 - h * h * w2 / 4);
            double theta = Math.acos(c);
            double modified0 = p0[i] * p0[i] / (2 * m) + 0.5 * k * q0[i] * q0[i] * (1 - h * h * w2 / 4);
            for (int s = 0; s <= steps; s += 97) {
                double cs = Math.cos(s * theta);
                double sn = Math.sin(s * theta) / Math.sin(theta);
                // A − cos θ·I has a zero diagonal (A's diagonal is cos θ)
                double q = cs * q0[i] + sn * a12 * p0[i];
                double p = sn * a21 * q0[i] + cs * p0[i];
                assertEquals(q, tr.q()[s * 2 + i], 1e-10, "q[" + i + "] at step " + s);
                assertEquals(p, tr.p()[s * 2 + i], 1e-10, "p[" + i + "] at step " + s);
                double qs = tr.q()[s * 2 + i];
                double ps = tr.p()[s * 2 + i];
                assertEquals(modified0, ps * ps / (2 * m) + 0.5 * k * qs * qs * (1 - h * h * w2 / 4), 1e-12,
                        "modified energy of oscillator " + i + " at step " + s);
            }
        }
    }

    /** The reused force is the force at the current q: moving q between steps, or reset, must not reuse it. */
    @Test
    void stormerVerletRecomputesTheForceWhenTheStateMovedOrAfterReset() {
        StormerVerletIntegrator reused = new StormerVerletIntegrator(oscillators());
        double[] q = {0.8, -1.1};
        double[] p = {0.3, 0.9};
        reused.step(0, 0.1, q, p);
        double[] q2 = {-0.4, 0.25};
        double[] p2 = {1.2, -0.6};
        double[] qa = q2.clone();
        double[] pa = p2.clone();
        reused.step(0.1, 0.1, qa, pa);
        double[] qb = q2.clone();
        double[] pb = p2.clone();
        new StormerVerletIntegrator(oscillators()).step(0.1, 0.1, qb, pb);
        assertArrayEquals(qb, qa, 0, "q after the state was moved");
        assertArrayEquals(pb, pa, 0, "p after the state was moved");
        // the same q again (so the cached force matches), after reset: still the fresh answer
        double[] qc = q2.clone();
        double[] pc = p2.clone();
        reused.reset();
        reused.step(0.1, 0.1, qc, pc);
        assertArrayEquals(qb, qc, 0, "q after reset");
        assertArrayEquals(pb, pc, 0, "p after reset");
        assertEquals(2, reused.evaluationsPerStep());
    }

    @Test
    void separableHamiltonianSplitsEnergyAndGradientIntoItsParts() {
        SeparableHamiltonian h = oscillators();
        assertEquals(2, h.dof());
        double[] q = {0.5, -2};
        double[] p = {1.5, 0.25};
        assertEquals(0.5 * (3 * 0.25 + 0.7 * 4) + 1.5 * 1.5 / 1.0 + 0.25 * 0.25 / 4.0, h.energy(q, p), 1e-15);
        double[] dq = new double[2];
        double[] dp = new double[2];
        h.gradient(q, p, dq, dp);
        assertArrayEquals(new double[] {1.5, -1.4}, dq, 1e-15);
        assertArrayEquals(new double[] {3.0, 0.125}, dp, 1e-15);
    }

    /**
     * Tao's scheme from a state with p ≠ 0 on both components: second order (the error at t = 2 falls ~4× per
     * halving of h) and within 1e-3 of the exact flow at h = 0.005 (the oscillators' exact solution).
     */
    @Test
    void taoFollowsTheExactFlowFromAStateWithMomentumAtSecondOrder() {
        double[] q0 = {0.8, -1.1};
        double[] p0 = {0.3, 0.9};
        double t = 2;
        double[] errors = new double[3];
        double[] hs = {0.02, 0.01, 0.005};
        for (int r = 0; r < hs.length; r++) {
            int steps = (int) Math.round(t / hs[r]);
            Trajectory tr = Trajectory.integrate(new TaoIntegrator(oscillators(), 20), null, q0, p0, hs[r], steps);
            double err = 0;
            for (int i = 0; i < 2; i++) {
                double w = Math.sqrt(SPRING[i] / MASS[i]);
                double q = q0[i] * Math.cos(w * t) + p0[i] / (MASS[i] * w) * Math.sin(w * t);
                double p = -q0[i] * MASS[i] * w * Math.sin(w * t) + p0[i] * Math.cos(w * t);
                err = Math.max(err, Math.max(Math.abs(q - tr.q()[steps * 2 + i]), Math.abs(p - tr.p()[steps * 2 + i])));
            }
            errors[r] = err;
        }
        assertTrue(errors[2] < 1e-3, "error at h=0.005: " + errors[2]);
        for (int r = 1; r < hs.length; r++) {
            double ratio = errors[r - 1] / errors[r];
            assertTrue(ratio > 3 && ratio < 5, "error ratio on halving h: " + ratio + " (errors " + errors[r - 1]
                    + ", " + errors[r] + ")");
        }
    }

    /**
     * On the non-separable H = (1 + q²)(1 + p²)/2 from p0 ≠ 0, Tao agrees with a fine RK4 solution, and a reused
     * integrator after reset gives the same trajectory as a new one (the copy (x, y) restarts at (q, p)).
     */
    @Test
    void taoOnANonSeparableHamiltonianFromMomentumAndAfterReset() {
        HamiltonianGradient h = new HamiltonianGradient() {
            @Override
            public int dof() {
                return 1;
            }

            @Override
            public double energy(double[] q, double[] p) {
                return 0.5 * (1 + q[0] * q[0]) * (1 + p[0] * p[0]);
            }

            @Override
            public void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp) {
                dHdq[0] = q[0] * (1 + p[0] * p[0]);
                dHdp[0] = p[0] * (1 + q[0] * q[0]);
            }
        };
        double[] q0 = {0.4};
        double[] p0 = {-0.7};
        Trajectory fine = Trajectory.integrate(new RungeKutta4Integrator(PhaseSpaceField.of(h)), h, q0, p0, 1e-4, 10000);
        TaoIntegrator tao = new TaoIntegrator(h, 50);
        Trajectory.integrate(tao, h, new double[] {2}, new double[] {2}, 0.01, 50); // leaves (x, y) elsewhere
        Trajectory tr = Trajectory.integrate(tao, h, q0, p0, 0.005, 200);
        assertEquals(fine.q()[10000], tr.q()[200], 2e-4, "q(1)");
        assertEquals(fine.p()[10000], tr.p()[200], 2e-4, "p(1)");
        Trajectory fresh = Trajectory.integrate(new TaoIntegrator(h, 50), h, q0, p0, 0.005, 200);
        assertArrayEquals(fresh.q(), tr.q(), 0, "a reused integrator restarts its copy");
        assertEquals(4, tao.evaluationsPerStep());
    }

    /**
     * RK4's stage times: on dq/dt = t³, dp/dt = 3t² (q and p do not enter), one step from t0 is Simpson's rule,
     * exact for cubics, so q(t0 + h) − q(t0) = ((t0 + h)⁴ − t0⁴)/4 and p's increase is (t0 + h)³ − t0³ to
     * rounding, for any t0. A stage at the wrong time (t instead of t + h/2, …) misses by O(h²).
     */
    @Test
    void rungeKutta4EvaluatesTimeDependentFieldsAtItsStageTimes() {
        PhaseSpaceField f = new PhaseSpaceField() {
            @Override
            public int dof() {
                return 2;
            }

            @Override
            public void derivatives(double t, double[] q, double[] p, double[] dq, double[] dp) {
                dq[0] = t * t * t;
                dp[0] = 3 * t * t;
                dq[1] = -2 * t; // a second component with another law: (q1 = −t², p1 = t)
                dp[1] = 1;
            }
        };
        RungeKutta4Integrator rk4 = new RungeKutta4Integrator(f);
        for (double t0 : new double[] {0, 1.5, -2.25}) {
            double h = 0.5;
            double[] q = {0.25, 1};
            double[] p = {-1, 2};
            rk4.step(t0, h, q, p);
            double t1 = t0 + h;
            assertEquals(0.25 + (Math.pow(t1, 4) - Math.pow(t0, 4)) / 4, q[0], 1e-13, "q0 from t0=" + t0);
            assertEquals(-1 + (t1 * t1 * t1 - t0 * t0 * t0), p[0], 1e-13, "p0 from t0=" + t0);
            assertEquals(1 - (t1 * t1 - t0 * t0), q[1], 1e-13, "q1 from t0=" + t0);
            assertEquals(2 + h, p[1], 1e-13, "p1 from t0=" + t0);
        }
        assertEquals(4, rk4.evaluationsPerStep());
    }

    /**
     * A trajectory of two degrees of freedom lays states out row-major, passes the step's start time to the
     * integrator, records H at every step (NaN without a Hamiltonian) and resets the integrator first.
     */
    @Test
    void trajectoryLayoutTimesEnergiesAndReset() {
        List<Double> times = new ArrayList<>();
        int[] resets = {0};
        Integrator shift = new Integrator() {
            @Override
            public void step(double t, double h, double[] q, double[] p) {
                times.add(t);
                q[0] += h;
                q[1] -= 2 * h;
                p[0] += 10;
                p[1] *= 2;
            }

            @Override
            public void reset() {
                resets[0]++;
            }

            @Override
            public int evaluationsPerStep() {
                return 0;
            }
        };
        SeparableHamiltonian h = oscillators();
        Trajectory tr = Trajectory.integrate(shift, h, new double[] {1, 2}, new double[] {3, 4}, 0.25, 4);
        assertEquals(1, resets[0]);
        assertEquals(List.of(0.0, 0.25, 0.5, 0.75), times);
        assertEquals(2, tr.dof());
        assertEquals(4, tr.steps());
        assertEquals(0.25, tr.dt());
        for (int s = 0; s <= 4; s++) {
            double[] q = {1 + 0.25 * s, 2 - 0.5 * s};
            double[] p = {3 + 10 * s, 4 * Math.pow(2, s)};
            assertArrayEquals(q, new double[] {tr.q()[2 * s], tr.q()[2 * s + 1]}, 1e-15, "q at step " + s);
            assertArrayEquals(p, new double[] {tr.p()[2 * s], tr.p()[2 * s + 1]}, 1e-15, "p at step " + s);
            assertEquals(h.energy(q, p), tr.energy()[s], 1e-12, "H at step " + s);
        }
        Trajectory noEnergy = Trajectory.integrate(shift, null, new double[] {1, 2}, new double[] {3, 4}, 0.25, 1);
        assertTrue(Double.isNaN(noEnergy.energy()[0]) && Double.isNaN(noEnergy.energy()[1]));
    }

    /** A state that stops being finite part-way is reported with the step it happened at (q or p, any component). */
    @Test
    void divergencePartWayNamesTheStep() {
        for (int bad = 0; bad < 4; bad++) {
            int component = bad;
            Integrator blowsUp = new Integrator() {
                int calls;

                @Override
                public void step(double t, double h, double[] q, double[] p) {
                    calls++;
                    if (calls == 3) {
                        double[] target = component < 2 ? q : p;
                        target[component % 2] = component == 3 ? Double.NaN : Double.POSITIVE_INFINITY;
                    }
                }

                @Override
                public int evaluationsPerStep() {
                    return 0;
                }
            };
            var e = assertThrows(IllegalArgumentException.class, () -> Trajectory.integrate(blowsUp, null,
                    new double[] {1, 2}, new double[] {3, 4}, 0.1, 10));
            assertTrue(e.getMessage().contains("not finite at step 3"), e.getMessage());
        }
        var start = assertThrows(IllegalArgumentException.class, () -> Trajectory.integrate(
                new StormerVerletIntegrator(oscillators()), null, new double[] {1, Double.NaN}, new double[] {0, 0}, 0.1, 2));
        assertTrue(start.getMessage().contains("not finite at step 0"), start.getMessage());
    }
}
