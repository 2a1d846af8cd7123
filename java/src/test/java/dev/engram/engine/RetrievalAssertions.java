package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Compares an engine's result with the reference engine's.
 *
 * <p>Tolerances: a float32 dot product over d terms has absolute error up to about d·2⁻²⁴·‖q‖·‖x‖; times beta that
 * is the error {@code δs} of a softmax logit. A logit error δs moves each weight by a relative δs at most, so the
 * output moves by about δs·max|v| and the entropy by about δs·(1 + log M). We allow 4× that plus 2e-5 for the
 * float32 sums (blocks of ≤ 2k terms, then double). Cosine scores are float32 against double: 2e-5·(1 + d/32).
 */
public final class RetrievalAssertions {
    private RetrievalAssertions() {
    }

    /** Logit error bound δs for this memory, queries and beta (see class comment; {@link RetrievalAgreement}'s). */
    public static double logitError(PatternMemory memory, FloatMatrix queries, float beta) {
        return RetrievalAgreement.logitError(memory, queries, beta);
    }

    public static void assertAgrees(RetrievalResult expected, RetrievalResult actual, PatternMemory memory,
                                    FloatMatrix queries, float beta, String label) {
        assertAgrees(expected, actual, memory, queries, logitError(memory, queries, beta), label);
    }

    /**
     * As {@link #assertAgrees(RetrievalResult, RetrievalResult, PatternMemory, FloatMatrix, float, String)} with the
     * logit error {@code ds} given: 0 when the inputs make every float32 logit exact (see
     * {@link TestMatrices#lattice}), which leaves only the float32 sums' 2e-5 however large the logits are.
     */
    public static void assertAgrees(RetrievalResult expected, RetrievalResult actual, PatternMemory memory,
                                    FloatMatrix queries, double ds, String label) {
        assertEquals(expected.batch(), actual.batch(), label + ": batch");
        assertEquals(expected.valueDim(), actual.valueDim(), label + ": valueDim");
        assertEquals(expected.k(), actual.k(), label + ": k");
        // the bounds are RetrievalAgreement's (engram gpu-check applies them where no test framework runs)
        RetrievalAgreement.Tolerances tol = RetrievalAgreement.Tolerances.of(memory, ds);
        double outTol = tol.output();
        double hTol = tol.entropy();
        double cosTol = tol.cosine();
        for (int i = 0; i < expected.output().length; i++) {
            double e = expected.output()[i];
            double a = actual.output()[i];
            assertTrue(Math.abs(e - a) <= outTol, label + ": output[" + i + "] expected " + e + " got " + a
                    + " (tolerance " + outTol + ")");
        }
        for (int b = 0; b < expected.batch(); b++) {
            assertEquals(expected.entropy()[b], actual.entropy()[b], hTol, label + ": entropy[" + b + "]");
            assertEquals(expected.confidence()[b], actual.confidence()[b], tol.confidence(),
                    label + ": confidence[" + b + "]");
            float[] es = expected.topScores(b);
            float[] as = actual.topScores(b);
            long[] ai = actual.topIndices(b);
            float[] q = queries.row(b);
            for (int i = 0; i < expected.k(); i++) {
                assertEquals(es[i], as[i], cosTol, label + ": top score " + i + " of query " + b);
                double trueCos = cosine(q, memory.patterns().row(ai[i]));
                assertEquals(trueCos, as[i], cosTol, label + ": reported cosine of index " + ai[i] + " (query " + b + ")");
                if (i > 0) {
                    assertTrue(as[i - 1] >= as[i], label + ": top-k not sorted for query " + b);
                }
            }
            assertEquals(expected.k(), java.util.Arrays.stream(ai).distinct().count(), label + ": duplicate top-k indices");
        }
    }

    /**
     * N orthonormal patterns with V = I, query = pattern 0: the output is the weight vector, e^β/(e^β + N − 1) on
     * the match and the rest shared evenly; entropy and confidence follow; top-1 is pattern 0 with cosine 1.
     */
    public static void assertOrthonormalClosedForm(Backend engine, int n, float beta, double weight) {
        try (FloatMatrix x = TestMatrices.orthonormal(n, n);
             FloatMatrix ids = TestMatrices.identity(n);
             PatternMemory mem = PatternMemory.of(x, ids);
             FloatMatrix q = x.rows(0, 1).copy()) {
            // With V = I the output is the weight vector itself.
            RetrievalResult r = engine.retrieve(mem, q, new RetrievalParams(beta, 1));
            double tol = 2e-6 * (1 + beta);
            assertEquals(weight, r.output()[0], tol, "weight on the matching pattern");
            double other = (1 - weight) / (n - 1);
            for (int j = 1; j < n; j++) {
                assertEquals(other, r.output()[j], tol, "weight on pattern " + j);
            }
            // H = −w log w − (1 − w) log((1 − w)/(N − 1))
            double h = -weight * Math.log(weight) - (1 - weight) * Math.log(other);
            assertEquals(h, r.entropy()[0], 1e-5 * (1 + beta), "entropy");
            assertEquals(1 - h / Math.log(n), r.confidence()[0], 1e-5 * (1 + beta), "confidence");
            assertEquals(0L, r.topIndices()[0], "top-1 index");
            assertEquals(1.0, r.topScores()[0], 1e-6, "top-1 cosine");
        }
    }

    static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return na == 0 || nb == 0 ? 0 : dot / Math.sqrt(na * nb);
    }
}
