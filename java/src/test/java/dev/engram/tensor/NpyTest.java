package dev.engram.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir
    Path dir;

    /** A .npy file written byte by byte, as numpy would (version 1.0). */
    static Path npy(Path file, String descr, boolean fortran, String shape, byte[] data) throws IOException {
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
        int total = 10 + dict.length() + 1;
        String header = dict + " ".repeat((64 - total % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0});
        b.putShort((short) header.length());
        b.put(header.getBytes(StandardCharsets.ISO_8859_1));
        b.put(data);
        Files.write(file, b.array());
        return file;
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    @Test
    void roundTripAndMemoryMap() throws IOException {
        try (FloatMatrix m = RandomMatrices.gaussian(37, 5, 3)) {
            Path f = dir.resolve("m.npy");
            Npy.write(f, m);
            try (FloatMatrix back = Npy.readFloat(f)) {
                assertArrayEquals(m.toArray(), back.toArray());
            }
            try (Arena arena = Arena.ofConfined()) {
                FloatMatrix mapped = Npy.mapFloat(f, arena);
                assertEquals(37, mapped.rows());
                assertEquals(5, mapped.cols());
                assertArrayEquals(m.toArray(), mapped.toArray());
            }
            Npy.Header h = Npy.readHeader(f);
            assertEquals(0, h.dataOffset() % 64, "data is 64-byte aligned");
            try (var files = Files.list(dir)) {
                assertEquals(1, files.count(), "no temporary file left behind");
            }
        }
    }

    @Test
    void writesNonContiguousViewsAndLongs() throws IOException {
        try (FloatMatrix m = FloatMatrix.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            Path f = dir.resolve("v.npy");
            Npy.write(f, m.columns(1, 3));
            try (FloatMatrix back = Npy.readFloat(f)) {
                assertArrayEquals(new float[] {2, 3, 5, 6}, back.toArray());
            }
        }
        Path l = dir.resolve("i.npy");
        Npy.write(l, new long[] {1, -2, 3, 1L << 40}, 2, 2);
        assertArrayEquals(new long[] {1, -2, 3, 1L << 40}, Npy.readLong(l));
        assertEquals("<i8", Npy.readHeader(l).descr());
    }

    @Test
    void convertsOneDimensionalDoubleAndHalf() throws IOException {
        ByteBuffer d = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN).putDouble(1.5).putDouble(-2).putDouble(1e-3);
        try (FloatMatrix m = Npy.readFloat(npy(dir.resolve("d.npy"), "<f8", false, "(3,)", d.array()))) {
            assertEquals(1, m.rows());
            assertArrayEquals(new float[] {1.5f, -2f, 1e-3f}, m.toArray());
        }
        ByteBuffer h = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN)
                .putShort(Float.floatToFloat16(0.5f)).putShort(Float.floatToFloat16(-3f));
        try (FloatMatrix m = Npy.readFloat(npy(dir.resolve("h.npy"), "<f2", false, "(1, 2)", h.array()))) {
            assertArrayEquals(new float[] {0.5f, -3f}, m.toArray());
        }
    }

    private void assertBad(Path f, String... parts) {
        var e = assertThrows(NpyFormatException.class, () -> Npy.readFloat(f).close());
        assertTrue(e.getMessage().contains(f.toString()), "names the file: " + e.getMessage());
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention '" + p + "'");
        }
    }

    @Test
    void badFilesGetClearErrors() throws IOException {
        // the file's name must not contain the words looked for (it is part of every message)
        Path notNumpy = dir.resolve("plain-text.npy");
        Files.write(notNumpy, "not numpy at all".getBytes(StandardCharsets.US_ASCII));
        assertBad(notNumpy, "not a .npy file (wrong magic string; expected \\x93NUMPY)");
        assertBad(npy(dir.resolve("dtype.npy"), "<i2", false, "(2,)", new byte[4]), "dtype", "<i2");
        assertBad(npy(dir.resolve("big.npy"), ">f4", false, "(1,)", new byte[4]), "dtype", ">f4");
        assertBad(npy(dir.resolve("fortran.npy"), "<f4", true, "(2, 2)", floats(1, 2, 3, 4)), "Fortran");
        assertBad(npy(dir.resolve("short.npy"), "<f4", false, "(3, 2)", floats(1, 2, 3)), "truncated", "24", "12");
        assertBad(npy(dir.resolve("3d.npy"), "<f4", false, "(1, 1, 2)", floats(1, 2)), "1-D or 2-D");
        Path tiny = dir.resolve("tiny.npy");
        Files.write(tiny, new byte[] {(byte) 0x93, 'N', 'U'});
        assertBad(tiny, "truncated");
        try (Arena a = Arena.ofConfined()) {
            Path d = npy(dir.resolve("f8.npy"), "<f8", false, "(1,)", new byte[8]);
            var e = assertThrows(NpyFormatException.class, () -> Npy.mapFloat(d, a));
            assertTrue(e.getMessage().contains("memory-mapped"));
        }
    }

    @Test
    void writeRejectsShapeMismatchAndLeavesNoFile() {
        Path f = dir.resolve("x.npy");
        assertThrows(IllegalArgumentException.class, () -> Npy.write(f, new float[5], 2, 3));
        assertTrue(Files.notExists(f));
    }

    @Test
    void largeMappedFileIsNotLoaded() throws IOException {
        // 64 MB on disk; mapping it allocates nothing on the heap and reads pages lazily.
        int rows = 1 << 18;
        int cols = 64;
        Path f = dir.resolve("large.npy");
        try (FloatMatrix m = FloatMatrix.allocate(rows, cols)) {
            m.set(rows - 1, cols - 1, 7f);
            Npy.write(f, m);
        }
        long heapBefore = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
        try (Arena arena = Arena.ofConfined()) {
            FloatMatrix mapped = Npy.mapFloat(f, arena);
            long heapAfter = Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory();
            assertTrue(heapAfter - heapBefore < 32 << 20, "mapping must not copy 64 MB into the heap");
            assertEquals(7f, mapped.get(rows - 1, cols - 1));
            assertEquals(0f, mapped.get(12345, 3));
        }
    }
}
