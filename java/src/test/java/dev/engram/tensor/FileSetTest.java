package dev.engram.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FileSetTest {
    @TempDir
    Path dir;

    @Test
    void aFailurePartWayLeavesThePreviousSetIntactAndNamesTheFile() throws IOException {
        Path out = dir.resolve("out");
        try (FileSet set = FileSet.in(out)) {
            set.write("a.txt", f -> Files.writeString(f, "old a"));
            set.write("b.txt", f -> Files.writeString(f, "old b"));
            set.commit();
        }
        IOException e = assertThrows(IOException.class, () -> {
            try (FileSet set = FileSet.in(out)) {
                set.write("a.txt", f -> Files.writeString(f, "new a"));
                set.write("b.txt", f -> {
                    Files.writeString(f, "half");
                    throw new IOException("No space left on device");
                });
                set.commit();
            }
        });
        assertEquals("cannot write " + out.resolve("b.txt") + ": the disk is full; free some space or write somewhere "
                + "else; nothing in " + out + " was changed", e.getMessage());
        assertEquals("old a", Files.readString(out.resolve("a.txt")));
        assertEquals("old b", Files.readString(out.resolve("b.txt")));
        assertEquals(List.of("out"), names(dir), "the staging folder is removed");
        assertEquals(List.of("a.txt", "b.txt"), names(out));
    }

    @Test
    void aCommittedSetReplacesTheFilesAndLeavesOthersAlone() throws IOException {
        Path out = Files.createDirectories(dir.resolve("out"));
        Files.writeString(out.resolve("a.txt"), "old");
        Files.writeString(out.resolve("keep.txt"), "mine");
        try (FileSet set = FileSet.in(out)) {
            set.write("a.txt", f -> Npy.write(f, new float[] {1, 2}, 2));
            set.write("c.txt", f -> Files.writeString(f, "c"));
            assertEquals("old", Files.readString(out.resolve("a.txt")), "nothing moves before commit");
            set.commit();
        }
        assertArrayEquals(new long[] {2}, Npy.readHeader(out.resolve("a.txt")).shape());
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
        assertEquals(List.of("a.txt", "c.txt", "keep.txt"), names(out));
        assertEquals(List.of("out"), names(dir));
    }

    private static List<String> names(Path folder) throws IOException {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** An output folder where a file stands: one line naming it and the way out, and the file untouched. */
    @Test
    void aFileWhereTheFolderShouldBeIsOneLineAndStaysAsItWas() throws IOException {
        Path file = dir.resolve("report");
        Files.writeString(file, "keep me");
        IOException e = assertThrows(IOException.class, () -> FileSet.in(file));
        String m = e.getMessage();
        org.junit.jupiter.api.Assertions.assertTrue(m.contains(file.toString()) && m.contains("it is a file")
                && m.contains("name a folder") && !m.contains("\n"), m);
        assertEquals("keep me", Files.readString(file));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(file), left.toList(), "no staging folder left behind");
        }
    }
}
