package dev.engram.trading.features;

/**
 * Mean, sample variance, skewness and excess kurtosis of the last {@code window} values pushed, updated in O(1) per
 * value (amortised).
 * <p>
 * It keeps the sums Σd, Σd², Σd³, Σd⁴ of the shifted values d = x − K over the window, adding the new value and
 * removing the one that leaves. The shift K and the sums are recomputed exactly from the ring buffer every
 * {@code window} pushes (O(window) once per window, so O(1) amortised), with K set to the window's mean: this bounds
 * the rounding that running sums accumulate and keeps the cancellation in Σd² − n·m² small. Central sums follow
 * M2 = Σd² − n m², M3 = Σd³ − 3mΣd² + 2n m³, M4 = Σd⁴ − 4mΣd³ + 6m²Σd² − 3n m⁴ with m = Σd/n.
 * <p>
 * A window whose M2 is indistinguishable from rounding (M2 ≤ 1e-12·Σd², or 0) counts as constant: variance, skewness
 * and kurtosis are then 0.
 */
public final class RollingMoments {
    private final int window;
    private final double[] ring;
    private int count;
    private int head;
    private long pushes;
    private double shift;
    private double s1;
    private double s2;
    private double s3;
    private double s4;

    public RollingMoments(int window) {
        if (window < 1) {
            throw new IllegalArgumentException("window must be >= 1, got " + window);
        }
        this.window = window;
        this.ring = new double[window];
    }

    public int window() {
        return window;
    }

    /** Values in the window now (≤ window). */
    public int count() {
        return count;
    }

    public boolean isFull() {
        return count == window;
    }

    /** Adds x; when the window is full, the oldest value leaves. */
    public void push(double x) {
        if (count == window) {
            double old = ring[head];
            ring[head] = x;
            head = (head + 1) % window;
            remove(old - shift);
        } else {
            ring[(head + count) % window] = x;
            count++;
        }
        add(x - shift);
        if (++pushes % window == 0) {
            recompute();
        }
    }

    /** The value pushed {@code lag} pushes ago (0: the newest), lag < count. */
    public double get(int lag) {
        if (lag < 0 || lag >= count) {
            throw new IndexOutOfBoundsException("lag " + lag + " with " + count + " values");
        }
        return ring[(head + count - 1 - lag) % window];
    }

    public double mean() {
        return shift + s1 / count;
    }

    /** Sample variance (divisor n − 1); 0 for fewer than 2 values or a constant window. */
    public double variance() {
        if (count < 2) {
            return 0;
        }
        double m2 = m2();
        return m2 <= 0 ? 0 : m2 / (count - 1);
    }

    public double std() {
        return Math.sqrt(variance());
    }

    /**
     * Adjusted Fisher–Pearson skewness G1 = √(n(n−1))/(n−2) · (M3/n)/(M2/n)^1.5 (what pandas' rolling skew gives);
     * 0 for n < 3 or a constant window.
     */
    public double skewness() {
        int n = count;
        double m2 = m2();
        if (n < 3 || m2 <= 0) {
            return 0;
        }
        double m = s1 / n;
        double m3 = s3 - 3 * m * s2 + 2 * n * m * m * m;
        double g1 = (m3 / n) / Math.pow(m2 / n, 1.5);
        return Math.sqrt((double) n * (n - 1)) / (n - 2) * g1;
    }

    /**
     * Bias-corrected excess kurtosis G2 = (n−1)/((n−2)(n−3)) · ((n+1)·n·M4/M2² − 3(n−1)) (pandas' rolling kurt);
     * 0 for n < 4 or a constant window.
     */
    public double kurtosis() {
        int n = count;
        double m2 = m2();
        if (n < 4 || m2 <= 0) {
            return 0;
        }
        double m = s1 / n;
        double m4 = s4 - 4 * m * s3 + 6 * m * m * s2 - 3 * n * m * m * m * m;
        return (n - 1.0) / ((n - 2.0) * (n - 3.0)) * ((n + 1.0) * n * m4 / (m2 * m2) - 3.0 * (n - 1));
    }

    /** M2 = Σ(x − mean)², or 0 when it cannot be told from rounding. */
    private double m2() {
        double m = s1 / count;
        double v = s2 - count * m * m;
        return v <= 1e-12 * s2 || v <= 0 ? 0 : v;
    }

    private void add(double d) {
        double d2 = d * d;
        s1 += d;
        s2 += d2;
        s3 += d2 * d;
        s4 += d2 * d2;
    }

    private void remove(double d) {
        double d2 = d * d;
        s1 -= d;
        s2 -= d2;
        s3 -= d2 * d;
        s4 -= d2 * d2;
    }

    private void recompute() {
        double sum = 0;
        for (int i = 0; i < count; i++) {
            sum += ring[(head + i) % window];
        }
        shift = sum / count;
        s1 = s2 = s3 = s4 = 0;
        for (int i = 0; i < count; i++) {
            add(ring[(head + i) % window] - shift);
        }
    }
}
