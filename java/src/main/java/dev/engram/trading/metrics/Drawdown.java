package dev.engram.trading.metrics;

/**
 * The deepest fall of an equity curve from a running peak.
 * <p>
 * With E_{−1} the initial equity and peak_j = max_{i ≤ j} E_i: drawdown_j = 1 − E_j / peak_j; the maximum drawdown
 * is max_j drawdown_j.
 *
 * @param max             the maximum drawdown, in [0, 1] (0.25 = 25% below the peak)
 * @param peakBar         index of the peak before it (−1: the initial equity)
 * @param troughBar       index of its trough
 * @param durationBars    bars from the peak to the trough
 * @param recoveryBars    bars from the trough until equity first regained the peak; −1 when it never did
 * @param longestBars     the longest stretch of bars spent below a previous peak (any drawdown)
 */
public record Drawdown(double max, int peakBar, int troughBar, int durationBars, int recoveryBars, int longestBars) {

    /** The drawdown of {@code equity} (per bar) starting from {@code initial}. */
    public static Drawdown of(double initial, double[] equity) {
        double peak = initial;
        int peakAt = -1;
        double max = 0;
        int maxPeak = -1;
        int maxTrough = -1;
        int longest = 0;
        for (int j = 0; j < equity.length; j++) {
            if (equity[j] >= peak) {
                longest = Math.max(longest, j - peakAt - 1);
                peak = equity[j];
                peakAt = j;
            } else {
                double dd = 1 - equity[j] / peak;
                if (dd > max) {
                    max = dd;
                    maxPeak = peakAt;
                    maxTrough = j;
                }
            }
        }
        longest = Math.max(longest, equity.length - 1 - peakAt);
        if (maxTrough < 0) {
            return new Drawdown(0, -1, -1, 0, 0, longest);
        }
        double level = maxPeak < 0 ? initial : equity[maxPeak];
        int recovery = -1;
        for (int j = maxTrough + 1; j < equity.length; j++) {
            if (equity[j] >= level) {
                recovery = j - maxTrough;
                break;
            }
        }
        return new Drawdown(max, maxPeak, maxTrough, maxTrough - maxPeak, recovery, longest);
    }
}
