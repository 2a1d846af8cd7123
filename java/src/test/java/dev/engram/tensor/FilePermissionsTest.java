package dev.engram.tensor;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Result files get the permissions the umask gives any new file (Files.createTempFile would make them 0600, so other
 * users and groups could not read results meant to be shared).
 */
class FilePermissionsTest {
    @TempDir
    Path dir;

    /** What a plain {@code Files.write} of a new file gets here. */
    static Set<PosixFilePermission> plainWrite(Path dir) throws IOException {
        Path plain = Files.write(dir.resolve("plain-" + System.nanoTime()), new byte[] {1});
        Set<PosixFilePermission> p = Files.getPosixFilePermissions(plain);
        Files.delete(plain);
        // With a umask of 077 the two cannot differ; the usual 022 or 002 lets group/others read.
        assertTrue(p.contains(PosixFilePermission.OWNER_READ), "sanity: the owner can read " + p);
        return p;
    }

    @Test
    void npyJsonAndFileSetsGetTheModeOfAPlainWrite() throws IOException {
        Set<PosixFilePermission> expected = plainWrite(dir);
        Npy.write(dir.resolve("a.npy"), new float[] {1, 2}, 2);
        Npy.write(dir.resolve("b.npy"), new long[] {1, 2}, 2);
        try (FloatMatrix m = FloatMatrix.allocate(2, 2)) {
            Npy.write(dir.resolve("c.npy"), m);
        }
        AtomicFiles.writeString(dir.resolve("r.json"), "{}");
        try (FileSet set = FileSet.in(dir.resolve("set"))) {
            set.write("d.npy", f -> Npy.write(f, new float[] {3}, 1));
            set.commit();
        }
        for (String f : new String[] {"a.npy", "b.npy", "c.npy", "r.json", "set/d.npy"}) {
            assertEquals(expected, Files.getPosixFilePermissions(dir.resolve(f)), f);
        }
    }

    @Test
    void temporaryFilesAreNewEmptyAndUnique() throws IOException {
        Path target = dir.resolve("x.bin");
        Path a = AtomicFiles.newTempFile(target);
        Path b = AtomicFiles.newTempFile(target);
        assertTrue(!a.equals(b) && a.getParent().equals(dir) && b.getParent().equals(dir));
        assertEquals(0, Files.size(a));
        assertTrue(a.getFileName().toString().startsWith(".x.bin.") && a.getFileName().toString().endsWith(".tmp"), a.toString());
        assertEquals(plainWrite(dir), Files.getPosixFilePermissions(a));
    }
}
