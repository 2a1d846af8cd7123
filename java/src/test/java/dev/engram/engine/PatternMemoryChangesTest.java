package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The change log engines use to update their copies row by row: versions, replaced rows, truncation. */
class PatternMemoryChangesTest {

    @Test
    void everyChangeBumpsTheVersionAndOnlyReplacementsAreListed() {
        try (FloatMatrix x = RandomMatrices.uniform(10, 3, 1); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix more = RandomMatrices.uniform(4, 3, 2)) {
            long v0 = mem.version();
            assertEquals(1, v0, "the first append");
            mem.replace(7, new float[] {1, 2, 3}, null);
            mem.replace(2, new float[] {1, 0, 0}, null);
            mem.append(more);
            mem.replace(7, new float[] {0, 0, 1}, null);
            mem.replace(12, new float[] {0, 1, 0}, null);
            assertEquals(v0 + 5, mem.version());
            PatternMemory.ReplacedRows all = mem.replacedSince(v0);
            assertTrue(all.complete());
            assertArrayEquals(new long[] {2, 7, 12}, all.rows(), "ascending, distinct");
            assertArrayEquals(new long[] {7, 12}, mem.replacedSince(v0 + 3).rows(), "only those after the version");
            assertArrayEquals(new long[0], mem.replacedSince(mem.version()).rows());
            assertThrows(IllegalArgumentException.class, () -> mem.replacedSince(mem.version() + 1));
            assertThrows(IllegalArgumentException.class, () -> mem.replacedSince(-1));
        }
    }

    @Test
    void rejectedChangesLeaveTheVersionAlone() {
        try (FloatMatrix x = RandomMatrices.uniform(5, 2, 3); PatternMemory mem = PatternMemory.of(x)) {
            long v = mem.version();
            assertThrows(IllegalArgumentException.class, () -> mem.replace(1, new float[] {Float.NaN, 0}, null));
            assertThrows(IndexOutOfBoundsException.class, () -> mem.replace(5, new float[2], null));
            assertEquals(v, mem.version());
            assertArrayEquals(new long[0], mem.replacedSince(v).rows());
        }
    }

    /** Random replacements: the listed rows are exactly the distinct rows replaced after each version. */
    @ParameterizedTest(name = "seed={0}")
    @ValueSource(longs = {11, 12, 13})
    void replacedSinceListsExactlyTheRowsReplacedAfterEachVersion(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (FloatMatrix x = RandomMatrices.uniform(300, 2, seed); PatternMemory mem = PatternMemory.of(x)) {
            long start = mem.version();
            long[] rows = new long[500];
            for (int i = 0; i < rows.length; i++) {
                rows[i] = rnd.nextLong(mem.size());
                mem.replace(rows[i], new float[] {rnd.nextFloat(), rnd.nextFloat()}, null);
            }
            for (int after = 0; after <= rows.length; after += 37) {
                TreeSet<Long> expected = new TreeSet<>();
                for (int i = after; i < rows.length; i++) {
                    expected.add(rows[i]);
                }
                PatternMemory.ReplacedRows got = mem.replacedSince(start + after);
                assertTrue(got.complete());
                assertArrayEquals(expected.stream().mapToLong(Long::longValue).toArray(), got.rows(), "after " + after);
            }
        }
    }

    @Test
    void aCopyFurtherBehindThanTheLogIsToldSo() {
        try (FloatMatrix x = RandomMatrices.uniform(20, 2, 4); PatternMemory mem = PatternMemory.of(x)) {
            long start = mem.version();
            for (int i = 0; i <= PatternMemory.CHANGE_LOG_CAPACITY; i++) {
                mem.replace(i % 20, new float[] {i, 1}, null);
            }
            assertFalse(mem.replacedSince(start).complete(), "one replacement more than the log holds");
            PatternMemory.ReplacedRows recent = mem.replacedSince(start + 1);
            assertTrue(recent.complete(), "the log still reaches back to the second replacement");
            assertEquals(20, recent.rows().length);
        }
    }
}
