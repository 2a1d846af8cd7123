package dev.engram.engine;

/**
 * What an ensemble integration returns.
 *
 * @param trajectories    N
 * @param dof             n
 * @param sampleSteps     S step indices at which states were sampled (first 0, last = steps)
 * @param dt              step size
 * @param finalStates     N×2n row-major (q then p) at the last step (for a diverged trajectory: its last finite state)
 * @param initialEnergy   N: H at step 0
 * @param finalEnergy     N: H at the last step
 * @param divergedAtStep  N: the step whose result was non-finite (the trajectory stops there), or −1
 * @param divergedCount   how many trajectories diverged
 * @param quantileLevels  L levels
 * @param quantiles       S×(2n+1)×L: per sample time, per coordinate (q_0..q_{n−1}, p_0..p_{n−1}, H), per level,
 *                        over the trajectories still finite at that time (NaN if none)
 * @param paths           S×N×2n every sampled state, or null unless asked for ({@link EnsembleSpec#keepPaths()})
 */
public record EnsembleResult(int trajectories, int dof, int[] sampleSteps, float dt, float[] finalStates,
                             float[] initialEnergy, float[] finalEnergy, int[] divergedAtStep, int divergedCount,
                             double[] quantileLevels, float[] quantiles, float[] paths) {

    /** Number of coordinates per sample in {@link #quantiles}: 2n + 1 (the last is the energy). */
    public int coordinates() {
        return 2 * dof + 1;
    }

    /** Quantile {@code level} (index into {@link #quantileLevels}) of coordinate c at sample s. */
    public float quantile(int s, int c, int level) {
        return quantiles[(s * coordinates() + c) * quantileLevels.length + level];
    }

    /** Final q_j (j < n) or p_{j−n} (n ≤ j < 2n) of trajectory i. */
    public float finalState(int i, int j) {
        return finalStates[i * 2 * dof + j];
    }

    /** Sampled coordinate j of trajectory i at sample s; requires {@link #paths()}. */
    public float path(int s, int i, int j) {
        if (paths == null) {
            throw new IllegalStateException("paths were not kept; set keepPaths in the spec");
        }
        return paths[(s * trajectories + i) * 2 * dof + j];
    }
}
