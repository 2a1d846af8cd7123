package dev.engram.spark;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The partial states the partitions send: Java serialisation keeps every bit, and merging them in any order and
 * any tree shape gives the state of the whole memory — top-k identical, sums equal up to the order of double
 * additions (relative 1e-12) — so the answer cannot depend on how Spark schedules the reduce. No Spark here.
 */
class PartialStateTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "seed {0}: M={1}, d={2}, B={3}, k={4}, {5} partitions")
    @CsvSource({"1, 50, 8, 3, 4, 7", "2, 9, 5, 2, 3, 20", "3, 200, 16, 6, 5, 13"})
    void anyMergeOrderGivesTheWholeMemory(long seed, int m, int d, int b, int k, int partitions) throws IOException {
        Backend engine = Backends.select(Capability.RETRIEVAL, "reference");
        try (FloatMatrix x = RandomMatrices.gaussian(m, d, seed); FloatMatrix q = RandomMatrices.gaussian(b, d, seed + 1);
             PatternMemory whole = PatternMemory.of(x)) {
            Path dir = tmp.resolve("m");
            ShardedMemory mem = ShardedMemory.write(dir, x, null, Math.max(1, m / 3));
            RetrievalParams params = new RetrievalParams(1.7f, k);
            List<PartialState> parts = new ArrayList<>();
            for (List<ShardedMemory.Slice> slices : mem.plan(partitions)) {
                parts.add(roundTrip(PartialState.of(SliceRetrieval.compute(slices, q, params, d, engine))));
            }
            RetrievalPartial expected = engine.retrievePartial(whole, 0, m, q, params);
            Random rnd = new Random(seed);
            for (int trial = 0; trial < 20; trial++) {
                List<PartialState> pool = new ArrayList<>(parts);
                Collections.shuffle(pool, rnd);
                while (pool.size() > 1) { // a random tree: merge two random neighbours, either way round
                    int i = rnd.nextInt(pool.size() - 1);
                    PartialState a = pool.remove(i);
                    PartialState c = pool.remove(i);
                    pool.add(i, rnd.nextBoolean() ? PartialState.merge(a, c) : PartialState.merge(c, a));
                }
                RetrievalPartial got = pool.getFirst().toPartial();
                assertEquals(m, got.count());
                for (int qi = 0; qi < b; qi++) {
                    assertEquals(expected.max(qi), got.max(qi), 0, "max is exact");
                    assertEquals(expected.sum(qi), got.sum(qi), 1e-12 * expected.sum(qi), "sum");
                    assertEquals(expected.shifted(qi), got.shifted(qi), 1e-12 * (1 + Math.abs(expected.shifted(qi))) * m, "t");
                    for (int j = 0; j < d; j++) {
                        assertEquals(expected.out(qi, j), got.out(qi, j), 1e-12 * expected.sum(qi) * 10, "o");
                    }
                }
                RetrievalResult e = expected.finish();
                RetrievalResult g = got.finish();
                assertArrayEquals(e.topIndices(), g.topIndices(), "top-k indices, trial " + trial);
                assertArrayEquals(e.topScores(), g.topScores(), "top-k scores, trial " + trial);
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @CsvSource({"5", "6"})
    void serialisationKeepsEveryBit(long seed) throws IOException {
        try (FloatMatrix x = RandomMatrices.gaussian(30, 6, seed); FloatMatrix v = RandomMatrices.gaussian(30, 2, seed + 1);
             FloatMatrix q = RandomMatrices.gaussian(3, 6, seed + 2); PatternMemory mem = PatternMemory.of(x, v)) {
            PartialState s = PartialState.of(Backends.select(Capability.RETRIEVAL, "reference")
                    .retrievePartial(mem, 4, 29, q, new RetrievalParams(3f, 5)).withIndexOffset(1000));
            PartialState back = roundTrip(s);
            assertArrayEquals(s.max(), back.max());
            assertArrayEquals(s.sum(), back.sum());
            assertArrayEquals(s.shifted(), back.shifted());
            assertArrayEquals(s.out(), back.out());
            assertArrayEquals(s.topIndices(), back.topIndices());
            assertArrayEquals(s.topScores(), back.topScores());
            assertEquals(25, back.count());
            for (long i : back.toPartial().finish().topIndices()) { // rows 4..28 shifted by 1000
                assertEquals(true, i >= 1004 && i < 1029, "index " + i + " carries the offset");
            }
        }
    }

    static PartialState roundTrip(PartialState s) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(s);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (PartialState) in.readObject();
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
    }
}
