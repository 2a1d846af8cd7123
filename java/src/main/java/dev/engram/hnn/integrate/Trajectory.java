package dev.engram.hnn.integrate;

import dev.engram.hnn.HamiltonianGradient;

import java.util.Arrays;

/**
 * One integrated trajectory: states and energies at every step.
 *
 * @param q      (steps+1)×n row-major
 * @param p      (steps+1)×n row-major
 * @param energy steps+1 values of H (NaN if no Hamiltonian was given)
 */
public record Trajectory(int dof, double dt, double[] q, double[] p, double[] energy) {

    /**
     * Integrates from (q0, p0) for {@code steps} steps of size h.
     *
     * @param energyOf the Hamiltonian whose energy is recorded, or null
     * @throws IllegalArgumentException on bad arguments, or if the state stops being finite (naming the step)
     */
    public static Trajectory integrate(Integrator integrator, HamiltonianGradient energyOf, double[] q0, double[] p0,
                                       double h, int steps) {
        if (!(h > 0) || !Double.isFinite(h)) {
            throw new IllegalArgumentException("h must be a finite number > 0, got " + h);
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (q0.length != p0.length) {
            throw new IllegalArgumentException("q0 has " + q0.length + " components but p0 has " + p0.length);
        }
        int n = q0.length;
        double[] q = q0.clone();
        double[] p = p0.clone();
        requireFinite(q, p, 0);
        double[] qs = new double[(steps + 1) * n];
        double[] ps = new double[(steps + 1) * n];
        double[] es = new double[steps + 1];
        integrator.reset();
        for (int s = 0; s <= steps; s++) {
            if (s > 0) {
                integrator.step((s - 1) * h, h, q, p);
                requireFinite(q, p, s);
            }
            System.arraycopy(q, 0, qs, s * n, n);
            System.arraycopy(p, 0, ps, s * n, n);
            es[s] = energyOf == null ? Double.NaN : energyOf.energy(q, p);
        }
        return new Trajectory(n, h, qs, ps, es);
    }

    private static void requireFinite(double[] q, double[] p, int step) {
        for (int i = 0; i < q.length; i++) {
            if (!Double.isFinite(q[i]) || !Double.isFinite(p[i])) {
                throw new IllegalArgumentException("trajectory diverged: state not finite at step " + step
                        + " (q=" + Arrays.toString(q) + ", p=" + Arrays.toString(p) + ")");
            }
        }
    }

    public int steps() {
        return energy.length - 1;
    }
}
