package dev.engram.spark;

import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Near-duplicate merging on append ({@link ShardedMemory#appendMerging}): merges only into the newest shard, keeps
 * every other row's global index, and never leaves a half-written shard. No Spark session is needed.
 */
class ShardedMemoryMergeTest {
    private static final int D = 16;
    private static final double THRESHOLD = 0.98;
    private static final double RATE = 0.3;

    @TempDir
    Path tmp;

    /** Gaussian rows in d = 16 have pairwise cosines far below 0.98; checked so the set-up cannot pass by accident. */
    private static FloatMatrix distinctRows(long rows, long seed) {
        FloatMatrix m = RandomMatrices.gaussian(rows, D, seed);
        for (long i = 0; i < rows; i++) {
            for (long j = 0; j < i; j++) {
                assertTrue(cos(m.row(i), m.row(j)) < 0.9, "seed " + seed + " gives near-duplicate rows " + i + ", " + j);
            }
        }
        return m;
    }

    private static double cos(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int c = 0; c < a.length; c++) {
            ab += (double) a[c] * b[c];
            aa += (double) a[c] * a[c];
            bb += (double) b[c] * b[c];
        }
        return ab / Math.sqrt(aa * bb);
    }

    /** {@code row} plus noise of relative size {@code eps} (eps = 0.01 gives cosine ≈ 0.9999). */
    private static float[] twin(float[] row, double eps, Random rnd) {
        float[] t = row.clone();
        for (int c = 0; c < t.length; c++) {
            t[c] += (float) (eps * rnd.nextGaussian());
        }
        return t;
    }

    private static float[] ema(float[] old, float[] x) {
        float[] out = new float[old.length];
        for (int c = 0; c < old.length; c++) {
            out[c] = (float) ((1 - RATE) * old[c] + RATE * x[c]);
        }
        return out;
    }

    /** All rows of the memory in global order (patterns, or values when {@code values}). */
    private static List<float[]> globalRows(ShardedMemory mem, boolean values) throws IOException {
        List<float[]> out = new ArrayList<>();
        for (ShardedMemory.Shard s : mem.shards()) {
            try (FloatMatrix m = Npy.readFloat(Path.of(values ? s.values() : s.patterns()))) {
                for (long r = 0; r < m.rows(); r++) {
                    out.add(m.row(r));
                }
            }
        }
        return out;
    }

    private static List<Long> shardRows(ShardedMemory mem) {
        return mem.shards().stream().map(ShardedMemory.Shard::rows).toList();
    }

    private static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                out.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    @Test
    void aNearDuplicateOfARowOfTheNewestShardIsMergedIntoIt() throws IOException {
        FloatMatrix x = distinctRows(10, 11);
        FloatMatrix v = RandomMatrices.gaussian(10, 3, 12);
        ShardedMemory mem = ShardedMemory.write(tmp.resolve("m"), x, v, 4); // 4, 4, 2: rows 8 and 9 are newest
        float[] nx = twin(x.row(8), 0.01, new Random(13));
        float[] nv = {1f, -2f, 3f};
        ShardedMemory.Appended a = mem.appendMerging(FloatMatrix.of(nx, 1, D), FloatMatrix.of(nv, 1, 3), 4, THRESHOLD, RATE);

        assertEquals(1, a.merged());
        assertEquals(0, a.added());
        assertEquals(List.of(4L, 4L, 2L), shardRows(a.memory()), "row counts unchanged");
        List<float[]> xs = globalRows(a.memory(), false);
        List<float[]> vs = globalRows(a.memory(), true);
        for (int i = 0; i < 10; i++) {
            // the EMA is evaluated the same way as in ShardedMemory, so the merged row is bit-exact
            assertArrayEquals(i == 8 ? ema(x.row(8), nx) : x.row(i), xs.get(i), 0f, "pattern " + i);
            assertArrayEquals(i == 8 ? ema(v.row(8), nv) : v.row(i), vs.get(i), 0f, "value " + i);
        }
    }

    @Test
    void aNearDuplicateWhoseTwinSitsInAnOlderShardIsAppended() throws IOException {
        FloatMatrix x = distinctRows(10, 21);
        ShardedMemory mem = ShardedMemory.write(tmp.resolve("m"), x, null, 4); // V = X
        Path older = Path.of(mem.shards().getFirst().patterns());
        byte[] olderBytes = Files.readAllBytes(older);
        float[] nx = twin(x.row(1), 0.01, new Random(22));
        assertTrue(cos(nx, x.row(1)) > 0.999, "the twin must be a near-duplicate");
        ShardedMemory.Appended a = mem.appendMerging(FloatMatrix.of(nx, 1, D), null, 4, THRESHOLD, RATE);

        assertEquals(0, a.merged(), "merging looks at the newest shard only (the documented trade-off)");
        assertEquals(1, a.added());
        assertEquals(List.of(4L, 4L, 3L), shardRows(a.memory()));
        List<float[]> xs = globalRows(a.memory(), false);
        for (int i = 0; i < 10; i++) {
            assertArrayEquals(x.row(i), xs.get(i), 0f, "pattern " + i);
        }
        assertArrayEquals(nx, xs.get(10), 0f, "the appended row gets the next index");
        assertArrayEquals(olderBytes, Files.readAllBytes(older), "older shards are not rewritten");
    }

    /**
     * A batch of twins of newest-shard rows, twins of older rows, twins of rows appended earlier in the batch and
     * fresh rows, against a plain model of the rule (one list of rows, merging within the newest shard's range).
     */
    @ParameterizedTest(name = "seed={0}, M={1}, rowsPerShard={2}, n={3}")
    @CsvSource({"1, 10, 4, 12", "2, 7, 3, 20", "3, 5, 5, 9", "4, 12, 6, 30"})
    void aBatchFollowsTheRuleAndKeepsEveryOtherIndex(long seed, int m, int rowsPerShard, int n) throws IOException {
        Random rnd = new Random(seed);
        FloatMatrix x = distinctRows(m, seed * 100);
        FloatMatrix v = RandomMatrices.gaussian(m, 2, seed * 100 + 1);
        ShardedMemory mem = ShardedMemory.write(tmp.resolve("m"), x, v, rowsPerShard);
        List<float[]> modelX = new ArrayList<>(globalRows(mem, false));
        List<float[]> modelV = new ArrayList<>(globalRows(mem, true));
        int newestStart = (int) mem.shards().getLast().offset();
        Map<String, byte[]> olderFiles = new TreeMap<>(snapshot(mem.folder()));
        olderFiles.keySet().removeIf(name -> name.startsWith(ShardedMemory.patternsName(mem.shards().getLast().number()))
                || name.startsWith(ShardedMemory.valuesName(mem.shards().getLast().number())));

        float[] ax = new float[n * D];
        float[] av = new float[n * 2];
        long merges = 0;
        long adds = 0;
        for (int i = 0; i < n; i++) {
            int kind = rnd.nextInt(3);
            float[] row = kind == 2
                    ? RandomMatrices.gaussian(1, D, seed * 1000 + i).row(0)
                    : twin(modelX.get(kind == 0 ? newestStart + rnd.nextInt(modelX.size() - newestStart)
                            : rnd.nextInt(modelX.size())), 0.01, rnd);
            float[] val = {(float) rnd.nextGaussian(), (float) rnd.nextGaussian()};
            System.arraycopy(row, 0, ax, i * D, D);
            System.arraycopy(val, 0, av, i * 2, 2);
            int best = -1;
            double bestCos = Double.NEGATIVE_INFINITY;
            for (int j = newestStart; j < modelX.size(); j++) {
                double c = cos(row, modelX.get(j));
                if (c > bestCos) {
                    bestCos = c;
                    best = j;
                }
            }
            if (best >= 0 && bestCos > THRESHOLD) {
                modelX.set(best, ema(modelX.get(best), row));
                modelV.set(best, ema(modelV.get(best), val));
                merges++;
            } else {
                if (modelX.size() - newestStart >= rowsPerShard) {
                    newestStart = modelX.size();
                }
                modelX.add(row);
                modelV.add(val);
                adds++;
            }
        }
        assertTrue(merges > 0 && adds > 0, "the case must exercise both branches: merges=" + merges + ", adds=" + adds);

        ShardedMemory.Appended a = mem.appendMerging(FloatMatrix.of(ax, n, D), FloatMatrix.of(av, n, 2), rowsPerShard,
                THRESHOLD, RATE);
        assertEquals(merges, a.merged());
        assertEquals(adds, a.added());
        assertEquals(modelX.size(), a.memory().size());
        assertEquals(newestStart, a.memory().shards().getLast().offset(), "the newest shard starts where the rule says");
        List<float[]> xs = globalRows(a.memory(), false);
        List<float[]> vs = globalRows(a.memory(), true);
        for (int i = 0; i < modelX.size(); i++) {
            assertArrayEquals(modelX.get(i), xs.get(i), 0f, "pattern " + i);
            assertArrayEquals(modelV.get(i), vs.get(i), 0f, "value " + i);
        }
        Map<String, byte[]> after = snapshot(a.memory().folder());
        for (var e : olderFiles.entrySet()) {
            assertArrayEquals(e.getValue(), after.get(e.getKey()), e.getKey() + " (an older shard) must not change");
        }
    }

    @Test
    void aFailureWhileWritingLeavesTheShardAsItWas() throws IOException {
        FloatMatrix x = distinctRows(6, 31);
        FloatMatrix v = RandomMatrices.gaussian(6, 3, 32);
        ShardedMemory mem = ShardedMemory.write(tmp.resolve("m"), x, v, 4); // 4, 2
        Map<String, byte[]> before = snapshot(mem.folder());
        float[] nx = twin(x.row(5), 0.01, new Random(33));
        int[] calls = {0};
        ShardedMemory.ShardFileWriter failing = (file, m) -> {
            if (++calls[0] == 2) { // the values temporary is written, the patterns one fails half-way
                Files.write(file, new byte[] {(byte) 0x93, 'N', 'U', 'M'});
                throw new IOException("disk full (injected)");
            }
            Npy.write(file, m);
        };
        var e = assertThrows(IOException.class, () -> mem.appendMerging(FloatMatrix.of(nx, 1, D),
                FloatMatrix.of(new float[] {1f, 2f, 3f}, 1, 3), 4, THRESHOLD, RATE, failing));
        assertTrue(e.getMessage().contains("injected"), e.getMessage());
        assertEquals(2, calls[0]);
        Map<String, byte[]> after = snapshot(mem.folder());
        assertEquals(before.keySet(), after.keySet(), "no temporary file may be left behind");
        for (var f : before.entrySet()) {
            assertArrayEquals(f.getValue(), after.get(f.getKey()), f.getKey() + " must be as it was");
        }
        ShardedMemory.Appended a = ShardedMemory.open(mem.folder()).appendMerging(FloatMatrix.of(nx, 1, D),
                FloatMatrix.of(new float[] {1f, 2f, 3f}, 1, 3), 4, THRESHOLD, RATE);
        assertEquals(1, a.merged(), "the memory still works after the failure");
    }

    @Test
    void badMergeSettingsAreRejectedWithTheirValue() throws IOException {
        ShardedMemory mem = ShardedMemory.write(tmp.resolve("m"), distinctRows(3, 41), null, 4);
        FloatMatrix one = RandomMatrices.gaussian(1, D, 42);
        var e = assertThrows(IllegalArgumentException.class, () -> mem.appendMerging(one, null, 4, 1.5, RATE));
        assertTrue(e.getMessage().contains("merge threshold") && e.getMessage().contains("1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> mem.appendMerging(one, null, 4, THRESHOLD, 0));
        assertTrue(e.getMessage().contains("merge rate") && e.getMessage().contains("0.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> mem.appendMerging(RandomMatrices.gaussian(1, D + 1, 43), null, 4, THRESHOLD, RATE));
        assertTrue(e.getMessage().contains("d=" + (D + 1)), e.getMessage());
        assertEquals(Arrays.asList(3L), shardRows(ShardedMemory.open(mem.folder())), "nothing written on bad input");
    }
}
