package dev.engram.hopfield;

import dev.engram.engine.reference.ReferenceBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class PatternStoreFilePermissionsTest {
    @TempDir
    Path dir;

    @Test
    void aSavedStoreHasTheModeOfAPlainWrite() throws IOException {
        Path plain = Files.write(dir.resolve("plain"), new byte[] {1});
        Path f = dir.resolve("s.eps");
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 10), new ReferenceBackend())) {
            s.insert(new float[] {1, 0, 0}, 0.5, 1);
            s.save(f);
        }
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(f));
    }
}
