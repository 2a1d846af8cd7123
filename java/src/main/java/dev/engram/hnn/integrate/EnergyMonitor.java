package dev.engram.hnn.integrate;

/**
 * Watches the energy E_t of a trajectory as it is produced: drift, oscillation amplitude and relative error
 * against E_0, and an anomaly z-score of each energy change ΔE_t = E_t − E_{t−1} against the previous
 * {@code window} changes:
 * <pre>
 *   z_t = (ΔE_t − mean(ΔE_{t−w..t−1})) / std(ΔE_{t−w..t−1})
 * </pre>
 * (0 until the window is full or while its spread is 0). A conservative system integrated well has bounded,
 * oscillating energy; a jump in z flags a regime change (or a diverging integration).
 */
public final class EnergyMonitor {
    /**
     * @param samples           energies observed
     * @param initial           E_0
     * @param last              the last energy
     * @param drift             E_last − E_0
     * @param amplitude         (max E − min E)/2
     * @param maxRelativeError  max |E_t − E_0| / max(|E_0|, tiny)
     * @param maxAbsZ           largest |z| seen
     */
    public record Summary(long samples, double initial, double last, double drift, double amplitude,
                          double maxRelativeError, double maxAbsZ) {
    }

    private final int window;
    private final double[] ring;
    private int filled;
    private int head;
    private long count;
    private double e0;
    private double last;
    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private double maxRel;
    private double maxAbsZ;

    /** @param window number of past energy changes the z-score compares against (≥ 2) */
    public EnergyMonitor(int window) {
        if (window < 2) {
            throw new IllegalArgumentException("window must be >= 2, got " + window);
        }
        this.window = window;
        this.ring = new double[window];
    }

    /** Observes the next energy; returns the z-score of its change (0 while the window fills). */
    public double observe(double energy) {
        if (!Double.isFinite(energy)) {
            throw new IllegalArgumentException("energy must be finite, got " + energy + " at sample " + count);
        }
        double z = 0;
        if (count == 0) {
            e0 = energy;
        } else {
            double change = energy - last;
            if (filled == window) {
                double mean = 0;
                for (double v : ring) {
                    mean += v;
                }
                mean /= window;
                double var = 0;
                for (double v : ring) {
                    var += (v - mean) * (v - mean);
                }
                double sd = Math.sqrt(var / (window - 1));
                z = sd > 0 ? (change - mean) / sd : 0;
            }
            ring[head] = change;
            head = (head + 1) % window;
            filled = Math.min(filled + 1, window);
        }
        count++;
        last = energy;
        min = Math.min(min, energy);
        max = Math.max(max, energy);
        maxRel = Math.max(maxRel, Math.abs(energy - e0) / Math.max(Math.abs(e0), Double.MIN_NORMAL));
        maxAbsZ = Math.max(maxAbsZ, Math.abs(z));
        return z;
    }

    public Summary summary() {
        if (count == 0) {
            throw new IllegalStateException("no energy observed yet");
        }
        return new Summary(count, e0, last, last - e0, (max - min) / 2, maxRel, maxAbsZ);
    }

    /** Summary of a whole series at once. */
    public static Summary of(double[] energies, int window) {
        EnergyMonitor m = new EnergyMonitor(window);
        for (double e : energies) {
            m.observe(e);
        }
        return m.summary();
    }
}
