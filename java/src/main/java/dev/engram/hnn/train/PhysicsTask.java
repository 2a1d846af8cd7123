package dev.engram.hnn.train;

import dev.engram.hnn.HamiltonianGradient;
import dev.engram.hnn.PhaseSpaceField;

import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The two one-dimensional tasks of Greydanus, Dzamba &amp; Yosinski, "Hamiltonian Neural Networks" (NeurIPS 2019),
 * with the data recipe of the authors' code ({@code experiment-spring/data.py}, {@code experiment-pend/data.py}):
 * <ul>
 *   <li>ideal mass-spring H = q² + p² (dq/dt = 2p, dp/dt = −2q); initial state on a circle of radius r ~ U(0.1, 1.1),
 *       trajectories on t ∈ [0, 3] sampled at 30 evenly spaced times;</li>
 *   <li>ideal pendulum H = 3(1 − cos q) + p² (dq/dt = 2p, dp/dt = −3 sin q); r ~ U(1.3, 2.3), t ∈ [0, 3] at 45
 *       times.</li>
 * </ul>
 * The direction of the initial state is uniform in [−1, 1]², rescaled to radius r. The observed states carry
 * Gaussian noise (σ = 0.1 in the paper); the derivative targets are the analytic dynamics at the true states, as in
 * the authors' code. This is offline physics data: no causality constraint applies.
 */
public enum PhysicsTask implements HamiltonianGradient {
    SPRING(0.1, 1.1, 30),
    PENDULUM(1.3, 2.3, 45);

    /** Trajectory length of the data, t ∈ [0, 3]. */
    public static final double DATA_SPAN = 3.0;
    private final double minRadius;
    private final double maxRadius;
    private final int samplesPerTrajectory;

    PhysicsTask(double minRadius, double maxRadius, int samplesPerTrajectory) {
        this.minRadius = minRadius;
        this.maxRadius = maxRadius;
        this.samplesPerTrajectory = samplesPerTrajectory;
    }

    /** "spring" or "pendulum" (case-insensitive). */
    public static PhysicsTask parse(String name) {
        for (PhysicsTask t : values()) {
            if (t.label().equalsIgnoreCase(name)) {
                return t;
            }
        }
        throw new IllegalArgumentException("system must be spring or pendulum, got '" + name + "'");
    }

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Samples per trajectory in the data set (30 for the spring, 45 for the pendulum). */
    public int samplesPerTrajectory() {
        return samplesPerTrajectory;
    }

    @Override
    public int dof() {
        return 1;
    }

    @Override
    public double energy(double[] q, double[] p) {
        return switch (this) {
            case SPRING -> q[0] * q[0] + p[0] * p[0];
            case PENDULUM -> 3 * (1 - Math.cos(q[0])) + p[0] * p[0];
        };
    }

    @Override
    public void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp) {
        dHdq[0] = switch (this) {
            case SPRING -> 2 * q[0];
            case PENDULUM -> 3 * Math.sin(q[0]);
        };
        dHdp[0] = 2 * p[0];
    }

    /** Hamilton's equations of this system. */
    public PhaseSpaceField field() {
        return PhaseSpaceField.of(this);
    }

    /**
     * A random initial state (q, p) as in the paper: direction uniform in [−1, 1]², radius r uniform in this task's
     * range.
     */
    public double[] initialState(SplittableRandom rnd) {
        double a = 2 * rnd.nextDouble() - 1;
        double b = 2 * rnd.nextDouble() - 1;
        double r = minRadius + (maxRadius - minRadius) * rnd.nextDouble();
        double norm = Math.hypot(a, b);
        if (norm == 0) {
            return new double[] {r, 0};
        }
        return new double[] {a / norm * r, b / norm * r};
    }
}
