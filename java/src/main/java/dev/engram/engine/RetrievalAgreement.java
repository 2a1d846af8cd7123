package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;

/**
 * How far an engine's retrieval result is from the reference engine's, against the tolerances the cross-check tests
 * use (RetrievalAssertions in the tests applies the same bounds): for runs where no test framework is present, such
 * as {@code engram gpu-check} on a lent GPU machine.
 *
 * <p>Tolerances: a float32 dot product over d terms has absolute error up to about d·2⁻²⁴·‖q‖·‖x‖; times beta that
 * is the error {@code δs} of a softmax logit. A logit error δs moves each weight by a relative δs at most, so the
 * output moves by about δs·max|v| and the entropy by about δs·(1 + log M). We allow 4× that plus 2e-5 for the
 * float32 sums (blocks of ≤ 2k terms, then double). Cosine scores are float32 against double: 2e-5·(1 + d/32).
 *
 * @param worst        what differs most relative to its tolerance ("output[3]", "top score 0 of query 2", ...), or
 *                     the first structural mismatch (batch, k, unsorted or duplicate top-k)
 * @param error        that quantity's absolute difference (infinite for a structural mismatch)
 * @param tolerance    that quantity's tolerance
 * @param agrees       every quantity within its tolerance and no structural mismatch
 */
public record RetrievalAgreement(String worst, double error, double tolerance, boolean agrees) {

    /** The tolerances for one memory, query batch and logit error bound. */
    public record Tolerances(double output, double entropy, double confidence, double cosine) {
        public static Tolerances of(PatternMemory memory, double logitError) {
            double vMax = Math.max(1e-30, maxAbs(memory.values()));
            double h = 2e-5 + 4 * logitError * (1 + Math.log(memory.size()));
            return new Tolerances(2e-5 * vMax + 4 * logitError * vMax, h,
                    memory.size() == 1 ? 0 : h / Math.log(memory.size()), 2e-5 * (1 + memory.dim() / 32.0));
        }

        /** Every tolerance times {@code f} (e.g. 2 when both results are float32 engines' rather than one the reference's). */
        public Tolerances scaled(double f) {
            return new Tolerances(output * f, entropy * f, confidence * f, cosine * f);
        }
    }

    /** Logit error bound δs for this memory, queries and beta (see the class comment). */
    public static double logitError(PatternMemory memory, FloatMatrix queries, float beta) {
        return beta * memory.dim() * Math.pow(2, -24) * maxRowNorm(queries) * maxRowNorm(memory.patterns());
    }

    /** {@code actual} against {@code expected} (the reference engine's) with the logit error bound for beta. */
    public static RetrievalAgreement compare(RetrievalResult expected, RetrievalResult actual, PatternMemory memory,
                                             FloatMatrix queries, float beta) {
        return compare(expected, actual, memory, queries, logitError(memory, queries, beta));
    }

    /** {@code actual} against {@code expected} with the logit error bound {@code ds} given. */
    public static RetrievalAgreement compare(RetrievalResult expected, RetrievalResult actual, PatternMemory memory,
                                             FloatMatrix queries, double ds) {
        return compare(expected, actual, memory, queries, Tolerances.of(memory, ds));
    }

    /** {@code actual} against {@code expected} with the tolerances given (computed once for a large memory). */
    public static RetrievalAgreement compare(RetrievalResult expected, RetrievalResult actual, PatternMemory memory,
                                             FloatMatrix queries, Tolerances tol) {
        if (expected.batch() != actual.batch() || expected.valueDim() != actual.valueDim() || expected.k() != actual.k()) {
            return mismatch("shape: batch/valueDim/k " + expected.batch() + "/" + expected.valueDim() + "/" + expected.k()
                    + " expected, got " + actual.batch() + "/" + actual.valueDim() + "/" + actual.k());
        }
        Worst w = new Worst();
        for (int i = 0; i < expected.output().length; i++) {
            w.see("output[" + i + "]", Math.abs(expected.output()[i] - actual.output()[i]), tol.output);
        }
        for (int b = 0; b < expected.batch(); b++) {
            w.see("entropy[" + b + "]", Math.abs(expected.entropy()[b] - actual.entropy()[b]), tol.entropy);
            w.see("confidence[" + b + "]", Math.abs(expected.confidence()[b] - actual.confidence()[b]), tol.confidence);
            float[] es = expected.topScores(b);
            float[] as = actual.topScores(b);
            long[] ai = actual.topIndices(b);
            float[] q = queries.row(b);
            for (int i = 0; i < expected.k(); i++) {
                if (ai[i] < 0 || ai[i] >= memory.size()) {
                    return mismatch("top-k index " + ai[i] + " of query " + b + " is outside [0, " + memory.size() + ")");
                }
                w.see("top score " + i + " of query " + b, Math.abs(es[i] - as[i]), tol.cosine);
                w.see("reported cosine of index " + ai[i] + " (query " + b + ")",
                        Math.abs(cosine(q, memory.patterns().row(ai[i])) - as[i]), tol.cosine);
                if (i > 0 && !(as[i - 1] >= as[i])) {
                    return mismatch("top-k of query " + b + " not sorted at position " + i);
                }
            }
            if (java.util.Arrays.stream(ai).distinct().count() != expected.k()) {
                return mismatch("duplicate top-k indices for query " + b);
            }
        }
        return new RetrievalAgreement(w.what, w.error, w.tolerance, w.ratio <= 1);
    }

    private static RetrievalAgreement mismatch(String what) {
        return new RetrievalAgreement(what, Double.POSITIVE_INFINITY, 0, false);
    }

    /** The quantity with the largest error/tolerance ratio so far (NaN counts as infinitely wrong). */
    private static final class Worst {
        String what = "nothing compared";
        double error;
        double tolerance;
        double ratio = -1;

        void see(String name, double err, double tol) {
            double r = Double.isNaN(err) ? Double.POSITIVE_INFINITY
                    : tol == 0 ? (err == 0 ? 0 : Double.POSITIVE_INFINITY) : err / tol;
            if (r > ratio) {
                ratio = r;
                what = name;
                error = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                tolerance = tol;
            }
        }
    }

    static double maxRowNorm(FloatMatrix m) {
        double best = 0;
        for (long r = 0; r < m.rows(); r++) {
            double s = 0;
            for (int c = 0; c < m.cols(); c++) {
                double v = m.get(r, c);
                s += v * v;
            }
            best = Math.max(best, Math.sqrt(s));
        }
        return best;
    }

    static double maxAbs(FloatMatrix m) {
        double best = 0;
        for (long r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                best = Math.max(best, Math.abs(m.get(r, c)));
            }
        }
        return best;
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
