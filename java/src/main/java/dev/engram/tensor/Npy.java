package dev.engram.tensor;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1.0, 2.0 and 3.0), the lingua franca for handing arrays
 * between Engram and Python tools.
 *
 * <p>Reading: little-endian float32 ({@code <f4}) loads or memory-maps as is; {@code <f2} and {@code <f8} load with
 * conversion to float32. 2-D arrays read as {@code rows × cols}; a 1-D array of length n reads as {@code 1 × n}.
 * C order only. Writing: float32 and int64 arrays, through a temporary file moved into place, so a reader never sees
 * a half-written file.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    private static final int ALIGN = 64;

    private Npy() {
    }

    /** The parsed header of a {@code .npy} file. */
    public record Header(String descr, boolean fortranOrder, long[] shape, long dataOffset) {
        /** Number of elements: the product of the shape (1 for a 0-d array). */
        public long count() {
            long n = 1;
            for (long s : shape) {
                n = Math.multiplyExact(n, s);
            }
            return n;
        }

        int itemSize() {
            return Integer.parseInt(descr.substring(2));
        }
    }

    /** Reads and validates the header of {@code file}. */
    public static Header readHeader(Path file) throws IOException {
        try (FileChannel ch = open(file)) {
            return readHeader(file, ch);
        } catch (IOException e) {
            throw FileErrors.reading(file, e);
        }
    }

    /** Opens {@code file} for reading; a folder is refused here (on Linux opening one succeeds, reading fails). */
    private static FileChannel open(Path file) throws IOException {
        if (Files.isDirectory(file)) {
            throw new IOException("Is a directory");
        }
        return FileChannel.open(file, StandardOpenOption.READ);
    }

    private static Header readHeader(Path file, FileChannel ch) throws IOException {
        ByteBuffer pre = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        readFully(file, ch, pre, 0);
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre.get(i) != MAGIC[i]) {
                throw new NpyFormatException(file, "not a .npy file (wrong magic string; expected \\x93NUMPY)");
            }
        }
        int major = pre.get(6) & 0xff;
        long headerLen;
        long headerStart;
        if (major == 1) {
            headerLen = pre.getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            headerLen = pre.getInt(8) & 0xffffffffL;
            headerStart = 12;
        } else {
            throw new NpyFormatException(file, "unsupported .npy format version " + major + "." + (pre.get(7) & 0xff));
        }
        if (headerLen > 1 << 20 || headerStart + headerLen > ch.size()) {
            throw new NpyFormatException(file, "truncated or corrupt header (header length " + headerLen
                    + ", file size " + ch.size() + ")");
        }
        ByteBuffer hb = ByteBuffer.allocate((int) headerLen);
        readFully(file, ch, hb, headerStart);
        String header = new String(hb.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Matcher d = DESCR.matcher(header);
        Matcher f = FORTRAN.matcher(header);
        Matcher s = SHAPE.matcher(header);
        if (!d.find() || !f.find() || !s.find()) {
            throw new NpyFormatException(file, "malformed header dictionary: " + header.strip());
        }
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            try {
                long v = Long.parseLong(p.endsWith("L") ? p.substring(0, p.length() - 1) : p);
                if (v < 0) {
                    throw new NumberFormatException();
                }
                dims.add(v);
            } catch (NumberFormatException e) {
                throw new NpyFormatException(file, "malformed shape (" + s.group(1) + ")");
            }
        }
        long[] shape = dims.stream().mapToLong(Long::longValue).toArray();
        Header h = new Header(d.group(1), f.group(1).equals("True"), shape, headerStart + headerLen);
        long need;
        try {
            need = Math.multiplyExact(h.count(), (long) itemSize(file, h.descr()));
        } catch (ArithmeticException e) {
            throw new NpyFormatException(file, "shape " + shapeString(shape) + " is too large");
        }
        long have = ch.size() - h.dataOffset();
        if (have < need) {
            throw new NpyFormatException(file, "truncated: shape " + shapeString(shape) + " of " + h.descr()
                    + " needs " + need + " data bytes, the file has " + have);
        }
        return h;
    }

    private static int itemSize(Path file, String descr) throws NpyFormatException {
        if (descr.length() < 3 || !descr.substring(2).chars().allMatch(Character::isDigit)) {
            throw new NpyFormatException(file, "unsupported dtype '" + descr + "'");
        }
        return Integer.parseInt(descr.substring(2));
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            int n = ch.read(buf, pos + buf.position());
            if (n < 0) {
                throw new NpyFormatException(file, "truncated: file ends after " + ch.size() + " bytes");
            }
        }
    }

    private static long[] matrixShape(Path file, Header h) throws NpyFormatException {
        if (h.fortranOrder()) {
            throw new NpyFormatException(file, "Fortran-ordered arrays are not supported; save with "
                    + "np.ascontiguousarray(a) first");
        }
        long[] s = h.shape();
        if (s.length == 1) {
            return new long[] {1, s[0]};
        }
        if (s.length == 2) {
            return s;
        }
        throw new NpyFormatException(file, "expected a 1-D or 2-D array, got shape " + shapeString(s));
    }

    private static int colsOf(Path file, long[] shape) throws NpyFormatException {
        if (shape[1] < 1 || shape[1] > Integer.MAX_VALUE) {
            throw new NpyFormatException(file, "unsupported number of columns " + shape[1] + " in shape "
                    + shapeString(shape));
        }
        return (int) shape[1];
    }

    /**
     * Loads a 1-D or 2-D float array into a new off-heap float32 matrix. Accepts {@code <f4}, {@code <f2} and
     * {@code <f8} (converted to float32).
     */
    public static FloatMatrix readFloat(Path file) throws IOException {
        try {
            return readFloatBody(file);
        } catch (IOException e) {
            throw FileErrors.reading(file, e);
        }
    }

    private static FloatMatrix readFloatBody(Path file) throws IOException {
        try (FileChannel ch = open(file); Arena arena = Arena.ofConfined()) {
            Header h = readHeader(file, ch);
            long[] shape = matrixShape(file, h);
            int cols = colsOf(file, shape);
            String descr = h.descr();
            if (!descr.equals("<f4") && !descr.equals("<f2") && !descr.equals("<f8")) {
                throw new NpyFormatException(file, "unsupported dtype '" + descr
                        + "' (expected little-endian float: <f4, <f2 or <f8)");
            }
            long n = shape[0] * cols;
            MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), n * h.itemSize(), arena);
            FloatMatrix m = FloatMatrix.allocate(shape[0], cols);
            MemorySegment dst = m.segment();
            switch (descr) {
                case "<f4" -> MemorySegment.copy(data, 0, dst, 0, n * Float.BYTES);
                case "<f8" -> {
                    for (long i = 0; i < n; i++) {
                        dst.setAtIndex(FloatMatrix.FLOAT, i, (float) data.getAtIndex(ValueLayout.JAVA_DOUBLE_UNALIGNED, i));
                    }
                }
                default -> {
                    for (long i = 0; i < n; i++) {
                        dst.setAtIndex(FloatMatrix.FLOAT, i,
                                Float.float16ToFloat(data.getAtIndex(ValueLayout.JAVA_SHORT_UNALIGNED, i)));
                    }
                }
            }
            return m;
        }
    }

    /**
     * Memory-maps a float32 ({@code <f4}, C order) 1-D or 2-D array without loading it: pages are read on first
     * touch. The mapping lives as long as {@code arena}.
     */
    public static FloatMatrix mapFloat(Path file, Arena arena) throws IOException {
        try {
            return mapFloatBody(file, arena);
        } catch (IOException e) {
            throw FileErrors.reading(file, e);
        }
    }

    private static FloatMatrix mapFloatBody(Path file, Arena arena) throws IOException {
        try (FileChannel ch = open(file)) {
            Header h = readHeader(file, ch);
            long[] shape = matrixShape(file, h);
            int cols = colsOf(file, shape);
            if (!h.descr().equals("<f4")) {
                throw new NpyFormatException(file, "only little-endian float32 (<f4) can be memory-mapped, found '"
                        + h.descr() + "'; use readFloat to convert");
            }
            long bytes = shape[0] * cols * Float.BYTES;
            MemorySegment seg = bytes == 0
                    ? MemorySegment.NULL
                    : ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), bytes, arena);
            return FloatMatrix.wrap(seg, shape[0], cols);
        }
    }

    /** Loads a 1-D or 2-D integer array ({@code <i8}, {@code <i4}) as longs, row-major. */
    public static long[] readLong(Path file) throws IOException {
        try {
            return readLongBody(file);
        } catch (IOException e) {
            throw FileErrors.reading(file, e);
        }
    }

    private static long[] readLongBody(Path file) throws IOException {
        try (FileChannel ch = open(file); Arena arena = Arena.ofConfined()) {
            Header h = readHeader(file, ch);
            long[] shape = matrixShape(file, h);
            long n = shape[0] * shape[1];
            if (n > Integer.MAX_VALUE - 8) {
                throw new NpyFormatException(file, "too many elements for an array: " + n);
            }
            long[] out = new long[(int) n];
            switch (h.descr()) {
                case "<i8" -> {
                    MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), n * 8, arena);
                    MemorySegment.copy(data, ValueLayout.JAVA_LONG_UNALIGNED, 0, out, 0, (int) n);
                }
                case "<i4" -> {
                    MemorySegment data = ch.map(FileChannel.MapMode.READ_ONLY, h.dataOffset(), n * 4, arena);
                    for (int i = 0; i < n; i++) {
                        out[i] = data.getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
                    }
                }
                default -> throw new NpyFormatException(file, "unsupported dtype '" + h.descr()
                        + "' (expected <i8 or <i4)");
            }
            return out;
        }
    }

    /** Writes {@code m} as a 2-D float32 array. */
    public static void write(Path file, FloatMatrix m) throws IOException {
        if (!m.isContiguous()) {
            try (FloatMatrix dense = m.copy()) {
                write(file, dense);
            }
            return;
        }
        MemorySegment src = m.segment();
        writeAtomically(file, "<f4", new long[] {m.rows(), m.cols()}, out -> {
            byte[] buf = new byte[1 << 16];
            long total = m.rows() * m.cols() * Float.BYTES;
            for (long pos = 0; pos < total; pos += buf.length) {
                int len = (int) Math.min(buf.length, total - pos);
                MemorySegment.copy(src, ValueLayout.JAVA_BYTE, pos, buf, 0, len);
                out.write(buf, 0, len);
            }
        });
    }

    /** Writes a float32 array of the given shape (1-D or 2-D) from row-major {@code data}. */
    public static void write(Path file, float[] data, long... shape) throws IOException {
        checkCount(file, data.length, shape);
        writeAtomically(file, "<f4", shape, out -> {
            ByteBuffer b = ByteBuffer.allocate(data.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asFloatBuffer().put(data);
            out.write(b.array());
        });
    }

    /** Writes an int64 array of the given shape (1-D or 2-D) from row-major {@code data}. */
    public static void write(Path file, long[] data, long... shape) throws IOException {
        checkCount(file, data.length, shape);
        writeAtomically(file, "<i8", shape, out -> {
            ByteBuffer b = ByteBuffer.allocate(data.length * Long.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(data);
            out.write(b.array());
        });
    }

    private static void checkCount(Path file, long count, long[] shape) {
        long n = 1;
        for (long s : shape) {
            n *= s;
        }
        if (n != count) {
            throw new IllegalArgumentException("writing " + file + ": shape " + shapeString(shape) + " holds " + n
                    + " elements but " + count + " were given");
        }
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static void writeAtomically(Path file, String descr, long[] shape, Body body) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeString(shape) + ", }";
        int unpadded = 10 + dict.length() + 1;
        int pad = (ALIGN - unpadded % ALIGN) % ALIGN;
        String header = dict + " ".repeat(pad) + "\n";
        AtomicFiles.write(file, tmp -> {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
                out.write(MAGIC);
                out.write(1);
                out.write(0);
                out.write(header.length() & 0xff);
                out.write((header.length() >> 8) & 0xff);
                out.write(header.getBytes(StandardCharsets.ISO_8859_1));
                body.write(out);
            }
        });
    }

    static String shapeString(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            sb.append(shape[i]);
            if (i < shape.length - 1 || shape.length == 1) {
                sb.append(",");
            }
            if (i < shape.length - 1) {
                sb.append(" ");
            }
        }
        return sb.append(")").toString();
    }
}
