package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.tensor.FloatMatrix;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PatternStoreTest {
    static final long DAY = 86_400_000L;

    static float[] unit(float... v) {
        double s = 0;
        for (float f : v) {
            s += (double) f * f;
        }
        float[] u = new float[v.length];
        for (int i = 0; i < v.length; i++) {
            u[i] = (float) (v[i] / Math.sqrt(s));
        }
        return u;
    }

    static double cos(float[] a, float[] b) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int i = 0; i < a.length; i++) {
            ab += (double) a[i] * b[i];
            aa += (double) a[i] * a[i];
            bb += (double) b[i] * b[i];
        }
        return ab / Math.sqrt(aa * bb);
    }

    static void assertMessage(Throwable t, String... parts) {
        for (String p : parts) {
            assertTrue(t.getMessage().contains(p), "message '" + t.getMessage() + "' should mention '" + p + "'");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void addMergeAndAddAgainFollowTheThresholdAndTheEmaClosedForm(String name) {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 10), Backends.select(name))) {
            float[] a = {3, 0, 0};
            PatternStore.Insertion i0 = s.insert(a, 0.02, 10 * DAY);
            assertEquals(PatternStore.Action.ADDED, i0.action());
            assertTrue(Double.isNaN(i0.similarity()));
            // cos(b, a) = 1/√(1 + 0.25²) = 0.970 > 0.95: merges
            float[] b = {1, 0.25f, 0};
            PatternStore.Insertion i1 = s.insert(b, -0.01, 12 * DAY);
            assertEquals(PatternStore.Action.MERGED, i1.action());
            assertEquals(0, i1.slot());
            assertEquals(cos(a, b), i1.similarity(), 1e-6);
            float[] ua = unit(a);
            float[] ub = unit(b);
            float[] expected = unit(0.7f * ua[0] + 0.3f * ub[0], 0.7f * ua[1] + 0.3f * ub[1], 0.7f * ua[2] + 0.3f * ub[2]);
            PatternStore.Prediction p = s.query(expected, 1);
            PatternStore.Neighbor n = p.neighbors().getFirst();
            assertEquals(1.0, n.similarity(), 1e-6, "the stored pattern is the normalised EMA");
            assertEquals(0.7 * 0.02 + 0.3 * -0.01, n.outcome(), 1e-7, "outcome merged by EMA with alpha = 0.3");
            assertEquals(12 * DAY, n.dateMs(), "date of the newest merged observation");
            // cos(c, merged) ≈ 0.92 < 0.95: a new pattern
            float[] c = {1, 0.5f, 0};
            assertTrue(cos(c, expected) < 0.95);
            PatternStore.Insertion i2 = s.insert(c, 0.05, 13 * DAY);
            assertEquals(PatternStore.Action.ADDED, i2.action());
            assertEquals(1, i2.slot());
            assertEquals(2, s.size());
        }
    }

    @Test
    void evictsTheLowestRecencyTimesUsageScore() {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(4, 3), Backends.select("reference"))) {
            s.insert(new float[] {1, 0, 0, 0}, 0.1, 1);
            s.insert(new float[] {0, 1, 0, 0}, 0.2, 2);
            s.insert(new float[] {0, 0, 1, 0}, 0.3, 3);
            // unused: the oldest write (slot 0) goes first
            PatternStore.Insertion r = s.insert(new float[] {0, 0, 0, 1}, 0.4, 4);
            assertEquals(PatternStore.Action.REPLACED, r.action());
            assertEquals(0, r.slot());
            // slots now written at τ = 2, 3, 4 (slot 1, 2, 0); two queries make slot 1 the top-1 twice:
            // keys τ/h + log2(1 + uses) with h = 3: slot 1: 2/3 + log2 3 = 2.25, slot 2: 1.0, slot 0: 1.33
            s.query(new float[] {0, 1, 0, 0.1f}, 1);
            s.query(new float[] {0, 1, 0.1f, 0}, 2);
            PatternStore.Insertion r2 = s.insert(new float[] {1, 1, 1, 1}, 0.5, 5);
            assertEquals(PatternStore.Action.REPLACED, r2.action());
            assertEquals(2, r2.slot(), "the used slot 1 survives, the next oldest unused slot is evicted");
            PatternStore.Prediction p = s.query(new float[] {0, 1, 0, 0}, 3);
            assertEquals(1, p.neighbors().getFirst().slot());
            assertEquals(2, p.neighbors().getFirst().dateMs());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void queryIsTheOutcomeWeightedSoftmaxWithEntropyConfidence(String name) {
        SplittableRandom rnd = new SplittableRandom(5);
        int d = 6;
        int m = 40;
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(d, 100), Backends.select(name))) {
            List<float[]> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            while (xs.size() < m) {
                float[] f = new float[d];
                for (int j = 0; j < d; j++) {
                    f[j] = (float) (rnd.nextDouble() * 2 - 1);
                }
                double y = rnd.nextDouble() * 0.1 - 0.05;
                if (s.insert(f, y, xs.size()).action() == PatternStore.Action.ADDED) {
                    xs.add(unit(f));
                    ys.add(y);
                }
            }
            float[] q = {0.3f, -0.2f, 0.5f, 0.1f, 0.9f, -0.4f};
            double beta = PatternStore.DEFAULT_BETA;
            double[] sc = new double[m];
            double max = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < m; i++) {
                sc[i] = beta * cos(q, xs.get(i));
                max = Math.max(max, sc[i]);
            }
            double z = 0;
            for (int i = 0; i < m; i++) {
                z += Math.exp(sc[i] - max);
            }
            double pred = 0;
            double h = 0;
            int best = 0;
            for (int i = 0; i < m; i++) {
                double a = Math.exp(sc[i] - max) / z;
                pred += a * (float) (double) ys.get(i);
                h -= a > 0 ? a * Math.log(a) : 0;
                best = sc[i] > sc[best] ? i : best;
            }
            PatternStore.Prediction p = s.query(q, 3);
            // float32 patterns and outcomes; β·cos ≤ 16 so exponent round-off stays ~1e-6 relative
            assertEquals(pred, p.prediction(), 1e-6);
            assertEquals(1 - h / Math.log(m), p.confidence(), 1e-5);
            assertEquals(3, p.neighbors().size());
            assertEquals(best, p.neighbors().getFirst().slot());
            assertEquals(best, p.neighbors().getFirst().dateMs(), "dates travel with their slot");
            assertTrue(p.neighbors().get(0).similarity() >= p.neighbors().get(1).similarity());
            try (FloatMatrix batch = FloatMatrix.of(new float[][] {q, {1, 0, 0, 0, 0, 0}})) {
                List<PatternStore.Prediction> ps = s.query(batch, 3);
                assertEquals(p.prediction(), ps.getFirst().prediction(), 1e-6);
            }
        }
    }

    @Test
    void emptyStoreAnswersWithZeroConfidence() {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(2, 4), Backends.select("reference"))) {
            PatternStore.Prediction p = s.query(new float[] {1, 1}, 5);
            assertEquals(0, p.confidence());
            assertEquals(0, p.neighbors().size());
        }
    }

    /** Counts the calls and their k, to show that insert's similarity check is the engine's top-1. */
    static final class CountingEngine implements Backend {
        final Backend inner = Backends.select("reference");
        final AtomicInteger calls = new AtomicInteger();
        final List<Integer> ks = new ArrayList<>();

        @Override
        public String name() {
            return "counting";
        }

        @Override
        public synchronized RetrievalPartial retrievePartial(PatternMemory memory, long from, long to, FloatMatrix queries,
                                                             RetrievalParams params) {
            calls.incrementAndGet();
            ks.add(params.k());
            return inner.retrievePartial(memory, from, to, queries, params);
        }
    }

    @Test
    void insertAsksTheEngineForTheTopOneCosine() {
        CountingEngine engine = new CountingEngine();
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 5), engine)) {
            s.insert(new float[] {1, 0, 0}, 0, 0);
            assertEquals(0, engine.calls.get(), "nothing to compare with in an empty store");
            s.insert(new float[] {0, 1, 0}, 0, 0);
            s.insert(new float[] {0, 1, 0.01f}, 0, 0);
            assertEquals(List.of(1, 1), engine.ks);
        }
    }

    @Test
    void badInputIsRejectedByNameAndLeavesTheStoreAsItWas(@TempDir Path dir) throws IOException {
        assertMessage(assertThrows(IllegalArgumentException.class, () -> PatternStore.Config.defaults(4, 0)),
                "capacity", "0");
        assertMessage(assertThrows(IllegalArgumentException.class, () -> PatternStore.Config.defaults(0, 5)), "dim", "0");
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 2), Backends.select("cpu"))) {
            s.insert(new float[] {1, 2, 3}, 0.01, 1);
            s.insert(new float[] {-1, 0, 1}, 0.02, 2);
            Path before = dir.resolve("before.eps");
            s.save(before);
            assertMessage(assertThrows(IllegalArgumentException.class, () -> s.insert(new float[] {1, 2}, 0, 3)),
                    "features", "length 2", "3");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> s.insert(new float[] {1, Float.NaN, 2}, 0, 3)),
                    "features", "element 1", "NaN");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> s.insert(new float[] {0, 0, 0}, 0, 3)),
                    "features", "zero vector");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> s.insert(new float[] {1, 1, 1}, Double.NaN, 3)),
                    "outcome", "NaN");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> s.query(new float[] {1, 1, 1, 1}, 1)),
                    "features", "length 4");
            assertMessage(assertThrows(IllegalArgumentException.class, () -> s.query(new float[] {1, 1, 1}, -1)), "k", "-1");
            try (FloatMatrix three = FloatMatrix.of(new float[] {1, 0, 0, 0, 1, 0, 0, 0, 1}, 3, 3)) {
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> s.addDistinct(three, new float[3], new long[3])), "exceeds capacity=2");
            }
            try (FloatMatrix rows = FloatMatrix.of(new float[] {1, 0, 0, 0, 0, 0}, 2, 3)) {
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> s.insertAll(rows, new double[] {0, 0}, new long[2])), "features row 1", "zero vector");
                assertMessage(assertThrows(IllegalArgumentException.class,
                        () -> s.insertAll(rows, new double[] {0}, new long[2])), "outcomes", "length 1");
            }
            Path after = dir.resolve("after.eps");
            s.save(after);
            assertArrayEquals(Files.readAllBytes(before), Files.readAllBytes(after), "state unchanged by rejected input");
        }
    }

    private static void fill(PatternStore s, SplittableRandom rnd, int n, double nearFraction) {
        int d = s.config().dim();
        List<float[]> seen = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            float[] f = new float[d];
            if (!seen.isEmpty() && rnd.nextDouble() < nearFraction) {
                float[] base = seen.get(rnd.nextInt(seen.size()));
                for (int j = 0; j < d; j++) {
                    f[j] = base[j] + (float) (0.05 * (rnd.nextDouble() - 0.5));
                }
            } else {
                for (int j = 0; j < d; j++) {
                    f[j] = (float) (rnd.nextDouble() * 2 - 1);
                }
                seen.add(f);
            }
            s.insert(f, rnd.nextDouble() * 0.1 - 0.05, 1_700_000_000_000L + i * DAY);
        }
    }

    /** A stream with near-duplicates of earlier rows (also within one batch) and more distinct rows than capacity. */
    private static float[][] stream(SplittableRandom rnd, int n, int d) {
        float[][] rows = new float[n][d];
        for (int i = 0; i < n; i++) {
            if (i > 0 && rnd.nextDouble() < 0.4) {
                float[] base = rows[Math.max(0, i - 1 - rnd.nextInt(Math.min(i, 40)))];
                for (int j = 0; j < d; j++) {
                    rows[i][j] = base[j] + (float) (0.05 * (rnd.nextDouble() - 0.5));
                }
            } else {
                for (int j = 0; j < d; j++) {
                    rows[i][j] = (float) (rnd.nextDouble() * 2 - 1);
                }
            }
        }
        return rows;
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void insertAllMakesTheDecisionsOfSequentialInserts(String name, @TempDir Path dir) throws IOException {
        int d = 6;
        SplittableRandom rnd = new SplittableRandom(31);
        float[][] rows = stream(rnd, 500, d);
        double[] ys = new double[rows.length];
        long[] dates = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            ys[i] = rnd.nextDouble() * 0.1 - 0.05;
            dates[i] = 1_700_000_000_000L + i * DAY;
        }
        try (PatternStore one = new PatternStore(PatternStore.Config.defaults(d, 150), Backends.select(name));
             PatternStore all = new PatternStore(PatternStore.Config.defaults(d, 150), Backends.select(name))) {
            List<PatternStore.Insertion> seq = new ArrayList<>();
            for (int i = 0; i < rows.length; i++) {
                seq.add(one.insert(rows[i], ys[i], dates[i]));
            }
            List<PatternStore.Insertion> batched = new ArrayList<>();
            int[] cuts = {0, 1, 40, 41, 200, 333, 500};   // batches of 1, 39, 1, 159, 133, 167 rows, the first on an empty store
            for (int c = 0; c + 1 < cuts.length; c++) {
                int a = cuts[c];
                int b = cuts[c + 1];
                float[] flat = new float[(b - a) * d];
                for (int i = a; i < b; i++) {
                    System.arraycopy(rows[i], 0, flat, (i - a) * d, d);
                }
                try (FloatMatrix f = FloatMatrix.of(flat, b - a, d)) {
                    batched.addAll(all.insertAll(f, java.util.Arrays.copyOfRange(ys, a, b),
                            java.util.Arrays.copyOfRange(dates, a, b)));
                }
            }
            long merges = seq.stream().filter(x -> x.action() == PatternStore.Action.MERGED).count();
            long replaced = seq.stream().filter(x -> x.action() == PatternStore.Action.REPLACED).count();
            assertTrue(merges > 50 && replaced > 50, "the stream exercises merges (" + merges + ") and evictions (" + replaced + ")");
            for (int i = 0; i < rows.length; i++) {
                assertEquals(seq.get(i).action(), batched.get(i).action(), "row " + i);
                assertEquals(seq.get(i).slot(), batched.get(i).slot(), "row " + i);
                assertEquals(seq.get(i).similarity(), batched.get(i).similarity(), 1e-6, "row " + i);
            }
            one.save(dir.resolve("one.eps"));
            all.save(dir.resolve("all.eps"));
            assertArrayEquals(Files.readAllBytes(dir.resolve("one.eps")), Files.readAllBytes(dir.resolve("all.eps")),
                    "the same final state, byte for byte");
        }
    }

    @Test
    void referenceAndCpuEnginesMakeTheSameDecisions() {
        try (PatternStore r = new PatternStore(PatternStore.Config.defaults(8, 120), Backends.select("reference"));
             PatternStore c = new PatternStore(PatternStore.Config.defaults(8, 120), Backends.select("cpu"))) {
            fill(r, new SplittableRandom(3), 300, 0.3);
            fill(c, new SplittableRandom(3), 300, 0.3);
            assertEquals(120, r.size());
            float[] q = {0.1f, 0.2f, -0.3f, 0.4f, 0.5f, -0.6f, 0.7f, 0.8f};
            PatternStore.Prediction pr = r.query(q, 5);
            PatternStore.Prediction pc = c.query(q, 5);
            assertEquals(pr.prediction(), pc.prediction(), 1e-5);
            assertEquals(pr.confidence(), pc.confidence(), 1e-4);
            for (int i = 0; i < 5; i++) {
                assertEquals(pr.neighbors().get(i).slot(), pc.neighbors().get(i).slot());
                assertEquals(pr.neighbors().get(i).dateMs(), pc.neighbors().get(i).dateMs());
            }
        }
    }

    @Test
    void saveAndLoadRoundTripIncludingTheEvictionOrder(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("store.eps");
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(5, 50), Backends.select("cpu"))) {
            fill(s, new SplittableRandom(9), 80, 0.3);
            s.query(new float[] {1, 0, 0, 0, 0}, 2);
            s.save(file);
            s.save(file); // overwriting goes through a temporary file too
            try (var listing = Files.list(dir)) {
                assertEquals(List.of(file), listing.toList(), "no temporary file left behind");
            }
            try (PatternStore t = PatternStore.load(file, Backends.select("reference"))) {
                assertEquals(s.size(), t.size());
                assertEquals(s.config(), t.config());
                float[] q = {0.2f, -0.1f, 0.4f, 0.3f, -0.5f};
                PatternStore.Prediction a = s.query(q, 4);
                PatternStore.Prediction b = t.query(q, 4);
                assertEquals(a.prediction(), b.prediction(), 1e-6);
                for (int i = 0; i < 4; i++) {
                    PatternStore.Neighbor x = a.neighbors().get(i);
                    PatternStore.Neighbor y = b.neighbors().get(i);
                    assertEquals(x.slot(), y.slot());
                    assertEquals(x.dateMs(), y.dateMs());
                    assertEquals(x.outcome(), y.outcome());
                    assertEquals(x.similarity(), y.similarity(), 1e-6, "cpu (float) vs reference (double) cosine");
                }
                // the same next inserts evict the same slots
                SplittableRandom r1 = new SplittableRandom(77);
                for (int i = 0; i < 20; i++) {
                    float[] f = new float[5];
                    for (int j = 0; j < 5; j++) {
                        f[j] = (float) (r1.nextDouble() * 2 - 1);
                    }
                    PatternStore.Insertion x = s.insert(f, 0.01, i);
                    PatternStore.Insertion y = t.insert(f, 0.01, i);
                    assertEquals(x.action(), y.action());
                    assertEquals(x.slot(), y.slot());
                }
            }
        }
    }

    @Test
    void aFailedSaveLeavesNoTemporaryFileAndTheTargetUntouched(@TempDir Path dir) throws IOException {
        Path target = dir.resolve("store.eps");
        Files.createDirectories(target.resolve("occupied"));   // a non-empty directory cannot be replaced by a file
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 4), Backends.select("reference"))) {
            s.insert(new float[] {1, 2, 3}, 0.1, 1);
            assertThrows(IOException.class, () -> s.save(target));
        }
        try (var listing = Files.list(dir)) {
            assertEquals(List.of(target), listing.toList(), "no temporary file left behind");
        }
        assertTrue(Files.isDirectory(target.resolve("occupied")));
    }

    @Test
    void damagedFilesAreRejectedWithTheReason(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("store.eps");
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(4, 10), Backends.select("reference"))) {
            fill(s, new SplittableRandom(1), 6, 0);
            s.save(file);
        }
        byte[] good = Files.readAllBytes(file);
        Backend engine = Backends.select("reference");

        byte[] flipped = good.clone();
        flipped[PatternStoreFile.HEADER_BYTES + 5] ^= 0x40;
        Files.write(file, flipped);
        assertMessage(assertThrows(IOException.class, () -> PatternStore.load(file, engine)), "checksum", file.toString());

        Files.write(file, java.util.Arrays.copyOf(good, good.length - 3));
        assertMessage(assertThrows(IOException.class, () -> PatternStore.load(file, engine)), "truncated");

        byte[] version = good.clone();
        ByteBuffer.wrap(version).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 7);
        Files.write(file, version);
        assertMessage(assertThrows(IOException.class, () -> PatternStore.load(file, engine)), "version 7");

        byte[] shape = good.clone();
        ByteBuffer.wrap(shape).order(ByteOrder.LITTLE_ENDIAN).putInt(20, 11); // size 11 > capacity 10
        Files.write(file, shape);
        assertMessage(assertThrows(IOException.class, () -> PatternStore.load(file, engine)), "size=11", "capacity=10");

        Files.writeString(file, "not a store at all, but long enough to have a header of sixty bytes.......");
        assertMessage(assertThrows(IOException.class, () -> PatternStore.load(file, engine)), "magic");
    }

    @Test
    void concurrentReadersSeeConsistentAnswersWhileOneWriterInserts() throws Exception {
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(16, 300), Backends.select("cpu"))) {
            SplittableRandom seed = new SplittableRandom(4);
            fill(s, seed, 50, 0);
            ExecutorService pool = Executors.newFixedThreadPool(5);
            AtomicBoolean done = new AtomicBoolean();
            AtomicInteger answers = new AtomicInteger();
            CountDownLatch started = new CountDownLatch(4);
            try {
                List<Future<?>> readers = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int id = t;
                    readers.add(pool.submit(() -> {
                        SplittableRandom rnd = new SplittableRandom(100 + id);
                        started.countDown();
                        while (!done.get()) {
                            float[] q = new float[16];
                            for (int j = 0; j < 16; j++) {
                                q[j] = (float) (rnd.nextDouble() - 0.5);
                            }
                            PatternStore.Prediction p = s.query(q, 3);
                            assertTrue(Double.isFinite(p.prediction()) && Math.abs(p.prediction()) <= 0.05 + 1e-6);
                            assertTrue(p.confidence() >= 0 && p.confidence() <= 1);
                            assertEquals(3, p.neighbors().size());
                            for (PatternStore.Neighbor n : p.neighbors()) {
                                assertTrue(n.slot() >= 0 && n.slot() < 300 && n.dateMs() >= 1_700_000_000_000L);
                            }
                            answers.incrementAndGet();
                        }
                        return null;
                    }));
                }
                Future<?> writer = pool.submit(() -> {
                    started.await();
                    fill(s, seed, 400, 0.3);
                    return null;
                });
                writer.get(60, TimeUnit.SECONDS);
                done.set(true);
                for (Future<?> f : readers) {
                    f.get(30, TimeUnit.SECONDS);
                }
            } finally {
                done.set(true);
                pool.shutdownNow();
            }
            assertEquals(300, s.size());
            assertTrue(answers.get() > 0);
        }
    }
}
