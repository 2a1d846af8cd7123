package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;
import java.util.zip.CRC32;

import static dev.engram.hopfield.PatternStoreTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Files whose checksum is right but whose content is not: each is refused with the reason. The layout is the one
 * documented in {@link PatternStoreFile}: 64-byte header (magic, version, d, M, size, β, merge similarity, merge rate,
 * half-life, clock), size×d patterns, then outcomes, dates, merges, hits, written, and a CRC-32 of all before it.
 */
class PatternStoreFileContentTest {
    static final int HEADER = PatternStoreFile.HEADER_BYTES;
    static final int DIM = 3;
    static final int SIZE = 2;

    @TempDir
    Path dir;

    private final Backend engine = Backends.select("reference");

    /** A saved store of 2 patterns of width 3, capacity 4, changed by {@code edit} and sealed with a fresh CRC. */
    private Path damaged(String name, Consumer<ByteBuffer> edit) throws IOException {
        Path f = dir.resolve(name);
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(DIM, 4), engine)) {
            s.insert(new float[] {1, 0, 0}, 0.1, 1);
            s.insert(new float[] {0, 1, 0}, 0.2, 2);
            s.save(f);
        }
        byte[] b = Files.readAllBytes(f);
        assertEquals(PatternStoreFile.expectedLength(DIM, SIZE), b.length);
        ByteBuffer bb = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        edit.accept(bb);
        CRC32 crc = new CRC32();
        crc.update(b, 0, b.length - 8);
        bb.putLong(b.length - 8, crc.getValue());
        Files.write(f, b);
        return f;
    }

    private void refused(Path f, String... parts) {
        assertMessage(assertThrows(IOException.class, () -> PatternStore.load(f, engine)), parts);
    }

    @Test
    void theSealedButUnchangedFileLoads() throws IOException {
        try (PatternStore s = PatternStore.load(damaged("same.eps", b -> { }), engine)) {
            assertEquals(2, s.size());
        }
    }

    @Test
    void aFileShorterThanTheHeaderIsNamedByItsLength() throws IOException {
        Path f = dir.resolve("short.eps");
        Files.write(f, new byte[HEADER - 1]);
        refused(f, "is " + (HEADER - 1) + " bytes, shorter than the " + HEADER + "-byte header");
        Files.write(f, new byte[HEADER]);
        refused(f, "is not a pattern store");
    }

    @Test
    void shapesOutsideTheirRangesAreRefused() throws IOException {
        // header: magic 0..8, version 8, dim 12, capacity 16, size 20
        refused(damaged("dim0.eps", b -> b.putInt(12, 0)), "invalid shape: dim=0, capacity=4, size=2");
        refused(damaged("cap0.eps", b -> b.putInt(16, 0)), "invalid shape: dim=3, capacity=0, size=2");
        refused(damaged("neg.eps", b -> b.putInt(20, -1)), "invalid shape: dim=3, capacity=4, size=-1");
        refused(damaged("over.eps", b -> b.putInt(20, 5)), "invalid shape: dim=3, capacity=4, size=5");
        // size = capacity passes the shape check and fails only on the length
        refused(damaged("full.eps", b -> b.putInt(20, 4)), "dim=3, size=4 needs");
        refused(damaged("rate.eps", b -> b.putDouble(36, 0)), "invalid settings", "mergeRate");
    }

    @Test
    void nonFiniteValuesAndNegativeCountsAreRefused() throws IOException {
        int patterns = HEADER;
        int outcomes = patterns + SIZE * DIM * 4;
        int dates = outcomes + SIZE * 4;
        int merges = dates + SIZE * 8;
        int hits = merges + SIZE * 4;
        refused(damaged("nanx.eps", b -> b.putFloat(patterns + (DIM + 2) * 4, Float.NaN)), "holds bad data", "patterns");
        refused(damaged("nany.eps", b -> b.putFloat(outcomes + 4, Float.POSITIVE_INFINITY)),
                "holds bad data: outcomes must be finite, but element 1 is Infinity");
        refused(damaged("merges.eps", b -> b.putInt(merges + 4, -1)), "holds a negative usage count at slot 1");
        refused(damaged("hits.eps", b -> b.putInt(hits, -3)), "holds a negative usage count at slot 0");
    }

    @Test
    void everyPatternRowIsReadAtItsOwnOffset() throws IOException {
        int patterns = HEADER;
        Path f = damaged("row.eps", b -> {
            b.putFloat(patterns + DIM * 4 + 4, 0);      // row 1 = (0, 0, 1)
            b.putFloat(patterns + DIM * 4 + 8, 1);
        });
        try (PatternStore s = PatternStore.load(f, engine)) {
            PatternStore.Prediction p = s.query(new float[] {0, 0, 1}, 1);
            assertEquals(1, p.neighbors().getFirst().slot());
            assertEquals(1.0, p.neighbors().getFirst().similarity(), 1e-6);
            assertEquals(0.2, p.neighbors().getFirst().outcome(), 1e-6);
            assertEquals(2, p.neighbors().getFirst().dateMs());
        }
    }
}
