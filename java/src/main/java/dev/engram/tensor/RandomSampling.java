package dev.engram.tensor;

import java.util.random.RandomGenerator;

/**
 * The two sampling routines the code base needs, in one place: standard normals by the Box–Muller transform and
 * uniform permutations by the Fisher–Yates shuffle. Pure functions of the generator's stream, so a seeded generator
 * gives the same numbers on every run.
 */
public final class RandomSampling {
    private static final double TWO_PI = 2 * Math.PI;

    private RandomSampling() {
    }

    /**
     * A normal of standard deviation σ from two uniforms of {@code rnd} (Box–Muller, the cosine branch):
     * {@code σ·√(−2 ln u₁)·cos(2π u₂)} with u₁ = 1 − U ∈ (0, 1] (never log 0) and u₂ = U ∈ [0, 1), drawn in that order.
     */
    public static double gaussian(RandomGenerator rnd, double sigma) {
        double u1 = 1.0 - rnd.nextDouble();
        return sigma * radius(u1) * Math.cos(TWO_PI * rnd.nextDouble());
    }

    /** A standard normal: {@link #gaussian(RandomGenerator, double)} with σ = 1. */
    public static double gaussian(RandomGenerator rnd) {
        return gaussian(rnd, 1);
    }

    /** n independent normals of standard deviation σ. */
    public static double[] gaussians(RandomGenerator rnd, int n, double sigma) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = gaussian(rnd, sigma);
        }
        return a;
    }

    /**
     * Both normals of the Box–Muller pair from given uniforms u₁ ∈ (0, 1], u₂ ∈ [0, 1) (e.g. a counter-based
     * generator's): {@code out[at] = r·cos(2π u₂)}, {@code out[at + 1] = r·sin(2π u₂)}, r = √(−2 ln u₁).
     */
    public static void gaussianPair(double u1, double u2, double[] out, int at) {
        double r = radius(u1);
        out[at] = r * Math.cos(TWO_PI * u2);
        out[at + 1] = r * Math.sin(TWO_PI * u2);
    }

    private static double radius(double u1) {
        return Math.sqrt(-2 * Math.log(u1));
    }

    /**
     * Shuffles {@code a} in place into a uniformly random permutation (Fisher–Yates: for i from the end, swap a[i]
     * with a[j], j uniform in [0, i]).
     */
    public static void shuffle(int[] a, RandomGenerator rnd) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }
}
