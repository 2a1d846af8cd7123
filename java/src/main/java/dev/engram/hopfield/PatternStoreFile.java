package dev.engram.hopfield;

import dev.engram.tensor.AtomicFiles;
import dev.engram.tensor.FloatMatrix;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;

/**
 * The on-disk format of a {@link PatternStore}, version 1, little-endian:
 * <pre>
 *   magic    8 bytes  "ENGRAMPS"
 *   version  int32    1
 *   dim d, capacity, size M                        int32 ×3     (1 ≤ d, 1 ≤ capacity, 0 ≤ M ≤ capacity)
 *   beta float32, mergeSimilarity, mergeRate, halfLife float64 ×3, clock int64
 *   patterns M×d float32 (unit rows) · outcomes M float32 · dates M int64 · merges M int32 · hits M int32 ·
 *   written M int64
 *   crc32    int64    CRC-32 of every byte before it
 * </pre>
 * The file length must equal the length these fields imply, so truncation and trailing bytes are caught before the
 * checksum is even computed. Writes go to a temporary file beside the target and are moved into place.
 */
final class PatternStoreFile {
    static final byte[] MAGIC = "ENGRAMPS".getBytes(StandardCharsets.US_ASCII);
    static final int VERSION = 1;
    static final int HEADER_BYTES = 8 + 4 + 3 * 4 + 4 + 3 * 8 + 8;
    private static final int CHUNK = 1 << 20;

    private PatternStoreFile() {
    }

    /** Everything a store file holds; {@code patterns} is M×d. */
    record Contents(PatternStore.Config config, long clock, FloatMatrix patterns, float[] outcomes, long[] dates,
                    int[] merges, int[] hits, long[] written) {
    }

    /** Builds the object the file describes; called while the loaded patterns are still open. */
    interface Factory<T> {
        T create(Contents contents) throws IOException;
    }

    static long expectedLength(int dim, int size) {
        return HEADER_BYTES + (long) size * dim * 4 + (long) size * (4 + 8 + 4 + 4 + 8) + 8;
    }

    static void write(Path target, Contents c) throws IOException {
        Path tmp = AtomicFiles.newTempFile(target);
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                Writer w = new Writer(ch);
                PatternStore.Config cfg = c.config();
                int size = c.outcomes().length;
                w.buf(HEADER_BYTES).put(MAGIC).putInt(VERSION).putInt(cfg.dim()).putInt(cfg.capacity()).putInt(size)
                        .putFloat(cfg.beta()).putDouble(cfg.mergeSimilarity()).putDouble(cfg.mergeRate())
                        .putDouble(cfg.halfLife()).putLong(c.clock());
                float[] row = new float[cfg.dim()];
                for (long r = 0; r < size; r++) {
                    c.patterns().copyRow(r, row, 0);
                    ByteBuffer b = w.buf(row.length * 4);
                    for (float f : row) {
                        b.putFloat(f);
                    }
                }
                for (float f : c.outcomes()) {
                    w.buf(4).putFloat(f);
                }
                for (long v : c.dates()) {
                    w.buf(8).putLong(v);
                }
                for (int v : c.merges()) {
                    w.buf(4).putInt(v);
                }
                for (int v : c.hits()) {
                    w.buf(4).putInt(v);
                }
                for (long v : c.written()) {
                    w.buf(8).putLong(v);
                }
                w.finish();
                ch.force(true);
            }
            AtomicFiles.move(tmp, target);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    static <T> T read(Path file, Factory<T> factory) throws IOException {
        long length = Files.size(file);
        if (length < HEADER_BYTES) {
            throw bad(file, "is " + length + " bytes, shorter than the " + HEADER_BYTES + "-byte header");
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Reader r = new Reader(ch);
            ByteBuffer h = r.next(HEADER_BYTES);
            byte[] magic = new byte[MAGIC.length];
            h.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw bad(file, "is not a pattern store (magic " + new String(magic, StandardCharsets.ISO_8859_1).strip()
                        + ", expected ENGRAMPS)");
            }
            int version = h.getInt();
            if (version != VERSION) {
                throw bad(file, "has format version " + version + "; this build reads version " + VERSION);
            }
            int dim = h.getInt();
            int capacity = h.getInt();
            int size = h.getInt();
            float beta = h.getFloat();
            double mergeSimilarity = h.getDouble();
            double mergeRate = h.getDouble();
            double halfLife = h.getDouble();
            long clock = h.getLong();
            if (dim < 1 || capacity < 1 || size < 0 || size > capacity) {
                throw bad(file, "has an invalid shape: dim=" + dim + ", capacity=" + capacity + ", size=" + size);
            }
            PatternStore.Config cfg;
            try {
                cfg = new PatternStore.Config(dim, capacity, beta, mergeSimilarity, mergeRate, halfLife);
            } catch (IllegalArgumentException e) {
                throw bad(file, "has invalid settings: " + e.getMessage());
            }
            long expected = expectedLength(dim, size);
            if (length != expected) {
                throw bad(file, "is " + length + " bytes but dim=" + dim + ", size=" + size + " needs " + expected
                        + " (truncated or trailing data)");
            }
            try (FloatMatrix patterns = FloatMatrix.allocate(size, dim)) {
                for (long row = 0; row < size; row++) {
                    ByteBuffer b = r.next(dim * 4);
                    for (int c = 0; c < dim; c++) {
                        patterns.set(row, c, b.getFloat());
                    }
                }
                float[] outcomes = new float[size];
                long[] dates = new long[size];
                int[] merges = new int[size];
                int[] hits = new int[size];
                long[] written = new long[size];
                for (int i = 0; i < size; i++) {
                    outcomes[i] = r.next(4).getFloat();
                }
                for (int i = 0; i < size; i++) {
                    dates[i] = r.next(8).getLong();
                }
                for (int i = 0; i < size; i++) {
                    merges[i] = r.next(4).getInt();
                }
                for (int i = 0; i < size; i++) {
                    hits[i] = r.next(4).getInt();
                }
                for (int i = 0; i < size; i++) {
                    written[i] = r.next(8).getLong();
                }
                long crc = r.crc();
                long stored = r.next(8).getLong();
                if (crc != stored) {
                    throw bad(file, "fails its checksum (stored " + Long.toHexString(stored) + ", computed "
                            + Long.toHexString(crc) + "): the file is corrupt");
                }
                try {
                    patterns.requireFinite("patterns");
                    Checks.finite("outcomes", outcomes);
                } catch (IllegalArgumentException e) {
                    throw bad(file, "holds bad data: " + e.getMessage());
                }
                for (int i = 0; i < size; i++) {
                    if (merges[i] < 0 || hits[i] < 0) {
                        throw bad(file, "holds a negative usage count at slot " + i);
                    }
                }
                return factory.create(new Contents(cfg, clock, patterns, outcomes, dates, merges, hits, written));
            }
        }
    }

    private static IOException bad(Path file, String what) {
        return new IOException("pattern store file " + file + " " + what);
    }

    /** Buffered little-endian writes with a running CRC-32. */
    private static final class Writer {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32 crc = new CRC32();

        Writer(FileChannel ch) {
            this.ch = ch;
        }

        ByteBuffer buf(int need) throws IOException {
            if (buf.remaining() < need) {
                flush();
            }
            return buf;
        }

        private void flush() throws IOException {
            buf.flip();
            crc.update(buf.duplicate());
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            buf.clear();
        }

        void finish() throws IOException {
            flush();
            ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(crc.getValue()).flip();
            while (tail.hasRemaining()) {
                ch.write(tail);
            }
        }
    }

    /** Buffered little-endian reads with a running CRC-32 over the bytes handed out. */
    private static final class Reader {
        private final FileChannel ch;
        private final ByteBuffer buf = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
        private final CRC32 crc = new CRC32();
        private int crcMark;

        Reader(FileChannel ch) {
            this.ch = ch;
            buf.limit(0);
        }

        ByteBuffer next(int need) throws IOException {
            if (buf.remaining() < need) {
                fold();
                buf.compact();
                while (buf.position() < need) {
                    if (ch.read(buf) < 0) {
                        throw new EOFException("unexpected end of file");
                    }
                }
                buf.flip();
                crcMark = 0;
            }
            return buf;
        }

        /** Adds the bytes consumed since the last fold to the checksum. */
        private void fold() {
            int pos = buf.position();
            crc.update(buf.array(), crcMark, pos - crcMark);
            crcMark = pos;
        }

        long crc() {
            fold();
            return crc.getValue();
        }
    }
}
