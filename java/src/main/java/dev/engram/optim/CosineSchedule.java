package dev.engram.optim;

/**
 * Learning rate with linear warm-up and cosine decay (Loshchilov &amp; Hutter 2017, without restarts):
 * <pre>
 *   lr(t) = peak·(t+1)/w                                         for t &lt; w
 *   lr(t) = floor + ½·(peak − floor)·(1 + cos(π·(t − w)/(T − w)))  for w ≤ t &lt; T
 * </pre>
 * and {@code floor} from T on.
 *
 * @param peak         the rate after warm-up, > 0
 * @param floor        the final rate, in [0, peak]
 * @param warmupSteps  w ≥ 0
 * @param totalSteps   T > w
 */
public record CosineSchedule(double peak, double floor, int warmupSteps, int totalSteps) {
    public CosineSchedule {
        if (!(peak > 0) || !Double.isFinite(peak)) {
            throw new IllegalArgumentException("peak must be a finite number > 0, got " + peak);
        }
        if (!(floor >= 0 && floor <= peak)) {
            throw new IllegalArgumentException("floor must be in [0, peak=" + peak + "], got " + floor);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        }
        if (totalSteps <= warmupSteps) {
            throw new IllegalArgumentException("totalSteps must exceed warmupSteps=" + warmupSteps + ", got " + totalSteps);
        }
    }

    /** The rate at step {@code t} (from 0). */
    public double rate(int t) {
        if (t < warmupSteps) {
            return peak * (t + 1) / warmupSteps;
        }
        if (t >= totalSteps) {
            return floor;
        }
        double progress = (t - warmupSteps) / (double) (totalSteps - warmupSteps);
        return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
    }
}
