package dev.engram.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.EOFException;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * Each kind of I/O failure FileErrors translates, with the exact message. The failures are injected (the tests run as
 * root, so a real permission failure cannot be provoked, and a full disk cannot be made on demand).
 */
class FileErrorsKindsTest {
    @TempDir
    Path dir;

    private static String cwd() {
        return Path.of("").toAbsolutePath().toString();
    }

    private void assertWrite(Path file, IOException e, String problem, String remedy) {
        IOException got = FileErrors.writing(file, e);
        FileAccessException f = assertInstanceOf(FileAccessException.class, got);
        assertEquals("cannot write " + file + ": " + problem + "; " + remedy, got.getMessage());
        assertEquals(problem, f.problem());
        assertEquals(remedy, f.remedy());
        assertEquals(file, f.file());
        assertSame(e, got.getCause());
    }

    private void assertRead(Path file, IOException e, String problem, String remedy) {
        IOException got = FileErrors.reading(file, e);
        assertInstanceOf(FileAccessException.class, got);
        assertEquals("cannot read " + file + ": " + problem + "; " + remedy, got.getMessage());
        assertSame(e, got.getCause());
    }

    @Test
    void aMissingFileOrFolder() {
        Path f = dir.resolve("a.npy");
        assertRead(f, new NoSuchFileException(f.toString()), "it does not exist",
                "check the path (relative paths start at " + cwd() + ")");
        assertWrite(dir.resolve("sub/a.npy"), new NoSuchFileException(f.toString()), "its folder does not exist",
                "check the path (relative paths start at " + cwd() + ")");
    }

    @Test
    void permissionDeniedInEachSpelling() {
        Path f = dir.resolve("a.npy");
        String wr = "make the folder writable or choose another path";
        String rr = "make the file readable or choose another";
        assertWrite(f, new AccessDeniedException(f.toString()), "permission denied", wr);
        assertRead(f, new AccessDeniedException(f.toString()), "permission denied", rr);
        assertWrite(f, new IOException("Permission denied"), "permission denied", wr);
        assertRead(f, new FileSystemException(f.toString(), null, "Operation not permitted"), "permission denied", rr);
        // permission is told before the reason's other words
        assertRead(f, new AccessDeniedException(f.toString(), null, "Is a directory"), "permission denied", rr);
    }

    @Test
    void aFolderWhereAFileWasExpected() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("sub"));
        // reading a folder is told from the folder itself, whatever the reason says
        assertRead(sub, new IOException("odd"), "it is a folder, not a file", "name a file inside it");
        // a write is told from the reason only
        assertWrite(dir.resolve("x"), new FileSystemException(dir.resolve("x").toString(), null, "Is a directory"),
                "it is a folder, not a file", "name a file inside it");
        assertWrite(sub, new IOException("odd"), "odd", "check the path and the disk");
        assertRead(dir.resolve("x"), new IOException("odd"), "odd", "check the path and the disk");
    }

    @Test
    void aFileWhereAFolderWasExpected() throws IOException {
        Path file = Files.writeString(dir.resolve("f"), "x");
        String problem = file + " is a file, not a folder";
        String remedy = "remove or rename " + file + ", or choose another path";
        // the file among the ancestors wins over the reason
        assertWrite(file.resolve("a/b.npy"), new NoSuchFileException("b.npy"), problem, remedy);
        assertRead(file.resolve("b.npy"), new IOException("Not a directory"), problem, remedy);
        // the target itself being a file is what a write replaces, and a read of a file has no file parent
        assertWrite(file, new IOException("odd"), "odd", "check the path and the disk");
        assertRead(file, new IOException("odd"), "odd", "check the path and the disk");
        assertRead(dir.resolve("g"), new NotDirectoryException("g"), "a part of the path is not a folder",
                "check the path");
        assertWrite(dir.resolve("g"), new IOException("Not a directory"), "a part of the path is not a folder",
                "check the path");
    }

    @Test
    void aNonEmptyFolderInTheWay() {
        Path f = dir.resolve("out");
        assertWrite(f, new DirectoryNotEmptyException(f.toString()), "a non-empty folder is in the way",
                "remove it or choose another path");
    }

    @Test
    void fullDiskSizeLimitReadOnlyAndQuota() {
        Path f = dir.resolve("a.npy");
        assertWrite(f, new IOException("No space left on device"), "the disk is full",
                "free some space or write somewhere else");
        assertWrite(f, new FileSystemException(f.toString(), null, "No space left on device"), "the disk is full",
                "free some space or write somewhere else");
        assertWrite(f, new IOException("File too large"),
                "the file size limit was reached (ulimit -f, or the file system's largest file)",
                "raise the limit or write somewhere else");
        assertWrite(f, new FileSystemException(f.toString(), null, "Read-only file system"),
                "the file system is read-only", "choose a writable place");
        assertWrite(f, new IOException("Disk quota exceeded"), "the disk quota is used up",
                "free some space or write somewhere else");
    }

    @Test
    void reasonsOfEveryRawKind() {
        Path f = dir.resolve("a.npy");
        assertRead(f, new IOException((String) null), "IOException", "check the path and the disk");
        assertRead(f, new EOFException(), "EOFException", "check the path and the disk");
        assertRead(f, new FileNotFoundException("gone"), "gone", "check the path and the disk");
        assertRead(f, new FileSystemException(f.toString()), "FileSystem", "check the path and the disk");
        assertRead(f, new FileSystemException(f.toString(), null, "weird"), "weird", "check the path and the disk");
    }

    @Test
    void explainedAndOtherExceptionsPassThrough() {
        Path f = dir.resolve("a.npy");
        IOException own = new IOException("x") { };
        assertSame(own, FileErrors.reading(f, own));
        assertSame(own, FileErrors.writing(f, own));
        FileAccessException explained = FileErrors.of("read", f, "p", "r", null);
        assertEquals("cannot read " + f + ": p; r", explained.getMessage());
        assertSame(explained, FileErrors.writing(f, explained));
        NpyFormatException format = new NpyFormatException(f, "bad header");
        assertEquals(f + ": bad header", format.getMessage());
        assertEquals(f, format.file());
        assertSame(format, FileErrors.reading(f, format));
    }

    @Test
    void describeExplainsWithTheFileTheExceptionNames() {
        Path f = dir.resolve("a.npy");
        assertEquals("cannot use " + f + ": it does not exist; check the path (relative paths start at " + cwd()
                + ")", FileErrors.describe(new NoSuchFileException(f.toString())));
        assertEquals("I/O error: boom; check the files and folders named on the command line",
                FileErrors.describe(new IOException("boom")));
        assertEquals("I/O error: IOException; check the files and folders named on the command line",
                FileErrors.describe(new IOException((String) null)));
        assertEquals("I/O error: FileSystemException; check the files and folders named on the command line",
                FileErrors.describe(new FileSystemException(null)));
        assertEquals("own words", FileErrors.describe(new IOException("own words") { }));
        IOException silent = new java.io.InterruptedIOException();
        assertEquals("InterruptedIOException", FileErrors.describe(silent));
    }
}
