package dev.engram.engine;

import java.util.Arrays;

/**
 * The {@code k} best (score, index) pairs seen so far: descending score, ties broken by the smaller index, so the
 * result never depends on the order in which candidates arrive. Mutable; one per query.
 */
public final class TopK {
    private final int k;
    private final double[] scores;
    private final long[] indices;
    private int size;

    public TopK(int k) {
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0, got " + k);
        }
        this.k = k;
        this.scores = new double[k];
        this.indices = new long[k];
    }

    public int k() {
        return k;
    }

    public int size() {
        return size;
    }

    public double score(int i) {
        return scores[i];
    }

    public long index(int i) {
        return indices[i];
    }

    /** The score a new candidate must beat to enter: the k-th best once full, −∞ before. */
    public double threshold() {
        return size < k ? Double.NEGATIVE_INFINITY : scores[k - 1];
    }

    private static boolean better(double s1, long i1, double s2, long i2) {
        return s1 > s2 || (s1 == s2 && i1 < i2);
    }

    /** Offers a candidate; returns whether it entered. */
    public boolean offer(double score, long index) {
        if (k == 0 || (size == k && !better(score, index, scores[k - 1], indices[k - 1]))) {
            return false;
        }
        int pos = Math.min(size, k - 1);
        while (pos > 0 && better(score, index, scores[pos - 1], indices[pos - 1])) {
            scores[pos] = scores[pos - 1];
            indices[pos] = indices[pos - 1];
            pos--;
        }
        scores[pos] = score;
        indices[pos] = index;
        if (size < k) {
            size++;
        }
        return true;
    }

    /** Offers every entry of {@code other}. */
    public void addAll(TopK other) {
        for (int i = 0; i < other.size; i++) {
            offer(other.scores[i], other.indices[i]);
        }
    }

    /** A copy with every index shifted by {@code offset}. */
    public TopK shifted(long offset) {
        TopK t = copy();
        for (int i = 0; i < t.size; i++) {
            t.indices[i] += offset;
        }
        return t;
    }

    public TopK copy() {
        TopK t = new TopK(k);
        System.arraycopy(scores, 0, t.scores, 0, size);
        System.arraycopy(indices, 0, t.indices, 0, size);
        t.size = size;
        return t;
    }

    @Override
    public String toString() {
        return "TopK" + Arrays.toString(Arrays.copyOf(indices, size)) + Arrays.toString(Arrays.copyOf(scores, size));
    }
}
