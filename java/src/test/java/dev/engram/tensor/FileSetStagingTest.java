package dev.engram.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Staging beside the folder, all files moved in together, nothing changed and nothing left on failure. */
class FileSetStagingTest {
    @TempDir
    Path dir;

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private Path staging() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> st = s.filter(p -> p.getFileName().toString().endsWith(".staging")).toList();
            assertEquals(1, st.size(), st.toString());
            return st.get(0);
        }
    }

    @Test
    void filesAppearTogetherOnlyAtCommitAndTheStagingFolderGoes() throws IOException {
        Path out = dir.resolve("out");
        try (FileSet set = FileSet.in(out)) {
            assertTrue(Files.isDirectory(out));
            Path st = staging();
            assertTrue(st.getFileName().toString().matches("\\.out\\.[0-9a-z]{1,13}\\.staging"), st.toString());
            set.write("a.txt", tmp -> {
                assertEquals(st.resolve("a.txt"), tmp);
                Files.writeString(tmp, "A");
            });
            set.write("b.txt", tmp -> Files.writeString(tmp, "B"));
            assertEquals(List.of(), names(out));
            assertEquals(List.of("a.txt", "b.txt"), names(st));
            set.commit();
            assertEquals(List.of("a.txt", "b.txt"), names(out));
            assertEquals("A", Files.readString(out.resolve("a.txt")));
            assertEquals("B", Files.readString(out.resolve("b.txt")));
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> set.write("c.txt", tmp -> Files.writeString(tmp, "C")));
            assertEquals("the file set for " + out + " was already committed", e.getMessage());
        }
        assertEquals(List.of("out"), names(dir));
    }

    @Test
    void aFailedWriteNamesTheFileAndLeavesThePreviousSet() throws IOException {
        Path out = Files.createDirectory(dir.resolve("out"));
        Files.writeString(out.resolve("a.txt"), "old");
        try (FileSet set = FileSet.in(out)) {
            set.write("a.txt", tmp -> Files.writeString(tmp, "new"));
            IOException e = assertThrows(IOException.class, () -> set.write("b.txt", tmp -> {
                throw new IOException("No space left on device");
            }));
            assertEquals("cannot write " + out.resolve("b.txt") + ": the disk is full; free some space or write "
                    + "somewhere else; nothing in " + out + " was changed", e.getMessage());
            // an explained failure is re-explained from its raw cause
            IOException raw = new IOException("Read-only file system");
            IOException e2 = assertThrows(IOException.class, () -> set.write("c.txt", tmp -> {
                throw FileErrors.writing(tmp, raw);
            }));
            assertEquals("cannot write " + out.resolve("c.txt") + ": the file system is read-only; choose a "
                    + "writable place; nothing in " + out + " was changed", e2.getMessage());
            assertSame(raw, e2.getCause());
            // an exception that explains itself passes through
            IOException own = new IOException("own") { };
            assertSame(own, assertThrows(IOException.class, () -> set.write("d.txt", tmp -> {
                throw own;
            })));
        }
        assertEquals(List.of("a.txt"), names(out));
        assertEquals("old", Files.readString(out.resolve("a.txt")));
        assertEquals(List.of("out"), names(dir));
    }

    @Test
    void aFolderInTheWayStopsTheCommitBeforeAnyMove() throws IOException {
        Path out = Files.createDirectory(dir.resolve("out"));
        Files.writeString(out.resolve("a.txt"), "old");
        Files.createDirectory(out.resolve("b.txt"));
        try (FileSet set = FileSet.in(out)) {
            set.write("a.txt", tmp -> Files.writeString(tmp, "new"));
            set.write("b.txt", tmp -> Files.writeString(tmp, "B"));
            IOException e = assertThrows(IOException.class, set::commit);
            assertEquals("cannot write " + out.resolve("b.txt") + ": a folder of that name is in the way; remove or "
                    + "rename it; nothing in " + out + " was changed", e.getMessage());
            assertEquals("old", Files.readString(out.resolve("a.txt")));
            // not committed: more can still be written
            set.write("c.txt", tmp -> Files.writeString(tmp, "C"));
        }
        assertEquals(List.of("a.txt", "b.txt"), names(out));
        assertEquals(List.of("out"), names(dir));
    }

    @Test
    void closingTwiceAndAFileInPlaceOfTheFolder() throws IOException {
        FileSet set = FileSet.in(dir.resolve("o"));
        set.write("x", tmp -> Files.writeString(tmp, "x"));
        set.close();
        set.close();
        assertEquals(List.of("o"), names(dir));

        Path file = Files.writeString(dir.resolve("f"), "x");
        IOException e = assertThrows(IOException.class, () -> FileSet.in(file.resolve("sub")));
        assertEquals("cannot write " + file.resolve("sub") + ": " + file + " is a file, not a folder; remove or "
                + "rename " + file + ", or choose another path", e.getMessage());
        assertFalse(Files.exists(dir.resolve("o/x")));
    }
}
