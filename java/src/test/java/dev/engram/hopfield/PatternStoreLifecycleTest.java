package dev.engram.hopfield;

import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.function.Executable;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The pattern store's state across evictions, a save and load, and close. */
class PatternStoreLifecycleTest {
    private static final int D = 12;

    /** Basis vector e_i of length D: stored patterns that are mutually orthogonal (cosine 0, never merged). */
    private static float[] e(int i) {
        float[] v = new float[D];
        v[i] = 1;
        return v;
    }

    private static PatternStore filled(int capacity) {
        PatternStore s = new PatternStore(PatternStore.Config.defaults(D, capacity), new ReferenceBackend());
        float[] flat = new float[capacity * D];
        float[] outcomes = new float[capacity];
        long[] dates = new long[capacity];
        for (int i = 0; i < capacity; i++) {
            flat[i * D + i] = 2; // stored normalised
            outcomes[i] = 0.01f * (i + 1);
            dates[i] = 1_000 + i;
        }
        try (FloatMatrix x = FloatMatrix.of(flat, capacity, D)) {
            s.addDistinct(x, outcomes, dates);
        }
        return s;
    }

    @Test
    void anEvictedSlotHoldsTheNewPatternOutcomeAndDate() {
        try (PatternStore s = filled(3)) {
            PatternStore.Insertion ins = s.insert(new float[] {0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0}, 0.7, 5_000);
            assertEquals(PatternStore.Action.REPLACED, ins.action());
            assertEquals(0, ins.slot(), "the oldest unused slot is evicted");
            assertEquals(3, s.size());
            PatternStore.Neighbor n = s.query(e(5), 3).neighbors().getFirst();
            assertEquals(0, n.slot());
            assertEquals(1.0, n.similarity(), 1e-6, "the slot now holds the new (normalised) pattern");
            assertEquals(0.7f, (float) n.outcome());
            assertEquals(5_000, n.dateMs());
            // the evicted pattern is gone; the others are untouched
            List<PatternStore.Neighbor> old = s.query(e(0), 3).neighbors();
            for (PatternStore.Neighbor o : old) {
                assertEquals(0.0, o.similarity(), 1e-6, "slot " + o.slot() + " still similar to the evicted e0");
            }
            PatternStore.Neighbor kept = s.query(e(2), 1).neighbors().getFirst();
            assertEquals(2, kept.slot());
            assertEquals(0.03f, (float) kept.outcome());
            assertEquals(1_002, kept.dateMs());
        }
    }

    /**
     * Eviction depends on each slot's last write time and hit count: after evictions, merges and queries, a saved and
     * loaded store evicts the same slots in the same order as the original.
     */
    @Test
    void aLoadedStoreEvictsWhatTheOriginalWouldHaveEvicted(@TempDir Path dir) throws IOException {
        try (PatternStore s = filled(4)) {
            for (int r = 0; r < 3; r++) {
                s.query(e(0), 1); // slot 0 is used: it outlives the younger slots 1 and 2
            }
            assertEquals(PatternStore.Action.REPLACED, s.insert(e(4), 0.5, 2_000).action());
            float[] nearE3 = e(3);
            nearE3[11] = 0.05f;
            assertEquals(PatternStore.Action.MERGED, s.insert(nearE3, 0.9, 2_001).action());
            s.query(e(4), 1);
            Path file = dir.resolve("store.eps");
            s.save(file);
            try (PatternStore loaded = PatternStore.load(file, new ReferenceBackend())) {
                List<Integer> original = new ArrayList<>();
                List<Integer> reloaded = new ArrayList<>();
                for (int i = 5; i < 11; i++) {
                    original.add(s.insert(e(i), 0.1, 3_000 + i).slot());
                    reloaded.add(loaded.insert(e(i), 0.1, 3_000 + i).slot());
                }
                assertEquals(original, reloaded, "eviction order after load");
                // the first victims follow from the keys τ_i/h + log2(1 + uses_i), h = 4: slot 2 (written 3, unused)
                // goes first, not slot 0 (written 1 but queried 3 times) nor the rewritten slots 1 and 3
                assertEquals(2, original.getFirst());
                for (int i = 0; i < 4; i++) {
                    PatternStore.Neighbor a = s.query(e(5 + i), 1).neighbors().getFirst();
                    PatternStore.Neighbor b = loaded.query(e(5 + i), 1).neighbors().getFirst();
                    assertEquals(a, b, "top neighbour of e" + (5 + i));
                }
            }
        }
    }

    @Test
    void aClosedStoreRefusesEveryOperationAndClosesTwiceQuietly(@TempDir Path dir) {
        PatternStore s = filled(2);
        s.close();
        s.close();
        float[] f = e(1);
        try (FloatMatrix batch = FloatMatrix.of(e(1), 1, D)) {
            List<Executable> ops = List.of(
                    () -> s.insert(f, 0.1, 1),
                    () -> s.insertAll(batch, new double[] {0.1}, new long[] {1}),
                    () -> s.addDistinct(batch, new float[] {0.1f}, new long[] {1}),
                    () -> s.query(f, 1),
                    () -> s.query(batch, 1),
                    () -> s.save(dir.resolve("closed.eps")));
            for (Executable op : ops) {
                IllegalStateException e = assertThrows(IllegalStateException.class, op);
                assertEquals("the pattern store is closed", e.getMessage());
            }
        }
    }
}
