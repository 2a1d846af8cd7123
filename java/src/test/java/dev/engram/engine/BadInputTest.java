package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input gets an error naming the argument and value, and never changes the memory. */
class BadInputTest {

    private static void assertMessage(Throwable t, String... parts) {
        for (String p : parts) {
            assertTrue(t.getMessage().contains(p), "message '" + t.getMessage() + "' should mention '" + p + "'");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void emptyMemory(String name) {
        Backend engine = Backends.select(name);
        try (PatternMemory mem = PatternMemory.create(4); FloatMatrix q = FloatMatrix.allocate(1, 4)) {
            var e = assertThrows(IllegalArgumentException.class, () -> engine.retrieve(mem, q, new RetrievalParams(1f, 0)));
            assertMessage(e, "memory is empty");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void dimensionMismatchNanQueriesAndKTooLarge(String name) {
        Backend engine = Backends.select(name);
        try (FloatMatrix x = RandomMatrices.uniform(10, 4, 1); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q5 = FloatMatrix.allocate(2, 5); FloatMatrix q = RandomMatrices.uniform(2, 4, 2)) {
            float[] before = mem.patterns().toArray();
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(mem, q5, new RetrievalParams(1f, 1))), "d=5", "d=4");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(mem, q, new RetrievalParams(1f, 11))), "k=11", "M=10");
            q.set(1, 2, Float.NaN);
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> engine.retrieve(mem, q, new RetrievalParams(1f, 1))), "queries", "(1, 2)", "NaN");
            assertArrayEquals(before, mem.patterns().toArray(), "memory unchanged");
        }
    }

    @Test
    void betaMustBeFinitePositive() {
        for (float beta : new float[] {0f, -1f, Float.NaN, Float.POSITIVE_INFINITY}) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> new RetrievalParams(beta, 1)),
                    "beta", String.valueOf(beta));
        }
        assertMessage(assertThrows(IllegalArgumentException.class, () -> new RetrievalParams(1f, -2)), "k", "-2");
    }

    @Test
    void rejectedAppendsLeaveTheMemoryAsItWas() {
        try (FloatMatrix x = RandomMatrices.uniform(5, 3, 1); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix bad = RandomMatrices.uniform(4, 3, 2); FloatMatrix wide = FloatMatrix.allocate(2, 4)) {
            float[] before = mem.patterns().toArray();
            float[] normsBefore = mem.norms().toArray();
            bad.set(3, 1, Float.POSITIVE_INFINITY);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> mem.append(bad)),
                    "patterns", "(3, 1)", "Infinity");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> mem.append(wide)), "d=4", "d=3");
            assertEquals(5, mem.size());
            assertArrayEquals(before, mem.patterns().toArray());
            assertArrayEquals(normsBefore, mem.norms().toArray());
        }
    }

    @Test
    void valuesMustMatchPatterns() {
        try (PatternMemory mem = PatternMemory.create(3, 2); FloatMatrix x = FloatMatrix.allocate(4, 3);
             FloatMatrix v = FloatMatrix.allocate(3, 2); FloatMatrix v3 = FloatMatrix.allocate(4, 3)) {
            assertMessage(assertThrows(IllegalArgumentException.class, () -> mem.append(x, v)), "3 rows", "have 4");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> mem.append(x, v3)), "dv=3", "dv=2");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> mem.append(x)), "values");
            assertEquals(0, mem.size());
        }
    }

    @Test
    void replaceValidatesAndCountsRewrites() {
        try (FloatMatrix x = RandomMatrices.uniform(5, 3, 1); FloatMatrix v = RandomMatrices.uniform(5, 2, 2);
             PatternMemory mem = PatternMemory.of(x, v)) {
            float[] before = mem.patterns().toArray();
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> mem.replace(1, new float[] {1, Float.NaN, 0}, new float[] {0, 0})), "pattern[1]", "NaN");
            assertMessage(assertThrows(IllegalArgumentException.class,
                    () -> mem.replace(1, new float[] {1, 2, 3}, new float[] {0})), "dv=2");
            assertThrows(IndexOutOfBoundsException.class, () -> mem.replace(5, new float[3], new float[2]));
            assertArrayEquals(before, mem.patterns().toArray(), "rejected replace leaves the memory as it was");
            assertEquals(0, mem.rewrites());
            mem.replace(2, new float[] {3, 0, 4}, new float[] {7, 8});
            assertEquals(1, mem.rewrites());
            assertArrayEquals(new float[] {3, 0, 4}, mem.patterns().row(2));
            assertArrayEquals(new float[] {7, 8}, mem.values().row(2));
            assertEquals(5f, mem.norms().get(2, 0), 1e-6f);
        }
    }

    @Test
    void unknownBackendIsNamed() {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> Backends.select("gpu9")), "gpu9", "reference");
    }
}
