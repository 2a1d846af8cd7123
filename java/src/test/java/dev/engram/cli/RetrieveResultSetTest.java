package dev.engram.cli;

import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** retrieve writes its five files as a set: a failure part-way leaves the previous results as they were. */
class RetrieveResultSetTest {
    private static final List<String> FILES = List.of("output.npy", "entropy.npy", "confidence.npy",
            "topk_indices.npy", "topk_scores.npy");

    @TempDir
    Path dir;

    @Test
    void aFileSizeLimitHitPartWayLeavesThePreviousResultsIntact() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "needs bash for ulimit");
        // d = dv = 1 and B = 200: output, entropy and confidence are 928 bytes each, below a 1 KiB limit; the B×k
        // top-k files (k = 5: 8,128 and 4,128 bytes) are above it, so the run fails at the fourth file.
        try (FloatMatrix x = RandomMatrices.uniform(50, 1, 1); FloatMatrix q1 = RandomMatrices.uniform(200, 1, 2);
             FloatMatrix q2 = RandomMatrices.uniform(200, 1, 3)) {
            Npy.write(dir.resolve("x.npy"), x);
            Npy.write(dir.resolve("q1.npy"), q1);
            Npy.write(dir.resolve("q2.npy"), q2);
        }
        Path out = dir.resolve("out");
        Result first = retrieve("unlimited", "q1.npy", out);
        assertEquals(0, first.code, first.err);
        Map<String, byte[]> before = contents(out);
        assertEquals(FILES.size(), before.size());

        Result second = retrieve("1", "q2.npy", out);
        assertEquals(2, second.code, second.err);
        assertFalse(second.err.contains("\tat "), second.err);
        assertTrue(second.err.contains("cannot write " + out.resolve("topk_indices.npy") + ": the file size limit was "
                + "reached (ulimit -f"), second.err);
        assertTrue(second.err.contains("nothing in " + out + " was changed"), second.err);
        Map<String, byte[]> after = contents(out);
        assertEquals(before.keySet(), after.keySet());
        for (String f : FILES) {
            assertArrayEquals(before.get(f), after.get(f), f + " is still the first run's");
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of("out", "q1.npy", "q2.npy", "x.npy"),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "no staging folder left");
        }
    }

    private record Result(int code, String err) {
    }

    /** Runs the CLI in a fresh JVM under {@code ulimit -f <blocks of 1 KiB>}. */
    private Result retrieve(String limit, String queries, Path out) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of("/bin/bash", "-c", "ulimit -f " + limit + " && exec \"$0\" \"$@\"", java,
                "-XX:-UsePerfData", "--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), EngramCli.class.getName(), "retrieve",
                "--memory", dir.resolve("x.npy").toString(), "--queries", dir.resolve(queries).toString(),
                "--out", out.toString(), "--k", "5", "--backend", "reference");
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Result(p.waitFor(), err);
    }

    private static Map<String, byte[]> contents(Path folder) throws Exception {
        Map<String, byte[]> m = new LinkedHashMap<>();
        try (Stream<Path> s = Files.list(folder)) {
            for (Path f : s.sorted().toList()) {
                m.put(f.getFileName().toString(), Files.readAllBytes(f));
            }
        }
        return m;
    }
}
