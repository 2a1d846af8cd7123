package dev.engram.engine.ffm;

/**
 * What {@link NativeBackend#integrateQuantiles} returns: the quantiles of an ensemble, computed on the device.
 *
 * @param sampleSteps      S steps at which states were sampled
 * @param levels           L quantile levels
 * @param sampleQuantiles  S×(2n+1)×L: per sample, per coordinate (q_0..q_{n−1}, p_0..p_{n−1}, energy), per level,
 *                         over the trajectories that had not diverged (the layout of EnsembleResult.quantiles)
 * @param finalQuantiles   2n×L: per coordinate of the final states, per level (a diverged trajectory counts with
 *                         its last finite state, as in EnsembleResult.finalStates)
 * @param divergedCount    trajectories that diverged
 */
public record EnsembleQuantiles(int[] sampleSteps, double[] levels, float[] sampleQuantiles, float[] finalQuantiles,
                                long divergedCount) {
    public EnsembleQuantiles {
        sampleSteps = sampleSteps.clone();
        levels = levels.clone();
    }

    /** The quantile at level index l of coordinate c (2n for the energy) at sample s. */
    public float sample(int s, int c, int l) {
        int coords = finalQuantiles.length / levels.length + 1;
        return sampleQuantiles[(s * coords + c) * levels.length + l];
    }

    /** The quantile at level index l of coordinate c of the final states. */
    public float finalState(int c, int l) {
        return finalQuantiles[c * levels.length + l];
    }
}
