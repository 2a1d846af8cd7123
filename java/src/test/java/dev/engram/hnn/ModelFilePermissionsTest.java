package dev.engram.hnn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ModelFilePermissionsTest {
    @TempDir
    Path dir;

    @Test
    void aSavedModelHasTheModeOfAPlainWrite() throws IOException {
        Path plain = Files.write(dir.resolve("plain"), new byte[] {1});
        Path f = dir.resolve("h.safetensors");
        ModelFile.save(HamiltonianNetwork.create(1, new int[] {4}, 7), f);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(f));
    }
}
