package dev.engram.trading.features;

/**
 * The maximum (or minimum) of the last {@code window} values, in amortised O(1) per value: a monotonic deque of
 * candidates (each value enters and leaves it once).
 */
final class RollingExtremum {
    private final int window;
    private final boolean max;
    private final double[] values;
    private final long[] index;
    private int head;
    private int size;
    private long n;

    RollingExtremum(int window, boolean max) {
        this.window = window;
        this.max = max;
        this.values = new double[window + 1];
        this.index = new long[window + 1];
    }

    void push(double x) {
        int cap = values.length;
        while (size > 0) {
            int last = (head + size - 1) % cap;
            if (max ? values[last] <= x : values[last] >= x) {
                size--;
            } else {
                break;
            }
        }
        int at = (head + size) % cap;
        values[at] = x;
        index[at] = n;
        size++;
        while (index[head] <= n - window) {
            head = (head + 1) % cap;
            size--;
        }
        n++;
    }

    double get() {
        return values[head];
    }
}
