package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Closed forms every engine must reproduce. */
class KnownAnswersTest {

    static Stream<Backend> engines() {
        return Stream.of(new ReferenceBackend(), CpuBackend.shared());
    }

    static Stream<Arguments> orthonormalCases() {
        // N = 3 orthonormal patterns, query = pattern 0: weight e^β/(e^β + N − 1)
        return engines().flatMap(e -> Stream.of(
                Arguments.of(e, 3, 1f, 0.576117),
                Arguments.of(e, 3, 5f, 0.986703),
                Arguments.of(e, 3, 10f, 0.999909),
                Arguments.of(e, 50, 2f, Math.exp(2) / (Math.exp(2) + 49)),
                Arguments.of(e, 1000, 7f, Math.exp(7) / (Math.exp(7) + 999))));
    }

    @ParameterizedTest(name = "{0}: N={1} beta={2}")
    @MethodSource("orthonormalCases")
    void orthonormalPatternsWeightTheMatchByTheClosedForm(Backend engine, int n, float beta, double weight) {
        RetrievalAssertions.assertOrthonormalClosedForm(engine, n, beta, weight);
    }


    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void identicalPatternsGiveZeroConfidence(String name) {
        Backend engine = Backends.select(name);
        int m = 500;
        try (FloatMatrix x = FloatMatrix.allocate(m, 8); FloatMatrix q = FloatMatrix.allocate(2, 8)) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < 8; j++) {
                    x.set(i, j, 0.25f * (j + 1));
                }
            }
            for (int j = 0; j < 8; j++) {
                q.set(0, j, 1f);
                q.set(1, j, -0.5f * j);
            }
            try (PatternMemory mem = PatternMemory.of(x)) {
                RetrievalResult r = engine.retrieve(mem, q, new RetrievalParams(3f, 4));
                for (int b = 0; b < 2; b++) {
                    assertEquals(Math.log(m), r.entropy()[b], 1e-5, "entropy of a uniform distribution");
                    assertEquals(0.0, r.confidence()[b], 1e-6, "confidence");
                    // all cosines tie: ties go to the smallest indices, in order
                    assertEquals(0L, r.topIndices(b)[0]);
                    assertEquals(3L, r.topIndices(b)[3]);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void confidenceTendsToOneWithBetaWhenTheBestMatchIsUnique(String name) {
        Backend engine = Backends.select(name);
        try (FloatMatrix x = TestMatrices.orthonormal(16, 3); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = x.rows(5, 6).copy()) {
            double previous = -1;
            for (float beta : new float[] {0.5f, 1f, 2f, 4f, 8f}) {
                double c = engine.retrieve(mem, q, new RetrievalParams(beta, 1)).confidence()[0];
                assertTrue(c > previous, "confidence grows with beta: " + c + " after " + previous);
                previous = c;
            }
            double c = engine.retrieve(mem, q, new RetrievalParams(128f, 1)).confidence()[0];
            assertTrue(c > 0.9999, "confidence at beta=128: " + c);
        }
    }
}
