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

    /** The n×n identity. */
    public static FloatMatrix identity(int n) {
        FloatMatrix m = FloatMatrix.allocate(n, n);
        for (int i = 0; i < n; i++) {
            m.set(i, i, 1f);
        }
        return m;
    }
}
