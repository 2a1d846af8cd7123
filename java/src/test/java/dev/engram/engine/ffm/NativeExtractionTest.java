package dev.engram.engine.ffm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.net.URI;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading the library from a jar (as users run it) copies it out and must leave nothing behind in the temp folder. */
class NativeExtractionTest {
    @TempDir
    Path dir;

    @Test
    void loadingFromAJarLeavesNothingInTheTemporaryFolder() throws Exception {
        NativeTestSupport.assumeEmu();
        String file = "libengram_emu.so";
        URL built = NativeLibrary.class.getClassLoader().getResource("native/linux-x86_64/" + file);
        assertNotNull(built, "the emulation build is on the test class path");
        Path jar = dir.resolve("engram.jar");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
            out.putNextEntry(new JarEntry("native/linux-x86_64/" + file));
            Files.copy(Path.of(built.toURI()), (OutputStream) out);
            out.closeEntry();
        }
        URL inJar = URI.create("jar:" + jar.toUri() + "!/native/linux-x86_64/" + file).toURL();
        Path tmp = Files.createDirectory(dir.resolve("tmp"));

        NativeLibrary lib = NativeLibrary.loadExtracted(NativeLibrary.EMU, inJar, file, tmp);

        try (Stream<Path> left = Files.list(tmp)) {
            assertEquals(0, left.count(), "nothing left in the temporary folder after loading");
        }
        // The unlinked copy stays mapped and callable: a fresh copy of the library has no live memories.
        assertEquals(0, lib.liveMemories());
        assertTrue(lib.deviceInfo().contains("emulation"), lib.deviceInfo());
    }
}
