package dev.engram.engine.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link ReproducibleMath} against {@code Math.exp}/{@code Math.tanh} in double over their whole float32 range
 * (a dense even grid, random points, and the edges), the vector forms against the scalar forms bit for bit, and the
 * sums against a plain scalar statement of the canonical order (so every vector width gives those bits).
 */
class ReproducibleMathTest {
    /** 2⁻²³, float32's ulp at 1: relative errors below are in these units. */
    private static final double ULP = Math.ulp(1f);
    private static final int L = CpuVectors.LANES;

    /** Relative error of {@code got} against {@code exact}, in ulps of float32 at 1 (2⁻²³). */
    private static double relUlps(float got, double exact) {
        return Math.abs(got - exact) / Math.abs(exact) / ULP;
    }

    /** n even points in [lo, hi], then n random ones, then the given edges. */
    private static float[] points(float lo, float hi, int n, long seed, float... edges) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] x = new float[2 * n + edges.length];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (lo + (hi - lo) * (double) i / (n - 1));
            x[n + i] = (float) (lo + (hi - lo) * rnd.nextDouble());
        }
        System.arraycopy(edges, 0, x, 2 * n, edges.length);
        return x;
    }

    @Test
    void expIsWithinOneUlpOverTheNormalRange() {
        float[] x = points(ReproducibleMath.EXP_MIN, ReproducibleMath.EXP_MAX, 2_000_000, 1,
                ReproducibleMath.EXP_MIN, ReproducibleMath.EXP_MAX, 0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE,
                1e-30f, -1e-30f, 1f, -1f, 0.34657359f, -0.34657359f, 88f, -87f);
        double worst = 0;
        float at = 0;
        for (float v : x) {
            double e = relUlps(ReproducibleMath.exp(v), Math.exp(v));
            if (e > worst) {
                worst = e;
                at = v;
            }
        }
        System.out.printf("exp: max relative error %.3f ulp at x = %s%n", worst, at);
        assertTrue(worst <= 1, "exp relative error " + worst + " ulp at x = " + at);
    }

    @Test
    void expOutsideTheNormalRange() {
        // below ln(2^-126) the result is 0: absolute error under 2^-126
        for (float v : new float[] {Math.nextDown(ReproducibleMath.EXP_MIN), -88f, -103.9f, -104f, -1e4f, -1e30f,
                -Float.MAX_VALUE, Float.NEGATIVE_INFINITY}) {
            float got = ReproducibleMath.exp(v);
            assertEquals(0f, got, "exp(" + v + ")");
            assertTrue(Math.exp(v) < Float.MIN_NORMAL, "exp(" + v + ") is below the smallest normal float");
        }
        for (float v : new float[] {Math.nextUp(ReproducibleMath.EXP_MAX), 88.5f, 89f, 1e30f, Float.MAX_VALUE,
                Float.POSITIVE_INFINITY}) {
            assertEquals(Float.POSITIVE_INFINITY, ReproducibleMath.exp(v), "exp(" + v + ")");
            assertTrue(Math.exp(v) > 2.4e38, "exp(" + v + ") is within a factor 1.42 of float32 overflow or beyond");
        }
        assertEquals(1f, ReproducibleMath.exp(0f));
        assertEquals(1f, ReproducibleMath.exp(-0f));
        assertTrue(Float.isNaN(ReproducibleMath.exp(Float.NaN)));
    }

    @Test
    void tanhIsWithinOneAndAHalfUlpEverywhere() {
        float[] x = points(-12f, 12f, 2_000_000, 2, 0.625f, -0.625f, Math.nextDown(0.625f), -Math.nextDown(0.625f),
                9.5f, 10f, -10f, Math.nextDown(10f), 1e-3f, 1e-8f, -1e-8f, 1e-30f, Float.MIN_VALUE, -Float.MIN_VALUE,
                Float.MIN_NORMAL, 20f, 1e30f, -1e30f, Float.MAX_VALUE, -Float.MAX_VALUE);
        float[] tiny = points(-0.7f, 0.7f, 500_000, 3);
        double worst = 0;
        float at = 0;
        for (float[] set : new float[][] {x, tiny}) {
            for (float v : set) {
                if (v == 0) {
                    continue;
                }
                double e = relUlps(ReproducibleMath.tanh(v), Math.tanh(v));
                if (e > worst) {
                    worst = e;
                    at = v;
                }
                assertEquals(Float.floatToRawIntBits(-ReproducibleMath.tanh(v)),
                        Float.floatToRawIntBits(ReproducibleMath.tanh(-v)), "tanh is odd at " + v);
            }
        }
        System.out.printf("tanh: max relative error %.3f ulp at x = %s%n", worst, at);
        assertTrue(worst <= 1.5, "tanh relative error " + worst + " ulp at x = " + at);
    }

    @Test
    void tanhEdges() {
        assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(ReproducibleMath.tanh(0f)), "+0");
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(ReproducibleMath.tanh(-0f)), "−0");
        for (float v : new float[] {10f, 11f, 1e5f, 1e30f, Float.MAX_VALUE, Float.POSITIVE_INFINITY}) {
            assertEquals(1f, ReproducibleMath.tanh(v), "tanh(" + v + ")");
            assertEquals(-1f, ReproducibleMath.tanh(-v), "tanh(" + -v + ")");
        }
        assertEquals(Float.MIN_VALUE, ReproducibleMath.tanh(Float.MIN_VALUE), "tanh(x) = x for the tiniest x");
    }

    /** A lane of the vector (array) form and the scalar form perform the same operations: equal bits. */
    @Test
    void vectorAndScalarFormsAgreeToTheBit() {
        SplittableRandom rnd = new SplittableRandom(4);
        float[] x = new float[L];
        float[] e = new float[L];
        float[] t = new float[L];
        float[] specials = {0f, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, 1e30f, -1e30f,
                ReproducibleMath.EXP_MIN, ReproducibleMath.EXP_MAX, 0.625f, -0.625f, 10f, Float.MIN_VALUE};
        for (int round = 0; round < 20_000; round++) {
            for (int i = 0; i < L; i++) {
                int kind = rnd.nextInt(4);
                x[i] = switch (kind) {
                    case 0 -> (float) (rnd.nextDouble() * 200 - 100);
                    case 1 -> (float) (rnd.nextDouble() * 2 - 1);
                    case 2 -> Float.intBitsToFloat(rnd.nextInt());
                    default -> specials[rnd.nextInt(specials.length)];
                };
            }
            System.arraycopy(x, 0, e, 0, L);
            System.arraycopy(x, 0, t, 0, L);
            ReproducibleMath.exp(e, 0, L);
            ReproducibleMath.tanh(t, 0, L);
            for (int i = 0; i < L; i++) {
                assertEquals(Float.floatToRawIntBits(ReproducibleMath.exp(x[i])), Float.floatToRawIntBits(e[i]),
                        "exp lane vs scalar at " + x[i]);
                assertEquals(Float.floatToRawIntBits(ReproducibleMath.tanh(x[i])), Float.floatToRawIntBits(t[i]),
                        "tanh lane vs scalar at " + x[i]);
            }
        }
    }

    /** The canonical order written out in scalars: lane j mod 16 sequentially, then the halving tree. */
    static float canonicalSum(float[] a, int from, int n) {
        float[] lane = new float[16];
        for (int j = 0; j < n; j++) {
            lane[j % 16] += a[from + j];
        }
        for (int half = 8; half >= 1; half /= 2) {
            for (int i = 0; i < half; i++) {
                lane[i] = lane[i] + lane[i + half];
            }
        }
        return lane[0];
    }

    @ParameterizedTest(name = "n={0}")
    @ValueSource(ints = {0, 1, 3, 4, 15, 16, 17, 31, 32, 100, 128, 129, 1000})
    void sumsFollowTheCanonicalOrderAtThisVectorWidth(int n) {
        SplittableRandom rnd = new SplittableRandom(n);
        float[] a = new float[n + 5];
        for (int i = 0; i < a.length; i++) {
            // wide dynamic range so that a different order would show in the bits
            a[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(8)));
        }
        for (int from : new int[] {0, 5}) {
            if (from + n > a.length) {
                continue;
            }
            assertEquals(Float.floatToRawIntBits(canonicalSum(a, from, n)),
                    Float.floatToRawIntBits(ReproducibleMath.sum(a, from, n)), "sum of " + n + " from " + from
                            + " at " + L + " lanes");
        }
    }

    @ParameterizedTest(name = "rows={0}")
    @ValueSource(ints = {0, 1, 3, 4, 5, 8, 15, 16, 17, 33, 128, 131})
    void rowSumsFollowTheHalvingTreeAtThisVectorWidth(int rows) {
        SplittableRandom rnd = new SplittableRandom(100 + rows);
        float[] lanes = new float[16 * rows];
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = (float) ((rnd.nextDouble() - 0.5) * Math.pow(10, rnd.nextInt(8)));
        }
        float[] out = new float[rows + 3];
        java.util.Arrays.fill(out, -7f);
        ReproducibleMath.sum16Rows(lanes, rows, out, 2);
        for (int r = 0; r < rows; r++) {
            // 16 values, one per virtual lane: the canonical sum is just the halving tree over them
            assertEquals(Float.floatToRawIntBits(canonicalSum(lanes, 16 * r, 16)), Float.floatToRawIntBits(out[2 + r]),
                    "row " + r + " of " + rows + " at " + L + " lanes");
        }
        assertEquals(-7f, out[0]);
        assertEquals(-7f, out[1]);
        assertEquals(-7f, out[rows + 2], "nothing written past the last row");
    }
}
