package dev.engram.hopfield;

import dev.engram.tensor.RandomSampling;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Why β = 1 never trades and what the default β of the cosine-scored models should be: mean confidence
 * {@code 1 − H/log M} against β on M = 10^4 unit patterns (d = 32), for queries near a stored pattern (cosine ≈ 0.9)
 * and for unrelated queries, on an unstructured memory (i.i.d. directions) and a structured one (100 clusters,
 * members at cosine ≈ 0.8 to their centre, as market situations cluster). Prints the table the README quotes.
 */
class BetaCalibrationTest {
    static final int M = 10_000;
    static final int D = 32;
    static final int QUERIES = 64;
    static final float[] BETAS = {1, 2, 4, 8, 16, 32, 64, 128};

    static float[][] table(boolean clustered, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[][] centres = new float[100][];
        for (int c = 0; c < centres.length; c++) {
            centres[c] = unit(gaussian(rnd, D, 1.0));
        }
        float[] x = new float[M * D];
        for (int i = 0; i < M; i++) {
            float[] p = clustered ? unit(plus(centres[i % centres.length], gaussian(rnd, D, noiseFor(0.8)))) : unit(gaussian(rnd, D, 1));
            System.arraycopy(p, 0, x, i * D, D);
        }
        float[] near = new float[QUERIES * D];
        float[] far = new float[QUERIES * D];
        for (int b = 0; b < QUERIES; b++) {
            int i = rnd.nextInt(M);
            float[] xi = java.util.Arrays.copyOfRange(x, i * D, (i + 1) * D);
            System.arraycopy(unit(plus(xi, gaussian(rnd, D, noiseFor(0.9)))), 0, near, b * D, D);
            System.arraycopy(unit(gaussian(rnd, D, 1)), 0, far, b * D, D);
        }
        Backend engine = Backends.select("cpu");
        float[][] out = new float[BETAS.length][2];
        try (FloatMatrix xm = FloatMatrix.of(x, M, D); PatternMemory mem = PatternMemory.of(xm);
             FloatMatrix qn = FloatMatrix.of(near, QUERIES, D); FloatMatrix qf = FloatMatrix.of(far, QUERIES, D)) {
            for (int j = 0; j < BETAS.length; j++) {
                RetrievalResult rn = engine.retrieve(mem, qn, new RetrievalParams(BETAS[j], 0));
                RetrievalResult rf = engine.retrieve(mem, qf, new RetrievalParams(BETAS[j], 0));
                out[j][0] = mean(rn.confidence());
                out[j][1] = mean(rf.confidence());
            }
        }
        return out;
    }

    /** Per-component noise σ that puts a unit vector plus noise at cosine ≈ c to it in d = 32: 1/√(1 + dσ²) = c. */
    static double noiseFor(double cos) {
        return Math.sqrt((1 / (cos * cos) - 1) / D);
    }

    @Test
    void betaOneGivesNoConfidenceAndTheDefaultSeparatesNearFromUnrelated() {
        float[][] flat = table(false, 11);
        float[][] clustered = table(true, 12);
        System.out.println("confidence vs beta, M=" + M + ", d=" + D + ", unit patterns, " + QUERIES + " queries each");
        System.out.println("  beta | iid: near  unrelated | clustered: near  unrelated");
        for (int j = 0; j < BETAS.length; j++) {
            System.out.printf("  %4.0f | %10.4f %10.4f | %15.4f %10.4f%n", BETAS[j], flat[j][0], flat[j][1],
                    clustered[j][0], clustered[j][1]);
        }
        int one = 0;
        int def = java.util.Arrays.binarySearch(BETAS, PatternStore.DEFAULT_BETA);
        assertTrue(def >= 0, "the default beta is in the sweep");
        // β = 1 on cosine scores: the attention is almost uniform, the "confidence ≈ 0.006" regime
        assertTrue(flat[one][0] < 0.01 && clustered[one][0] < 0.01, "beta=1 confidence " + flat[one][0]);
        // the default is the β of the sweep that best separates near from unrelated queries (mean gap of both memories)
        int widest = 0;
        for (int j = 1; j < BETAS.length; j++) {
            if (gap(flat, clustered, j) > gap(flat, clustered, widest)) {
                widest = j;
            }
        }
        assertEquals(BETAS[widest], PatternStore.DEFAULT_BETA, "beta with the widest near/unrelated gap");
        assertTrue(flat[def][0] > 0.6 && flat[def][0] > 2 * flat[def][1], "iid near " + flat[def][0] + " vs unrelated " + flat[def][1]);
        assertTrue(clustered[def][0] > 0.5 && clustered[def][0] > 1.8 * clustered[def][1],
                "clustered near " + clustered[def][0] + " vs unrelated " + clustered[def][1]);
    }

    static double gap(float[][] a, float[][] b, int j) {
        return (a[j][0] - a[j][1] + b[j][0] - b[j][1]) / 2;
    }

    static float mean(float[] v) {
        double s = 0;
        for (float f : v) {
            s += f;
        }
        return (float) (s / v.length);
    }

    static float[] gaussian(SplittableRandom rnd, int d, double sigma) {
        float[] v = new float[d];
        for (int i = 0; i < d; i++) {
            v[i] = (float) RandomSampling.gaussian(rnd, sigma);
        }
        return v;
    }

    static float[] plus(float[] a, float[] b) {
        float[] c = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            c[i] = a[i] + b[i];
        }
        return c;
    }

    static float[] unit(float[] v) {
        double s = 0;
        for (float f : v) {
            s += (double) f * f;
        }
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            u[i] = (float) (v[i] / Math.sqrt(s));
        }
        return u;
    }
}
