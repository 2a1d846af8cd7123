package dev.engram.engine.cpu;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memory-mapped SQ8 memory: converted from .npy shards of unequal sizes, it retrieves bit for bit what the
 * in-memory SQ8 engine retrieves on the concatenated patterns (same ranges, codes and norms), so its top-k equals
 * the float32 engine's; ranges and the shard boundaries agree; a damaged file or a bad shard is a one-line error and
 * a failed conversion leaves no file.
 */
class MappedSq8MemoryTest {
    private static final int LANES = CpuBackend.vectorLanes();
    private static final CpuBackend.Config ROW = new CpuBackend.Config(2, 33, LANES, 1000, 50);
    private static final CpuBackend.Config TILE = new CpuBackend.Config(3, 7, LANES, 0, 5);
    private static final CpuBackend[] F32 = {new CpuBackend(ROW), new CpuBackend(TILE)};
    private static final CpuBackend[] SQ8 = {new CpuBackend(ROW, CpuBackend.Storage.SQ8),
            new CpuBackend(TILE, CpuBackend.Storage.SQ8)};

    @TempDir
    Path dir;

    @AfterAll
    static void close() {
        for (CpuBackend e : F32) {
            e.close();
        }
        for (CpuBackend e : SQ8) {
            e.close();
        }
    }

    @Test
    void retrievesWhatTheInMemorySq8EngineRetrievesWithTheFloat32TopK() throws IOException {
        int d = 20;
        long[] sizes = {700, 1, 1299};
        Path out = dir.resolve("mem.sq8");
        try (FloatMatrix all = RandomMatrices.gaussian(2000, d, 3); FloatMatrix q = RandomMatrices.gaussian(3, d, 4)) {
            long at = 0;
            List<Path> shards = new java.util.ArrayList<>();
            for (int s = 0; s < sizes.length; s++) {
                Path p = dir.resolve("shard" + s + ".npy");
                Npy.write(p, all.rows(at, at + sizes[s]));
                shards.add(p);
                at += sizes[s];
            }
            MappedSq8Memory.convert(shards, out);
            assertFalse(Files.exists(dir.resolve("mem.sq8.tmp")));
            RetrievalParams params = new RetrievalParams(1.5f, 10);
            try (MappedSq8Memory mapped = MappedSq8Memory.open(out); PatternMemory mem = PatternMemory.of(all)) {
                assertEquals(2000, mapped.size());
                assertEquals(d, mapped.dim());
                assertArrayEquals(SQ8[0].sq8Ranges(mem)[0], mapped.patterns().lo);
                assertArrayEquals(SQ8[0].sq8Ranges(mem)[1], mapped.patterns().hi);
                for (int e = 0; e < SQ8.length; e++) {
                    RetrievalResult inMemory = SQ8[e].retrieve(mem, q, params);
                    RetrievalResult fromFile = SQ8[e].retrieve(mapped, q, params);
                    RetrievalResult f32 = F32[e].retrieve(mem, q, params);
                    assertArrayEquals(inMemory.output(), fromFile.output(), "output, engine " + e);
                    assertArrayEquals(inMemory.entropy(), fromFile.entropy(), "entropy, engine " + e);
                    for (int b = 0; b < 3; b++) {
                        assertArrayEquals(f32.topIndices(b), fromFile.topIndices(b), "top-k of query " + b);
                        assertArrayEquals(f32.topScores(b), fromFile.topScores(b), "top-k cosines of query " + b);
                    }
                    // a range across the shard boundaries
                    RetrievalPartial p1 = SQ8[e].retrievePartial(mem, 650, 1500, q, params);
                    RetrievalPartial p2 = SQ8[e].retrievePartial(mapped, 650, 1500, q, params);
                    for (int b = 0; b < 3; b++) {
                        assertEquals(p1.top(b).toString(), p2.top(b).toString(), "range top-k of query " + b);
                        assertEquals(p1.sum(b), p2.sum(b));
                    }
                }
            }
        }
    }

    /** Ties everywhere: more equal rows than candidates, so the exact rescan runs across the shards. */
    @Test
    void theRescanWalksEveryShard() throws IOException {
        int d = 8;
        float[] row = {1, 2, 3, 4, 5, 6, 7, 8};
        List<Path> shards = new java.util.ArrayList<>();
        for (int s = 0; s < 3; s++) {
            float[] data = new float[100 * d];
            for (int i = 0; i < 100; i++) {
                System.arraycopy(row, 0, data, i * d, d);
            }
            Path p = dir.resolve("tie" + s + ".npy");
            Npy.write(p, data, 100, d);
            shards.add(p);
        }
        Path out = dir.resolve("ties.sq8");
        MappedSq8Memory.convert(shards, out);
        try (MappedSq8Memory mapped = MappedSq8Memory.open(out); FloatMatrix q = FloatMatrix.of(row, 1, d)) {
            long before = SQ8[0].sq8Rescans();
            RetrievalPartial p = SQ8[0].retrievePartial(mapped, 150, 300, q, new RetrievalParams(1f, 3));
            assertTrue(SQ8[0].sq8Rescans() > before);
            assertEquals(150, p.top(0).index(0));
            assertEquals(152, p.top(0).index(2));
        }
    }

    @Test
    void badShardsAndDamagedFilesAreOneLineErrors() throws IOException {
        Path a = dir.resolve("a.npy");
        Path b = dir.resolve("b.npy");
        try (FloatMatrix x = RandomMatrices.uniform(10, 4, 1); FloatMatrix y = RandomMatrices.uniform(10, 5, 2)) {
            Npy.write(a, x);
            Npy.write(b, y);
        }
        Path out = dir.resolve("m.sq8");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MappedSq8Memory.convert(List.of(a, b), out));
        assertTrue(e.getMessage().contains("has d = 5 columns, the shards before it 4"), e.getMessage());
        assertFalse(Files.exists(out));
        MappedSq8Memory.convert(List.of(a), out);
        byte[] bytes = Files.readAllBytes(out);
        Files.write(out, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        IOException t = assertThrows(IOException.class, () -> MappedSq8Memory.open(out));
        assertTrue(t.getMessage().contains("(truncated or damaged)"), t.getMessage());
        bytes[0] = 'X';
        Files.write(out, bytes);
        IOException m = assertThrows(IOException.class, () -> MappedSq8Memory.open(out));
        assertTrue(m.getMessage().contains("not an Engram SQ8 memory"), m.getMessage());
    }
}
