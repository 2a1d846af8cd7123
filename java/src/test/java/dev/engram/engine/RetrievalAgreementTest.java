package dev.engram.engine;

import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * RetrievalAgreement (what {@code engram gpu-check} judges GPU engines by, without JUnit): the same bounds as
 * {@link RetrievalAssertions}, and every kind of wrong answer caught and named.
 */
class RetrievalAgreementTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();

    private record Case(PatternMemory memory, FloatMatrix queries, RetrievalResult want, float beta) implements AutoCloseable {
        @Override
        public void close() {
            memory.close();
            queries.close();
        }
    }

    private static Case make() {
        float beta = 2f;
        try (FloatMatrix x = RandomMatrices.uniform(500, 24, 1); FloatMatrix v = RandomMatrices.gaussian(500, 5, 2)) {
            PatternMemory mem = PatternMemory.of(x, v);
            FloatMatrix q = RandomMatrices.uniform(3, 24, 3);
            return new Case(mem, q, REFERENCE.retrieve(mem, q, new RetrievalParams(beta, 6)), beta);
        }
    }

    private static RetrievalResult copy(RetrievalResult r) {
        return new RetrievalResult(r.batch(), r.valueDim(), r.k(), r.output().clone(), r.entropy().clone(),
                r.confidence().clone(), r.topIndices().clone(), r.topScores().clone());
    }

    @Test
    void theCpuEngineAgreesAndTheBoundsAreRetrievalAssertions() {
        try (Case c = make()) {
            RetrievalResult cpu = Backends.select("cpu").retrieve(c.memory, c.queries, new RetrievalParams(c.beta, 6));
            RetrievalAgreement a = RetrievalAgreement.compare(c.want, cpu, c.memory, c.queries, c.beta);
            assertTrue(a.agrees(), a.toString());
            assertTrue(a.error() <= a.tolerance(), a.toString());
            RetrievalAssertions.assertAgrees(c.want, cpu, c.memory, c.queries, c.beta, "cpu");
            assertEquals(RetrievalAssertions.logitError(c.memory, c.queries, c.beta),
                    RetrievalAgreement.logitError(c.memory, c.queries, c.beta));
            RetrievalAgreement self = RetrievalAgreement.compare(c.want, c.want, c.memory, c.queries, c.beta);
            assertTrue(self.agrees());  // only the reference's own float32 cosines against their double values differ
            assertTrue(self.error() < 1e-6, self.toString());
        }
    }

    @Test
    void anOutputJustOutsideItsToleranceFailsAndIsNamed() {
        try (Case c = make()) {
            double ds = RetrievalAgreement.logitError(c.memory, c.queries, c.beta);
            double tol = RetrievalAgreement.Tolerances.of(c.memory, ds).output();
            RetrievalResult bad = copy(c.want);
            bad.output()[7] += (float) (1.5 * tol);
            RetrievalAgreement a = RetrievalAgreement.compare(c.want, bad, c.memory, c.queries, c.beta);
            assertFalse(a.agrees());
            assertEquals("output[7]", a.worst());
            assertEquals(tol, a.tolerance());
            assertTrue(a.error() > tol);
            // within the tolerance it passes
            RetrievalResult ok = copy(c.want);
            ok.output()[7] += (float) (0.5 * tol);
            assertTrue(RetrievalAgreement.compare(c.want, ok, c.memory, c.queries, c.beta).agrees());
            // twice the tolerance (two float32 engines compared) lets 1.5× through
            assertTrue(RetrievalAgreement.compare(c.want, bad, c.memory, c.queries,
                    RetrievalAgreement.Tolerances.of(c.memory, ds).scaled(2)).agrees());
        }
    }

    @Test
    void wrongEntropyTopKAndNaNAreCaught() {
        try (Case c = make()) {
            RetrievalResult h = copy(c.want);
            h.entropy()[2] += 1e-3f;
            assertEquals("entropy[2]", RetrievalAgreement.compare(c.want, h, c.memory, c.queries, c.beta).worst());

            RetrievalResult nan = copy(c.want);
            nan.output()[0] = Float.NaN;
            RetrievalAgreement a = RetrievalAgreement.compare(c.want, nan, c.memory, c.queries, c.beta);
            assertFalse(a.agrees());
            assertEquals("output[0]", a.worst());
            assertEquals(Double.POSITIVE_INFINITY, a.error());

            // query 1's best index replaced by one outside its top 6: the reported score is not that pattern's cosine
            RetrievalResult wrongIndex = copy(c.want);
            java.util.Set<Long> top = new java.util.HashSet<>();
            for (long i : c.want.topIndices(1)) {
                top.add(i);
            }
            long other = java.util.stream.LongStream.range(0, 500).filter(i -> !top.contains(i)).findFirst().orElseThrow();
            wrongIndex.topIndices()[6] = other;
            RetrievalAgreement w = RetrievalAgreement.compare(c.want, wrongIndex, c.memory, c.queries, c.beta);
            assertFalse(w.agrees());
            assertEquals("reported cosine of index " + other + " (query 1)", w.worst());

            RetrievalResult unsorted = copy(c.want);
            float s = unsorted.topScores()[0];
            unsorted.topScores()[0] = unsorted.topScores()[1];
            unsorted.topScores()[1] = s;
            assertFalse(RetrievalAgreement.compare(c.want, unsorted, c.memory, c.queries, c.beta).agrees());

            RetrievalResult dup = copy(c.want);
            dup.topIndices()[1] = dup.topIndices()[0];
            dup.topScores()[1] = dup.topScores()[0];
            RetrievalAgreement d = RetrievalAgreement.compare(c.want, dup, c.memory, c.queries, c.beta);
            assertFalse(d.agrees());

            RetrievalResult outside = copy(c.want);
            outside.topIndices()[0] = 500;
            RetrievalAgreement o = RetrievalAgreement.compare(c.want, outside, c.memory, c.queries, c.beta);
            assertFalse(o.agrees());
            assertEquals("top-k index 500 of query 0 is outside [0, 500)", o.worst());
        }
    }
}
