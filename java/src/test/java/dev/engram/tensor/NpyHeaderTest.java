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

import static dev.engram.tensor.NpyTest.floats;
import static dev.engram.tensor.NpyTest.npy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The .npy header: format versions 1–3, shapes as numpy writes them, and each refusal's exact message. */
class NpyHeaderTest {
    @TempDir
    Path dir;

    /** A .npy file of format version {@code major}.0 (2 and 3 have a 4-byte header length). */
    private Path versioned(String name, int major, String dict, byte[] data) throws IOException {
        int pre = major == 1 ? 10 : 12;
        String header = dict + " ".repeat((64 - (pre + dict.length() + 1) % 64) % 64) + "\n";
        ByteBuffer b = ByteBuffer.allocate(pre + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            b.putShort((short) header.length());
        } else {
            b.putInt(header.length());
        }
        b.put(header.getBytes(StandardCharsets.UTF_8));
        b.put(data);
        return Files.write(dir.resolve(name), b.array());
    }

    private String message(Path f) {
        return assertThrows(NpyFormatException.class, () -> Npy.readFloat(f).close()).getMessage();
    }

    @Test
    void versionsTwoAndThreeAndLongSuffixedShapesAreRead() throws IOException {
        for (int major = 1; major <= 3; major++) {
            Path f = versioned("v" + major + ".npy", major,
                    "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 3L), }", floats(1, 2, 3, 4, 5, 6));
            try (FloatMatrix m = Npy.readFloat(f); Arena a = Arena.ofConfined()) {
                assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, m.toArray(), "version " + major);
                assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, Npy.mapFloat(f, a).toArray(), "mapped, version " + major);
            }
        }
        Path v4 = versioned("v4.npy", 4, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", floats(1));
        assertEquals(v4 + ": unsupported .npy format version 4.0", message(v4));
    }

    @Test
    void headerAndShapeProblemsAreNamed() throws IOException {
        Path f = npy(dir.resolve("h.npy"), "<f4", false, "(2,)", floats(1, 2));
        byte[] bytes = Files.readAllBytes(f);
        bytes[8] = (byte) 0xff; // header length 0x..ff: past the end of the file
        Path longHeader = Files.write(dir.resolve("longheader.npy"), bytes);
        assertEquals(longHeader + ": truncated or corrupt header (header length " + ((bytes[9] & 0xff) << 8 | 0xff)
                + ", file size " + bytes.length + ")", message(longHeader));
        Path dict = versioned("dict.npy", 1, "{'descr': '<f4', 'shape': (1,), }", floats(1));
        assertEquals(dict + ": malformed header dictionary: {'descr': '<f4', 'shape': (1,), }", message(dict));
        Path shape = npy(dir.resolve("shape.npy"), "<f4", false, "(2, x)", floats(1, 2));
        assertEquals(shape + ": malformed shape (2, x)", message(shape));
        Path negative = npy(dir.resolve("negative.npy"), "<f4", false, "(-2,)", floats(1, 2));
        assertEquals(negative + ": malformed shape (-2,)", message(negative));
        Path dtype = npy(dir.resolve("dtype.npy"), "<f", false, "(1,)", floats(1));
        assertEquals(dtype + ": unsupported dtype '<f'", message(dtype));
        Path letters = npy(dir.resolve("letters.npy"), "<f4x", false, "(1,)", floats(1));
        assertEquals(letters + ": unsupported dtype '<f4x'", message(letters));
        Path noCols = npy(dir.resolve("nocols.npy"), "<f4", false, "(2, 0)", new byte[0]);
        assertEquals(noCols + ": unsupported number of columns 0 in shape (2, 0)", message(noCols));
        Path scalar = npy(dir.resolve("scalar.npy"), "<f4", false, "()", floats(1));
        assertEquals(scalar + ": expected a 1-D or 2-D array, got shape ()", message(scalar));
        Path threeD = npy(dir.resolve("threed.npy"), "<f4", false, "(1, 2, 1)", floats(1, 2));
        assertEquals(threeD + ": expected a 1-D or 2-D array, got shape (1, 2, 1)", message(threeD));
        Path shortData = npy(dir.resolve("short.npy"), "<f4", false, "(3,)", floats(1, 2));
        assertEquals(shortData + ": truncated: shape (3,) of <f4 needs 12 data bytes, the file has 8", message(shortData));
        // exactly enough data is not truncated
        try (FloatMatrix m = Npy.readFloat(npy(dir.resolve("exact.npy"), "<f4", false, "(2,)", floats(1, 2)))) {
            assertEquals(2, m.cols());
        }
    }

    @Test
    void integerArraysAndTheirDtypes() throws IOException {
        Path longs = dir.resolve("longs.npy");
        Npy.write(longs, new long[] {5, -6, 7, 8, 9, 10}, 2, 3);
        assertArrayEquals(new long[] {5, -6, 7, 8, 9, 10}, Npy.readLong(longs));
        ByteBuffer ints = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN).putInt(3).putInt(-4).putInt(1 << 30);
        Path i4 = npy(dir.resolve("ints.npy"), "<i4", false, "(3,)", ints.array());
        assertArrayEquals(new long[] {3, -4, 1 << 30}, Npy.readLong(i4));
        Path f4 = npy(dir.resolve("floats.npy"), "<f4", false, "(1,)", floats(1));
        var e = assertThrows(NpyFormatException.class, () -> Npy.readLong(f4));
        assertEquals(f4 + ": unsupported dtype '<f4' (expected <i8 or <i4)", e.getMessage());
        var count = assertThrows(IllegalArgumentException.class,
                () -> Npy.write(dir.resolve("bad.npy"), new long[] {1, 2, 3}, 2, 2));
        assertEquals("writing " + dir.resolve("bad.npy") + ": shape (2, 2) holds 4 elements but 3 were given",
                count.getMessage());
        var floatCount = assertThrows(IllegalArgumentException.class,
                () -> Npy.write(dir.resolve("bad.npy"), new float[] {1, 2, 3}, 4));
        assertEquals("writing " + dir.resolve("bad.npy") + ": shape (4,) holds 4 elements but 3 were given",
                floatCount.getMessage());
    }

    /** A matrix larger than the 64 KiB copy buffer is written in pieces, the last one partial. */
    @Test
    void largeMatricesAreWrittenWhole() throws IOException {
        int rows = 4099;
        try (FloatMatrix m = RandomMatrices.uniform(rows, 5, 3)) {
            Path f = dir.resolve("large.npy");
            Npy.write(f, m);
            try (FloatMatrix back = Npy.readFloat(f)) {
                assertArrayEquals(m.toArray(), back.toArray());
            }
        }
    }
}
