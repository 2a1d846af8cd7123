package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;

import java.util.SplittableRandom;

/** Matrices with known structure for closed-form tests of every engine. */
public final class TestMatrices {
    private TestMatrices() {
    }

    /** n random orthonormal rows in dimension n (Gram–Schmidt on Gaussian vectors, in double). */
    public static FloatMatrix orthonormal(int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                v[i][j] = rnd.nextDouble() * 2 - 1;
            }
            for (int p = 0; p < i; p++) {
                double dot = 0;
                for (int j = 0; j < n; j++) {
                    dot += v[i][j] * v[p][j];
                }
                for (int j = 0; j < n; j++) {
                    v[i][j] -= dot * v[p][j];
                }
            }
            double norm = 0;
            for (int j = 0; j < n; j++) {
                norm += v[i][j] * v[i][j];
            }
            norm = Math.sqrt(norm);
            for (int j = 0; j < n; j++) {
                v[i][j] /= norm;
            }
        }
        FloatMatrix m = FloatMatrix.allocate(n, n);
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                m.set(i, j, (float) v[i][j]);
            }
        }
        return m;
    }

    /**
     * Feature kinds for the logit-scale sweeps: entries {@code k·2^exponent} with a random integer k in [lo, hi].
     * With |k| ≤ 20 and d ≤ 64 every partial sum of a dot product is an integer below 2²⁴ times a power of two, so a
     * float32 dot product is exact in any summation order, and so is its product with a power-of-two beta: the
     * engines' float32 logits equal the reference engine's double logits bit for bit, at any scale.
     */
    public enum Features {
        /** Values in [−1, 1] (k ∈ [−8, 8], step 1/8). */
        UNIT(-8, 8, -3),
        /** Price-sized values in [8192, 20480] (k ∈ [8, 20], step 1024): all logits of one sign. */
        PRICE(8, 20, 10),
        /** Price-sized values of both signs, [−20480, 20480]. */
        SIGNED_PRICE(-20, 20, 10);

        final int lo;
        final int hi;
        final int exponent;

        Features(int lo, int hi, int exponent) {
            this.lo = lo;
            this.hi = hi;
            this.exponent = exponent;
        }
    }

    /** rows×cols lattice features of the given kind (see {@link Features}); {@code negate} flips every sign. */
    public static FloatMatrix lattice(long rows, int cols, Features kind, boolean negate, long seed) {
        if (cols > 64) {
            throw new IllegalArgumentException("lattice features keep dot products exact only up to d = 64, got " + cols);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        FloatMatrix m = FloatMatrix.allocate(rows, cols);
        float unit = (float) Math.scalb(negate ? -1.0 : 1.0, kind.exponent);
        for (long i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                m.set(i, j, rnd.nextInt(kind.lo, kind.hi + 1) * unit);
            }
        }
        return m;
    }

    /**
     * The power of two beta that puts the largest |beta·q·x| (over all queries and patterns) within a factor 2 of
     * {@code scale}: the logit scale of a sweep. A power of two keeps exact dot products exact as logits.
     */
    public static float betaForScale(double scale, FloatMatrix queries, FloatMatrix patterns) {
        double max = 0;
        for (long b = 0; b < queries.rows(); b++) {
            for (long i = 0; i < patterns.rows(); i++) {
                double s = 0;
                for (int j = 0; j < queries.cols(); j++) {
                    s += (double) queries.get(b, j) * patterns.get(i, j);
                }
                max = Math.max(max, Math.abs(s));
            }
        }
        if (max == 0) {
            return 1f;
        }
        float beta = (float) Math.scalb(1.0, (int) Math.round(Math.log(scale / max) / Math.log(2)));
        if (!(beta > 0) || Float.isInfinite(beta)) {
            throw new IllegalArgumentException("no float32 power-of-two beta gives logit scale " + scale);
        }
        return beta;
    }

    /** The n×n identity. */
    public static FloatMatrix identity(int n) {
        FloatMatrix m = FloatMatrix.allocate(n, n);
        for (int i = 0; i < n; i++) {
            m.set(i, i, 1f);
        }
        return m;
    }
}
