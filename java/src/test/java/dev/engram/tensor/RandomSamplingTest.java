package dev.engram.tensor;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Box–Muller normals and Fisher–Yates shuffles: exact on given uniforms, right in distribution on many draws. */
class RandomSamplingTest {
    /** Returns the scripted uniforms in order and records the bounds asked of nextInt. */
    private static final class Scripted implements RandomGenerator {
        private final double[] u;
        private int next;
        final List<Integer> bounds = new ArrayList<>();

        Scripted(double... u) {
            this.u = u;
        }

        @Override
        public long nextLong() {
            throw new AssertionError("not expected");
        }

        @Override
        public double nextDouble() {
            return u[next++];
        }

        @Override
        public int nextInt(int bound) {
            bounds.add(bound);
            return bound / 2;
        }
    }

    @Test
    void gaussianIsTheCosineBranchOfBoxMullerOnOneMinusTheFirstUniform() {
        double g = RandomSampling.gaussian(new Scripted(0.25, 0.1), 2.0);
        assertEquals(2.0 * Math.sqrt(-2 * Math.log(0.75)) * Math.cos(2 * Math.PI * 0.1), g, 1e-15);
        // U = 0 gives u1 = 1: radius 0, never log 0
        assertEquals(0.0, RandomSampling.gaussian(new Scripted(0.0, 0.3)), 0.0);
        assertEquals(Math.sqrt(-2 * Math.log(0.5)), RandomSampling.gaussian(new Scripted(0.5, 0.0)), 1e-15);
    }

    @Test
    void aSeededGeneratorGivesTheSameNumbersAndKnownFirstValues() {
        double[] a = RandomSampling.gaussians(new SplittableRandom(7), 5, 1.5);
        double[] b = RandomSampling.gaussians(new SplittableRandom(7), 5, 1.5);
        assertArrayEquals(a, b, 0.0);
        SplittableRandom u = new SplittableRandom(7);
        SplittableRandom g = new SplittableRandom(7);
        for (double v : a) {
            double u1 = 1 - u.nextDouble();
            double u2 = u.nextDouble();
            double expect = 1.5 * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
            assertEquals(expect, v, 1e-15);
            assertEquals(expect / 1.5, RandomSampling.gaussian(g), 1e-15);
        }
        assertEquals(0, RandomSampling.gaussians(new SplittableRandom(7), 0, 1).length);
    }

    @Test
    void momentsOverManyDrawsAreThoseOfANormal() {
        int n = 400_000;
        double sigma = 3;
        double[] x = RandomSampling.gaussians(new SplittableRandom(42), n, sigma);
        double mean = Arrays.stream(x).average().orElseThrow();
        double var = Arrays.stream(x).map(v -> (v - mean) * (v - mean)).sum() / n;
        double kurt = Arrays.stream(x).map(v -> Math.pow((v - mean) / sigma, 4)).sum() / n;
        double skew = Arrays.stream(x).map(v -> Math.pow((v - mean) / sigma, 3)).sum() / n;
        // standard errors: mean σ/√n = 0.0047, variance σ²√(2/n) = 0.020, skew √(6/n) = 0.004, kurtosis √(24/n) = 0.008
        assertEquals(0, mean, 0.025);
        assertEquals(sigma * sigma, var, 0.1);
        assertEquals(0, skew, 0.02);
        assertEquals(3, kurt, 0.05);
        long within = Arrays.stream(x).filter(v -> Math.abs(v) < sigma).count();
        assertEquals(0.6827, within / (double) n, 0.004);
    }

    @Test
    void gaussianPairIsBothBranchesAtTheGivenOffset() {
        double[] out = {9, 9, 9, 9};
        RandomSampling.gaussianPair(0.5, 0.125, out, 1);
        double r = Math.sqrt(2 * Math.log(2));
        assertEquals(9, out[0], 0.0);
        assertEquals(r * Math.cos(Math.PI / 4), out[1], 1e-15);
        assertEquals(r * Math.sin(Math.PI / 4), out[2], 1e-15);
        assertEquals(9, out[3], 0.0);
        RandomSampling.gaussianPair(1.0, 0.7, out, 0);
        assertEquals(0, out[0], 0.0);
        assertEquals(0, out[1], 0.0);
    }

    @Test
    void gaussianPairsAreIndependentStandardNormals() {
        int n = 200_000;
        SplittableRandom rnd = new SplittableRandom(3);
        double[] p = new double[2];
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0, sxxyy = 0;
        for (int i = 0; i < n; i++) {
            RandomSampling.gaussianPair(1 - rnd.nextDouble(), rnd.nextDouble(), p, 0);
            sx += p[0];
            sy += p[1];
            sxx += p[0] * p[0];
            syy += p[1] * p[1];
            sxy += p[0] * p[1];
            sxxyy += p[0] * p[0] * p[1] * p[1];
        }
        // standard errors: mean 0.0022, variance 0.0032, correlation 0.0022, E[x²y²] (=1 if independent) 0.0066
        assertEquals(0, sx / n, 0.012);
        assertEquals(0, sy / n, 0.012);
        assertEquals(1, sxx / n, 0.016);
        assertEquals(1, syy / n, 0.016);
        assertEquals(0, sxy / n, 0.012);
        assertEquals(1, sxxyy / n, 0.035);
    }

    @Test
    void shuffleIsFisherYatesFromTheEnd() {
        Scripted s = new Scripted();
        int[] a = {0, 1, 2, 3, 4};
        RandomSampling.shuffle(a, s);
        assertEquals(List.of(5, 4, 3, 2), s.bounds);
        // j = bound/2: i=4 swaps with 2 -> 01432, i=3 with 2 -> 01342, i=2 with 1 -> 03142, i=1 with 1
        assertArrayEquals(new int[] {0, 3, 1, 4, 2}, a);
        Scripted none = new Scripted();
        int[] one = {7};
        RandomSampling.shuffle(one, none);
        RandomSampling.shuffle(new int[0], none);
        assertArrayEquals(new int[] {7}, one);
        assertEquals(List.of(), none.bounds);
    }

    @Test
    void shuffleGivesAPermutationUniformInTheFirstPlace() {
        int m = 6;
        int trials = 60_000;
        long[] first = new long[m];
        SplittableRandom rnd = new SplittableRandom(11);
        for (int t = 0; t < trials; t++) {
            int[] a = {0, 1, 2, 3, 4, 5};
            RandomSampling.shuffle(a, rnd);
            int[] sorted = a.clone();
            Arrays.sort(sorted);
            assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5}, sorted);
            first[a[0]]++;
        }
        double expected = trials / (double) m;
        double chi2 = 0;
        for (long c : first) {
            chi2 += (c - expected) * (c - expected) / expected;
        }
        // 5 degrees of freedom: P(χ² > 20.5) = 0.001
        assertTrue(chi2 < 20.5, "chi-square " + chi2 + " counts " + Arrays.toString(first));
        int[] x = {0, 1, 2, 3, 4, 5, 6, 7};
        int[] y = x.clone();
        RandomSampling.shuffle(x, new SplittableRandom(5));
        RandomSampling.shuffle(y, new SplittableRandom(5));
        assertArrayEquals(x, y);
    }
}
