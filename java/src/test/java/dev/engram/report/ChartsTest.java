package dev.engram.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class ChartsTest {
    @TempDir
    Path dir;

    @Test
    void aChartIsAPngWithTheModeOfAPlainWriteAndNoTemporaryLeft() throws IOException {
        Path plain = Files.write(dir.resolve("plain"), new byte[] {1});
        Path png = dir.resolve("c.png");
        Charts.line(png, "t", "x", "y", Map.of("s", new double[][] {{0, 1, 2}, {1, 0, 1}}));
        byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 8);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, head);
        assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(png));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("c.png", "plain"), s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
