package dev.engram.optim;

/**
 * η(s) for optimiser step s = 0 … S−1: linear warm-up over W steps, then cosine decay (or constant):
 * <pre>
 *   η(s) = η·(s+1)/W                                            for s &lt; W
 *   η(s) = η_min + ½(η − η_min)(1 + cos(π·(s − W)/(S − W)))     for s ≥ W   (cosine)
 *   η(s) = η                                                    for s ≥ W   (constant)
 * </pre>
 *
 * @param peak       η &gt; 0
 * @param min        η_min in [0, η]
 * @param warmup     W ≥ 0
 * @param totalSteps S ≥ 1
 * @param cosine     cosine decay after warm-up, else constant
 */
public record LearningRateSchedule(double peak, double min, int warmup, int totalSteps, boolean cosine) {
    public LearningRateSchedule {
        if (!(peak > 0) || !(min >= 0 && min <= peak)) {
            throw new IllegalArgumentException("need 0 <= min <= peak and peak > 0, got min " + min + ", peak " + peak);
        }
        if (warmup < 0 || totalSteps < 1) {
            throw new IllegalArgumentException("need warmup >= 0 and totalSteps >= 1, got " + warmup + ", " + totalSteps);
        }
    }

    public double rate(long step) {
        if (step < warmup) {
            return peak * (step + 1) / warmup;
        }
        if (!cosine) {
            return peak;
        }
        long span = Math.max(1, totalSteps - warmup);
        double progress = Math.min(1.0, (double) (step - warmup) / span);
        return min + 0.5 * (peak - min) * (1 + Math.cos(Math.PI * progress));
    }
}
