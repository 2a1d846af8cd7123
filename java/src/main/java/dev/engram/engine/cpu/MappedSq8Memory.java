package dev.engram.engine.cpu;

import dev.engram.tensor.FileErrors;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * A pattern memory too large for the heap: 8-bit scalar-quantised codes in one memory-mapped file, written by a
 * streaming converter from float32 {@code .npy} shards, which stay where they are and are mapped too: the exact
 * top-k re-ranks the candidates against their float32 rows (see {@link CpuBackend.Storage#SQ8}). Retrieval
 * ({@link CpuBackend#retrievePartial(MappedSq8Memory, long, long, FloatMatrix, dev.engram.engine.RetrievalParams)})
 * reads the mapped pages where they are: the memory costs page cache (file-backed, counted in RSS as RssFile), not
 * heap or anonymous memory. V = X.
 *
 * <p>File layout (little-endian): the magic {@code ENGRAMQ8}, int version (1), int d, long M, int shard count;
 * per shard long rows and the UTF-8 path of its {@code .npy} (int length, bytes); then, each at a multiple of 64:
 * float lo[d], float hi[d] (the per-dimension ranges), float norms[M] (‖x_i‖ of the float32 rows, as
 * {@link dev.engram.engine.PatternMemory} computes them), byte codes[M·d] and 64 bytes of padding.
 */
public final class MappedSq8Memory implements AutoCloseable {
    private static final byte[] MAGIC = "ENGRAMQ8".getBytes(StandardCharsets.US_ASCII);
    private static final int VERSION = 1;
    /** Rows converted per block (norms and codes written per block, so memory use does not grow with M). */
    private static final int BLOCK = 1 << 16;

    private final Arena arena;
    private final Path file;
    private final int dim;
    private final long size;
    private final Sq8Patterns patterns;
    private final MemorySegment norms;
    private final CpuBackend.ExactRows rows;

    private MappedSq8Memory(Arena arena, Path file, int dim, long size, Sq8Patterns patterns, MemorySegment norms,
                            CpuBackend.ExactRows rows) {
        this.arena = arena;
        this.file = file;
        this.dim = dim;
        this.size = size;
        this.patterns = patterns;
        this.norms = norms;
        this.rows = rows;
    }

    public long size() {
        return size;
    }

    public int dim() {
        return dim;
    }

    public Path file() {
        return file;
    }

    /** Bytes of codes a full pass reads (M·d). */
    public long codeBytes() {
        return size * dim;
    }

    Sq8Patterns patterns() {
        return patterns;
    }

    MemorySegment norms() {
        return norms;
    }

    CpuBackend.ExactRows rows() {
        return rows;
    }

    /**
     * Converts float32 {@code .npy} shards (2-D, the same width, C order) into an SQ8 memory file at {@code out},
     * streaming: one pass for the per-dimension ranges, one for norms and codes, each over one mapped shard at a
     * time in blocks of 65 536 rows. Written to a temporary file beside {@code out} and moved into place when
     * complete. The shards' absolute paths are recorded: keep them where they are.
     */
    public static void convert(List<Path> shards, Path out) throws IOException {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("no shards to convert");
        }
        int dim = -1;
        long total = 0;
        List<Long> counts = new ArrayList<>();
        for (Path s : shards) {
            Npy.Header h = Npy.readHeader(s);
            if (!h.descr().equals("<f4") || h.fortranOrder() || h.shape().length != 2 || h.shape()[0] < 1) {
                throw new IllegalArgumentException(s + ": a shard must be a non-empty 2-D little-endian float32 "
                        + "(<f4) array in C order, found " + h.descr() + " of shape "
                        + java.util.Arrays.toString(h.shape()));
            }
            int d = (int) h.shape()[1];
            if (dim >= 0 && d != dim) {
                throw new IllegalArgumentException(s + ": has d = " + d + " columns, the shards before it " + dim
                        + "; all shards must have the same width");
            }
            dim = d;
            counts.add(h.shape()[0]);
            total += h.shape()[0];
        }
        float[] lo = new float[dim];
        float[] hi = new float[dim];
        java.util.Arrays.fill(lo, Float.POSITIVE_INFINITY);
        java.util.Arrays.fill(hi, Float.NEGATIVE_INFINITY);
        for (Path s : shards) {
            try (Arena a = Arena.ofConfined()) {
                FloatMatrix x = Npy.mapFloat(s, a);
                MemorySegment seg = x.segment();
                long n = x.rows() * dim;
                for (long e = 0; e < n; e++) {
                    float v = seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, e);
                    if (!Float.isFinite(v)) {
                        throw new IllegalArgumentException(s + ": element (" + e / dim + ", " + e % dim + ") = " + v
                                + " is not finite; SQ8 storage needs finite patterns");
                    }
                    int j = (int) (e % dim);
                    lo[j] = Math.min(lo[j], v);
                    hi[j] = Math.max(hi[j], v);
                }
            }
        }
        Sq8Patterns q = Sq8Patterns.fixed(dim, lo, hi, MemorySegment.NULL);
        ByteBuffer head = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        head.put(MAGIC).putInt(VERSION).putInt(dim).putLong(total).putInt(shards.size());
        for (int i = 0; i < shards.size(); i++) {
            byte[] p = shards.get(i).toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8);
            head.putLong(counts.get(i)).putInt(p.length).put(p);
        }
        long rangesAt = align(head.position());
        long normsAt = align(rangesAt + 8L * dim);
        long codesAt = align(normsAt + 4L * total);
        long end = codesAt + total * dim + Sq8Patterns.PAD;
        Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING)) {
                head.flip();
                write(ch, head, 0);
                ByteBuffer r = ByteBuffer.allocate(8 * dim).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : lo) {
                    r.putFloat(v);
                }
                for (float v : hi) {
                    r.putFloat(v);
                }
                r.flip();
                write(ch, r, rangesAt);
                long row0 = 0;
                ByteBuffer nb = ByteBuffer.allocate(4 * BLOCK).order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer cb = ByteBuffer.allocate(BLOCK * dim);
                for (Path s : shards) {
                    try (Arena a = Arena.ofConfined()) {
                        FloatMatrix x = Npy.mapFloat(s, a);
                        MemorySegment seg = x.segment();
                        for (long i0 = 0; i0 < x.rows(); i0 += BLOCK) {
                            int n = (int) Math.min(BLOCK, x.rows() - i0);
                            nb.clear();
                            cb.clear();
                            for (int i = 0; i < n; i++) {
                                double sq = 0;
                                for (int j = 0; j < dim; j++) {
                                    float v = seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, (i0 + i) * dim + j);
                                    sq += (double) v * v;
                                    cb.put(q.code(v, j));
                                }
                                nb.putFloat((float) Math.sqrt(sq));
                            }
                            nb.flip();
                            cb.flip();
                            write(ch, nb, normsAt + 4 * (row0 + i0));
                            write(ch, cb, codesAt + (row0 + i0) * dim);
                        }
                        row0 += x.rows();
                    }
                }
                write(ch, ByteBuffer.allocate(Sq8Patterns.PAD), end - Sq8Patterns.PAD);
                ch.force(true);
            }
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw FileErrors.writing(out, e);
        } catch (RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
    }

    private static long align(long at) {
        return (at + 63) / 64 * 64;
    }

    private static void write(FileChannel ch, ByteBuffer b, long at) throws IOException {
        while (b.hasRemaining()) {
            at += ch.write(b, at);
        }
    }

    /** Maps an SQ8 memory file and its float32 shards (read-only). */
    public static MappedSq8Memory open(Path file) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment all;
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                all = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
            }
            ByteBuffer h = all.asSlice(0, Math.min(all.byteSize(), 1 << 16)).asByteBuffer()
                    .order(ByteOrder.LITTLE_ENDIAN);
            byte[] magic = new byte[MAGIC.length];
            if (h.remaining() < 28) {
                throw bad(file, "too short for the header (" + all.byteSize() + " bytes)");
            }
            h.get(magic);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw bad(file, "does not start with ENGRAMQ8: not an Engram SQ8 memory");
            }
            int version = h.getInt();
            if (version != VERSION) {
                throw bad(file, "has version " + version + "; this Engram reads version " + VERSION);
            }
            int dim = h.getInt();
            long total = h.getLong();
            int shardCount = h.getInt();
            if (dim < 1 || total < 1 || shardCount < 1) {
                throw bad(file, "has d = " + dim + ", M = " + total + ", " + shardCount + " shards");
            }
            long[] starts = new long[shardCount + 1];
            MemorySegment[] segs = new MemorySegment[shardCount];
            for (int s = 0; s < shardCount; s++) {
                long n = h.getLong();
                byte[] p = new byte[h.getInt()];
                h.get(p);
                Path shard = Path.of(new String(p, StandardCharsets.UTF_8));
                FloatMatrix x = Npy.mapFloat(shard, arena);
                if (x.rows() != n || x.cols() != dim) {
                    throw bad(file, "names shard " + shard + " of " + n + "×" + dim + ", which now holds "
                            + x.rows() + "×" + x.cols() + "; convert the shards again");
                }
                segs[s] = x.segment();
                starts[s + 1] = starts[s] + n;
            }
            if (starts[shardCount] != total) {
                throw bad(file, "has shards of " + starts[shardCount] + " rows in all, not M = " + total);
            }
            long rangesAt = align(h.position());
            long normsAt = align(rangesAt + 8L * dim);
            long codesAt = align(normsAt + 4L * total);
            long end = codesAt + total * dim + Sq8Patterns.PAD;
            if (all.byteSize() != end) {
                throw bad(file, "is " + all.byteSize() + " bytes, expected " + end + " (truncated or damaged)");
            }
            float[] lo = new float[dim];
            float[] hi = new float[dim];
            MemorySegment.copy(all, ValueLayout.JAVA_FLOAT_UNALIGNED, rangesAt, lo, 0, dim);
            MemorySegment.copy(all, ValueLayout.JAVA_FLOAT_UNALIGNED, rangesAt + 4L * dim, hi, 0, dim);
            Sq8Patterns q = Sq8Patterns.fixed(dim, lo, hi, all.asSlice(codesAt, total * dim + Sq8Patterns.PAD));
            return new MappedSq8Memory(arena, file, dim, total, q, all.asSlice(normsAt, 4L * total),
                    new CpuBackend.ExactRows(starts, segs));
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private static IOException bad(Path file, String what) {
        return new IOException(file + " " + what);
    }

    /** Unmaps the file and the shards. */
    @Override
    public void close() {
        arena.close();
    }
}
