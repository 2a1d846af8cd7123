package dev.engram.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Temporary beside the target, named .<name>.<random>.tmp, moved whole or removed. */
class AtomicFilesTest {
    @TempDir
    Path dir;

    private List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void theTemporaryIsAnEmptyFileBesideTheTargetWithTheUmaskMode() throws IOException {
        Path target = dir.resolve("sub/out.npy");
        Path a = AtomicFiles.newTempFile(target);
        Path b = AtomicFiles.newTempFile(target);
        assertEquals(dir.resolve("sub"), a.getParent());
        assertTrue(a.getFileName().toString().matches("\\.out\\.npy\\.[0-9a-z]{1,13}\\.tmp"), a.toString());
        assertNotEquals(a, b);
        assertTrue(Files.isRegularFile(a));
        assertEquals(0, Files.size(a));
        Path plain = Files.writeString(dir.resolve("sub/plain"), "");
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(a));
    }

    @Test
    void aWriteReplacesTheTargetWholeAndLeavesNoTemporary() throws IOException {
        Path target = dir.resolve("t.txt");
        Files.writeString(target, "an old and much longer content");
        Path[] seen = new Path[1];
        AtomicFiles.write(target, tmp -> {
            seen[0] = tmp;
            assertEquals(target.getParent(), tmp.getParent());
            Files.writeString(tmp, "new");
            assertEquals("an old and much longer content", Files.readString(target));
        });
        assertEquals("new", Files.readString(target));
        assertFalse(Files.exists(seen[0]));
        assertEquals(List.of("t.txt"), names(dir));
    }

    @Test
    void aFailedWriteRemovesTheTemporaryAndKeepsTheOldFile() throws IOException {
        Path target = dir.resolve("t.txt");
        Files.writeString(target, "old");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.write(target, tmp -> {
            Files.writeString(tmp, "half");
            throw new IOException("No space left on device");
        }));
        assertEquals("cannot write " + target + ": the disk is full; free some space or write somewhere else",
                e.getMessage());
        assertEquals("old", Files.readString(target));
        assertEquals(List.of("t.txt"), names(dir));

        IllegalStateException bug = new IllegalStateException("bug");
        assertSame(bug, assertThrows(IllegalStateException.class, () -> AtomicFiles.write(target, tmp -> {
            throw bug;
        })));
        assertEquals(List.of("t.txt"), names(dir));
    }

    @Test
    void aFolderInTheWayIsNamed() throws IOException {
        Path target = Files.createDirectory(dir.resolve("t"));
        Files.writeString(target.resolve("inside"), "x");
        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeString(target, "x"));
        assertTrue(e.getMessage().startsWith("cannot write " + target + ": "), e.getMessage());
        assertEquals(List.of("t"), names(dir));
    }

    @Test
    void writeStreamAndWriteStringWriteEveryByte() throws IOException {
        byte[] data = new byte[100_003];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 31 + 7);
        }
        Path target = dir.resolve("new/b.bin");
        AtomicFiles.writeStream(target, out -> {
            out.write(data, 0, 5);
            out.write(data, 5, data.length - 5);
        });
        assertArrayEquals(data, Files.readAllBytes(target));
        assertEquals(List.of("b.bin"), names(dir.resolve("new")));

        IOException e = assertThrows(IOException.class, () -> AtomicFiles.writeStream(target, out -> {
            out.write(1);
            throw new IOException("File too large");
        }));
        assertTrue(e.getMessage().contains("the file size limit was reached"), e.getMessage());
        assertArrayEquals(data, Files.readAllBytes(target));
        assertEquals(List.of("b.bin"), names(dir.resolve("new")));

        Path text = dir.resolve("s.txt");
        AtomicFiles.writeString(text, "héllo ∑");
        assertArrayEquals("héllo ∑".getBytes(StandardCharsets.UTF_8), Files.readAllBytes(text));
    }

    @Test
    void moveReplacesTheTarget() throws IOException {
        Path tmp = Files.writeString(dir.resolve("a"), "new");
        Path target = Files.writeString(dir.resolve("b"), "old");
        AtomicFiles.move(tmp, target);
        assertEquals("new", Files.readString(target));
        assertFalse(Files.exists(tmp));
    }

    @Test
    void forcingAFolderThatCannotBeOpenedIsIgnored() {
        // the move forces its folder; where a file system refuses (here: no such folder) the move still stands
        AtomicFiles.forceDirectory(dir.resolve("missing"));
        AtomicFiles.forceDirectory(dir);
        AtomicFiles.forceDirectory(null);
    }
}
