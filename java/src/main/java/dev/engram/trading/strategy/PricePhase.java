package dev.engram.trading.strategy;

/**
 * The one-degree-of-freedom price phase space of {@code PhaseSpaces.price} with the backward-difference momentum,
 * computed from a slice of closes (so a strategy can build the state at bar t from the bars its view shows, in
 * O(window) per bar): with L = log c,
 * <pre>
 *   q_t = L_t − (1/w)·Σ_{j=0}^{w−1} L_{t−j}     (deviation from the moving average, bar t included)
 *   p_t = L_t − L_{t−1}                         (the last log return: a causal momentum)
 * </pre>
 * The first state is at slice index w − 1 (and ≥ 1).
 */
public final class PricePhase {
    private PricePhase() {
    }

    /** Index of the first state in a slice: max(w − 1, 1). */
    public static int first(int window) {
        return Math.max(window - 1, 1);
    }

    /**
     * States of every slice index from {@link #first} on: out[0] = q (length T − first), out[1] = p.
     *
     * @param closes a slice of consecutive closes
     */
    public static double[][] states(double[] closes, int window) {
        int f = first(window);
        int n = Math.max(0, closes.length - f);
        double[] q = new double[n];
        double[] p = new double[n];
        double[] log = new double[closes.length];
        for (int i = 0; i < closes.length; i++) {
            log[i] = Math.log(closes[i]);
        }
        double sum = 0;
        for (int i = 0; i < closes.length; i++) {
            sum += log[i];
            if (i >= window) {
                sum -= log[i - window];
            }
            if (i >= f) {
                // recomputed exactly every window values: a running sum drifts over long series
                if (i % 4096 == 0) {
                    sum = 0;
                    for (int j = i - window + 1; j <= i; j++) {
                        sum += log[j];
                    }
                }
                q[i - f] = log[i] - sum / window;
                p[i - f] = log[i] - log[i - 1];
            }
        }
        return new double[][] {q, p};
    }
}
