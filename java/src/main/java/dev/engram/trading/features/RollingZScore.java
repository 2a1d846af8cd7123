package dev.engram.trading.features;

/**
 * Past-only normalisation of feature vectors: each feature is z-scored with the mean and sample standard deviation
 * of its previous {@code window} values (the current value is not part of its own statistics), then the vector is
 * scaled to unit Euclidean norm. Stored and query patterns are then unit vectors, so the retrieval score q·x is their
 * cosine, in [−1, 1], and beta multiplies a cosine (calibrate beta to that scale and to the memory size).
 * <p>
 * Degenerate cases are defined: a feature whose past window is constant gets z = 0; an all-zero z vector stays zero
 * (it has no direction). Streaming, O(d) per row (O(1) per feature, amortised; {@link RollingMoments}).
 */
public final class RollingZScore {
    private final int dim;
    private final int window;
    private final RollingMoments[] stats;

    /**
     * @param dim    d features
     * @param window past rows per statistic, ≥ 2; the first normalised row is the one after {@code window} rows
     */
    public RollingZScore(int dim, int window) {
        if (dim < 1) {
            throw new IllegalArgumentException("dim must be >= 1, got " + dim);
        }
        if (window < 2) {
            throw new IllegalArgumentException("window must be >= 2, got " + window);
        }
        this.dim = dim;
        this.window = window;
        this.stats = new RollingMoments[dim];
        for (int i = 0; i < dim; i++) {
            stats[i] = new RollingMoments(window);
        }
    }

    public int window() {
        return window;
    }

    /**
     * Normalises {@code x} (length d) into {@code out} with the statistics of the previous rows, then adds x to them.
     *
     * @return true when out holds a normalised row; false while fewer than {@code window} rows came before
     */
    public boolean update(double[] x, double[] out) {
        boolean ready = stats[0].isFull();
        if (ready) {
            double norm2 = 0;
            for (int i = 0; i < dim; i++) {
                double sd = stats[i].std();
                double z = sd > 0 ? (x[i] - stats[i].mean()) / sd : 0;
                out[i] = z;
                norm2 += z * z;
            }
            unitNorm(out, dim, norm2);
        }
        for (int i = 0; i < dim; i++) {
            stats[i].push(x[i]);
        }
        return ready;
    }

    private static void unitNorm(double[] v, int n, double norm2) {
        if (norm2 > 0) {
            double inv = 1 / Math.sqrt(norm2);
            for (int i = 0; i < n; i++) {
                v[i] *= inv;
            }
        }
    }

    /** The normalised rows of a feature matrix (rows from index {@code window} on). */
    public static FeatureMatrix normalise(FeatureMatrix m, int window) {
        RollingZScore z = new RollingZScore(m.dim(), window);
        int d = m.dim();
        int rows = Math.max(0, m.rows() - window);
        long[] times = new long[rows];
        double[] values = new double[rows * d];
        long[] srcTimes = m.times();
        double[] in = new double[d];
        double[] out = new double[d];
        int r = 0;
        for (int i = 0; i < m.rows(); i++) {
            for (int j = 0; j < d; j++) {
                in[j] = m.get(i, j);
            }
            if (z.update(in, out)) {
                times[r] = srcTimes[i];
                System.arraycopy(out, 0, values, r * d, d);
                r++;
            }
        }
        return new FeatureMatrix(m.names(), times, values);
    }
}
