package dev.engram.engine.ffm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The host side of native-build/gpu-check.sh, which otherwise only runs on a lent GPU machine: argument handling,
 * the JSON lines it assembles, and the harness validation through the emulated harness binaries that
 * native-build/build.sh made (skipped, with the reason, when the native build did not run).
 */
class GpuCheckScriptTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path SCRIPT = ROOT.resolve("native-build/gpu-check.sh");
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Run(int exit, String stdout, String stderr) {
    }

    private static Run run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("bash", SCRIPT.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).start();
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "gpu-check.sh did not finish");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    private static Path harnessBuild() {
        String env = System.getenv("ENGRAM_NATIVE_BUILD_DIR");
        return env != null && !env.isBlank() ? Path.of(env) : ROOT.resolve("target/native-build");
    }

    @Test
    void badArgumentsAreOneLineAndExit64() throws Exception {
        Run r = run("--nope");
        assertEquals(64, r.exit());
        assertEquals("gpu-check: unknown argument '--nope' (see --help)\n", r.stderr());
        r = run("--cases", "1x2");
        assertEquals(64, r.exit());
        assertEquals("gpu-check: --cases must be BxMxd[,BxMxd...], got '1x2'\n", r.stderr());
        r = run("--reps");
        assertEquals(64, r.exit());
        assertEquals("gpu-check: --reps needs a value\n", r.stderr());
    }

    @Test
    void emulatedRunValidatesAndWritesJsonLines(@TempDir Path tmp) throws Exception {
        Path build = harnessBuild();
        assumeTrue(Files.isExecutable(build.resolve("harness_retrieve_emu")),
                () -> "no emulated harness in " + build + " (the native build did not run)");
        Path out = tmp.resolve("results.jsonl");
        Run r = run("--emulated", build.toString(), "--quick", "--skip-torch", "--skip-java", "--out", out.toString());
        assertEquals(0, r.exit(), r.stdout() + r.stderr());
        List<String> steps = new ArrayList<>();
        java.util.Map<String, JsonNode> summaries = new java.util.HashMap<>();
        for (String line : Files.readAllLines(out)) {
            JsonNode n = JSON.readTree(line);  // every line is one JSON object
            if (n.has("step")) {
                steps.add(n.get("step").asText() + ":" + n.get("status").asText());
            } else if ("validate-summary".equals(n.path("phase").asText())) {
                summaries.put(n.path("harness").asText(), n);
            }
        }
        assertEquals(List.of("environment:ok", "build-retrieve:skipped", "build-integrate:skipped",
                "validate-retrieve:ok", "validate-integrate:ok",
                "sanitize-memcheck-retrieve:skipped", "sanitize-memcheck-integrate:skipped",
                "sanitize-racecheck-retrieve:skipped", "sanitize-racecheck-integrate:skipped",
                "sanitize-synccheck-retrieve:skipped", "sanitize-synccheck-integrate:skipped",
                "time-retrieve:skipped", "time-integrate:skipped", "java:skipped", "torch:skipped", "torch-leapfrog:skipped",
                "summary:ok"), steps);
        JsonNode retrieve = summaries.get("retrieve"), integrate = summaries.get("integrate");
        assertTrue(retrieve != null && integrate != null, "each harness's own summary line is in the results file");
        assertEquals(0, retrieve.get("failures").asInt());
        // 2 kernel versions × 3 storages × 2 problems × 2 shapes × 2 merge modes
        assertEquals(48, retrieve.get("checked").asInt());
        assertEquals(0, integrate.get("failures").asInt());
        assertEquals(10, integrate.get("checked").asInt());  // 2 kernels × 2 problems × 2 shapes + 2 quantile checks
        try (var left = Files.list(tmp)) {
            assertEquals(List.of(out), left.toList(), "the scratch folder is removed");
        }
    }

    @Test
    void aMissingHarnessFailsTheRun(@TempDir Path tmp) throws Exception {
        Path out = tmp.resolve("r.jsonl");
        Run r = run("--emulated", tmp.toString(), "--skip-torch", "--java", tmp.toString(), "--out", out.toString());
        assertEquals(1, r.exit());
        List<String> lines = Files.readAllLines(out);
        JsonNode build = JSON.readTree(lines.get(1));
        assertEquals("failed", build.get("status").asText());
        assertEquals(tmp.resolve("harness_retrieve_emu") + " not found (run native-build/build.sh)",
                build.get("reason").asText());
        assertEquals("failed", JSON.readTree(lines.getLast()).get("status").asText());
        // no Java runtime in the folder given: one line saying so, not a failure of its own
        JsonNode java = null;
        for (String line : lines) {
            JsonNode n = JSON.readTree(line);
            if ("java".equals(n.path("step").asText())) {
                java = n;
            }
        }
        assertTrue(java != null, "a java line");
        assertEquals("skipped", java.get("status").asText());
        assertEquals("no runtime carried (" + tmp + " has no gpu-check and runtime/bin/java; make them with "
                + "native-build/java-runtime.sh and carry target/gpu-java)", java.get("reason").asText());
    }
}
