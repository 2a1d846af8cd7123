package dev.engram.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every I/O failure message names the file, the problem and what to do. */
class FileErrorsTest {
    @TempDir
    Path dir;

    @Test
    void aMissingInputSaysItDoesNotExistAndWhereRelativePathsStart() {
        Path missing = dir.resolve("nope.npy");
        IOException e = assertThrows(IOException.class, () -> Npy.readFloat(missing));
        assertEquals("cannot read " + missing + ": it does not exist; check the path (relative paths start at "
                + Path.of("").toAbsolutePath() + ")", e.getMessage());
        assertInstanceOf(NoSuchFileException.class, e.getCause());
    }

    @Test
    void aFolderGivenAsInputIsNamedAsAFolder() {
        for (var read : new ThrowingRead[] {Npy::readFloat, Npy::readHeader, Npy::readLong,
                f -> Npy.mapFloat(f, java.lang.foreign.Arena.global())}) {
            IOException e = assertThrows(IOException.class, () -> read.apply(dir));
            assertEquals("cannot read " + dir + ": it is a folder, not a file; name a file inside it", e.getMessage());
        }
    }

    @Test
    void aFileInPlaceOfAFolderIsNamedOnReadAndWrite() throws IOException {
        Path file = Files.writeString(dir.resolve("plain"), "x");
        IOException read = assertThrows(IOException.class, () -> Npy.readFloat(file.resolve("x.npy")));
        assertEquals("cannot read " + file.resolve("x.npy") + ": " + file + " is a file, not a folder; remove or rename "
                + file + ", or choose another path", read.getMessage());
        IOException write = assertThrows(IOException.class,
                () -> Npy.write(file.resolve("x.npy"), new float[] {1}, 1));
        assertEquals("cannot write " + file.resolve("x.npy") + ": " + file + " is a file, not a folder; remove or "
                + "rename " + file + ", or choose another path", write.getMessage());
        assertInstanceOf(FileAlreadyExistsException.class, write.getCause());
    }

    @Test
    void reasonsWithoutAFileGetTheFileAndARemedy() {
        Path f = dir.resolve("out.npy");
        assertEquals("cannot write " + f + ": the disk is full; free some space or write somewhere else",
                FileErrors.writing(f, new IOException("No space left on device")).getMessage());
        assertEquals("cannot write " + f + ": the file size limit was reached (ulimit -f, or the file system's largest "
                        + "file); raise the limit or write somewhere else",
                FileErrors.writing(f, new IOException("File too large")).getMessage());
        assertEquals("cannot write " + f + ": permission denied; make the folder writable or choose another path",
                FileErrors.writing(f, new java.nio.file.AccessDeniedException(f.toString())).getMessage());
        assertEquals("cannot read " + f + ": the file system is read-only; choose a writable place",
                FileErrors.reading(f, new IOException("Read-only file system")).getMessage());
    }

    @Test
    void messagesThatAlreadyExplainThemselvesPassThrough() {
        IOException format = new NpyFormatException(dir.resolve("a.npy"), "not a .npy file");
        assertSame(format, FileErrors.reading(dir.resolve("a.npy"), format));
        IOException explained = FileErrors.reading(dir.resolve("a.npy"), new NoSuchFileException("a.npy"));
        assertSame(explained, FileErrors.writing(dir.resolve("b.npy"), explained));
        assertTrue(FileErrors.describe(new NoSuchFileException(dir.resolve("m.safetensors").toString()))
                .startsWith("cannot use " + dir.resolve("m.safetensors") + ": it does not exist; check the path"));
    }

    private interface ThrowingRead {
        Object apply(Path p) throws IOException;
    }
}
