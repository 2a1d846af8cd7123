package dev.engram.trading.features;

import java.util.List;
import java.util.Objects;

/**
 * Feature rows over time: row r is the feature vector at the bar starting at {@code times[r]} (computed from that bar
 * and earlier ones). Immutable; accessors copy.
 *
 * @param names  d feature names
 * @param times  T bar starts (UTC ms), increasing
 * @param values T×d, row-major
 */
public record FeatureMatrix(List<String> names, long[] times, double[] values) {
    public FeatureMatrix {
        names = List.copyOf(names);
        Objects.requireNonNull(times, "times");
        Objects.requireNonNull(values, "values");
        if (values.length != times.length * names.size()) {
            throw new IllegalArgumentException("values has " + values.length + " entries for " + times.length
                    + " rows × " + names.size() + " features");
        }
        times = times.clone();
        values = values.clone();
    }

    public int rows() {
        return times.length;
    }

    public int dim() {
        return names.size();
    }

    @Override
    public long[] times() {
        return times.clone();
    }

    @Override
    public double[] values() {
        return values.clone();
    }

    public double get(int row, int col) {
        return values[row * dim() + col];
    }

    public double[] row(int r) {
        double[] out = new double[dim()];
        System.arraycopy(values, r * dim(), out, 0, dim());
        return out;
    }

    /** Rows as float32, T×d row-major (for pattern memories). */
    public float[] toFloats() {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }
}
