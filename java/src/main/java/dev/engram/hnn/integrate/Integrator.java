package dev.engram.hnn.integrate;

/**
 * One step of a time integrator for a phase-space state (q, p), each of n components, updated in place.
 * Stateful schemes (Tao's extended phase space) keep their extra variables between steps; {@link #reset} starts
 * a new trajectory.
 */
public interface Integrator {
    /** Advances (q, p) from time t by h in place. */
    void step(double t, double h, double[] q, double[] p);

    /** Forgets any internal state: the next step starts a new trajectory. */
    default void reset() {
    }

    /** Gradient (or field) evaluations per step, for cost accounting. */
    int evaluationsPerStep();
}
