package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a softmax average is at any logit scale, and how far two of them computed from logits that differ by at most
 * δ can be apart, for tests whose logits reach ±1e30 (where "beta·δ" tolerances say nothing).
 *
 * <p>The bounds: with weights w_i = e^(s_i)/Σ e^(s_j) and w'_i from logits s'_i, |s'_i − s_i| ≤ δ, each ratio
 * w'_i/w_i lies in [e^(−2δ), e^(2δ)], so Σ|w'_i − w_i| ≤ e^(2δ) − 1. And with s_1 the largest logit and
 * r = Σ_(i≠1) e^(s_i − s_1) (the mass outside the top, up to normalisation), Σ_(i≠1) w_i ≤ r and Σ_(i≠1) w'_i ≤ e^(2δ)·r,
 * so Σ|w'_i − w_i| ≤ (1 + 2e^(2δ))·r: at a large scale the weights are one-hot and agree unless the top two logits are
 * within a few δ. For values with |v| ≤ 1 an output moves by at most Σ|w'_i − w_i|.
 */
public final class SoftmaxBounds {
    private SoftmaxBounds() {
    }

    /**
     * Σ_(i≠top) e^(s_i − s_top + shift) for query row {@code b} of {@code queries} against the rows of {@code x}, with
     * logits {@code s_i = beta·q·x_i} computed in double (the shift inside the exponent, so e^(2δ)·r cannot become ∞·0).
     */
    static double offTopMass(FloatMatrix x, FloatMatrix queries, int b, double beta, double shift) {
        int m = (int) x.rows();
        double[] s = new double[m];
        int top = 0;
        for (int i = 0; i < m; i++) {
            double dot = 0;
            for (int j = 0; j < x.cols(); j++) {
                dot += (double) queries.get(b, j) * x.get(i, j);
            }
            s[i] = beta * dot;
            if (s[i] > s[top]) {
                top = i;
            }
        }
        double r = 0;
        for (int i = 0; i < m; i++) {
            if (i != top) {
                r += Math.exp(s[i] - s[top] + shift);
            }
        }
        return r;
    }

    /**
     * The largest Σ|w'_i − w_i| (see class comment) for query row {@code b} of {@code queries} against the rows of
     * {@code x} at this beta, between weights from logits within {@code delta} of each other.
     */
    public static double weightChangeBound(FloatMatrix x, FloatMatrix queries, int b, double beta, double delta) {
        double oneHot = offTopMass(x, queries, b, beta, 0) + 2 * offTopMass(x, queries, b, beta, 2 * delta);
        return Math.min(Math.expm1(2 * delta), oneHot);
    }

    /**
     * The largest entropy of either distribution when the off-top mass of both is at most ε = Σ_(i≠top) e^(s_i − s_top
     * + 2δ) ≤ 1/e: H ≤ ε·(1 − log ε) + ε·log(M − 1) (binary entropy of the top plus the rest spread evenly);
     * +∞ for larger ε.
     */
    public static double nearOneHotEntropyBound(FloatMatrix x, FloatMatrix queries, int b, double beta, double delta) {
        double eps = offTopMass(x, queries, b, beta, 2 * delta);
        if (eps == 0) {
            return 0;
        }
        return eps > Math.exp(-1) ? Double.POSITIVE_INFINITY
                : eps * (1 - Math.log(eps) + Math.log(Math.max(1, x.rows() - 1)));
    }

    /**
     * What any softmax average of the rows of x is, at any logit scale: finite, inside the rows' bounding box (a
     * convex combination), with an entropy in [0, log M]. (V = X here.)
     */
    public static void assertSoftmaxAverage(RetrievalResult r, FloatMatrix x, String what) {
        long m = x.rows();
        for (int q = 0; q < r.batch(); q++) {
            for (int j = 0; j < r.valueDim(); j++) {
                float lo = Float.POSITIVE_INFINITY;
                float hi = Float.NEGATIVE_INFINITY;
                for (long i = 0; i < m; i++) {
                    lo = Math.min(lo, x.get(i, j));
                    hi = Math.max(hi, x.get(i, j));
                }
                float o = r.output()[q * r.valueDim() + j];
                assertTrue(Float.isFinite(o) && o >= lo - 1e-6f && o <= hi + 1e-6f, what + " output[" + q + "][" + j
                        + "] = " + o + " is outside the rows' range [" + lo + ", " + hi + "]");
            }
            float h = r.entropy()[q];
            assertTrue(Float.isFinite(h) && h >= -1e-5 && h <= Math.log(m) + 1e-5,
                    what + " entropy[" + q + "] = " + h + " is outside [0, log M = " + Math.log(m) + "]");
        }
    }
}
