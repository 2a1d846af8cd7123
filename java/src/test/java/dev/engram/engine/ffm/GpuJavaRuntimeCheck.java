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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.ZipFile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Java runtime carried to a lent GPU machine, built and run here without a GPU: native-build/java-runtime.sh
 * (jlink image plus trimmed jar, under the size limit), then native-build/gpu-check.sh --emulated with it, so that
 * {@code engram gpu-check} runs on that runtime against the emulated engine and its JSON lines land in the results
 * file. Needs the packaged jar, so it runs in the verify phase (its own surefire execution in java/pom.xml, after
 * package, which sets engram.gpuJavaCheck); skipped, with the reason, in the test phase and where the jar or the
 * emulated harnesses are missing.
 */
class GpuJavaRuntimeCheck {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path JAR = ROOT.resolve("java/target/engram-0.1.0-SNAPSHOT-all.jar");
    private static final ObjectMapper JSON = new ObjectMapper();

    private record Run(int exit, String output) {
    }

    private static Run run(int timeoutSeconds, String... cmd) throws IOException, InterruptedException {
        Path log = Files.createTempFile(ROOT.resolve("java/target"), "gpu-java-", ".log");
        try {
            Process p = new ProcessBuilder(cmd).directory(ROOT.toFile()).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            boolean done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
            if (!done) {
                p.destroyForcibly();
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertTrue(done, String.join(" ", cmd) + " did not finish in " + timeoutSeconds + " s:\n" + out);
            return new Run(p.exitValue(), out);
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void theRuntimeFitsAndRunsTheCheckOnTheEmulatedEngine(@TempDir Path tmp) throws Exception {
        assumeTrue(Boolean.getBoolean("engram.gpuJavaCheck"),
                "runs in the verify phase, after package, as the gpu-java-runtime execution of java/pom.xml");
        assumeTrue(Files.isRegularFile(JAR), () -> JAR + " is not built");
        Path harnesses = ROOT.resolve("target/native-build");
        assumeTrue(Files.isExecutable(harnesses.resolve("harness_retrieve_emu")),
                () -> "no emulated harness in " + harnesses + " (the native build did not run)");
        Path dir = ROOT.resolve("java/target/gpu-java");

        Run built = run(300, "bash", "native-build/java-runtime.sh", "--jar", JAR.toString(), "--out", dir.toString());
        assertEquals(0, built.exit(), built.output());
        Matcher total = Pattern.compile("total: ([0-9.]+) MiB").matcher(built.output());
        assertTrue(total.find(), built.output());
        double mib = Double.parseDouble(total.group(1));
        assertTrue(mib <= 60, "runtime and jar are " + mib + " MiB, over 60");
        assertTrue(Files.isExecutable(dir.resolve("runtime/bin/java")));
        assertTrue(Files.isExecutable(dir.resolve("gpu-check")));
        try (ZipFile z = new ZipFile(dir.resolve("engram-gpu.jar").toFile())) {
            List<String> natives = z.stream().map(e -> e.getName())
                    .filter(n -> n.startsWith("lib/") && !n.endsWith("/")).sorted().toList();
            assertEquals(3, natives.size(), "JCuda's driver, runtime and JCublas2 JNI libraries only: " + natives);
            assertTrue(natives.stream().noneMatch(n -> n.contains("NvPTXCompiler") || n.contains("Nvrtc")), natives::toString);
            assertNotNull(z.getEntry("native/linux-x86_64/libengram_emu.so"));
            assertNotNull(z.getEntry("dev/engram/cli/GpuCheckCommand.class"));
            assertTrue(z.getEntry("org/knowm/xchart/XYChart.class") == null, "the chart library is left out");
        }
        // a bad argument: one line, exit 2, nothing else run
        Run bad = run(60, dir.resolve("gpu-check").toString(), "--engines", "cuda,nope", "--out",
                tmp.resolve("bad.jsonl").toString());
        assertEquals(2, bad.exit(), bad.output());
        assertTrue(bad.output().contains("engram gpu-check: --engines: unknown engine 'nope'; choose from [cuda, jcuda, "
                + "jcublas, emu]"), bad.output());

        Path out = tmp.resolve("results.jsonl");
        Run check = run(300, "bash", "native-build/gpu-check.sh", "--emulated", harnesses.toString(), "--quick",
                "--skip-torch", "--java", dir.toString(), "--out", out.toString());
        assertEquals(0, check.exit(), check.output());
        Map<String, JsonNode> steps = new HashMap<>();
        List<JsonNode> java = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            JsonNode n = JSON.readTree(line);  // every line is one JSON object
            if (n.has("step")) {
                steps.put(n.get("step").asText(), n);
            } else if ("java-gpu-check".equals(n.path("check").asText())) {
                java.add(n);
            }
        }
        assertEquals("ok", steps.get("java").get("status").asText(), steps.toString());
        assertEquals("ok", steps.get("summary").get("status").asText());
        Map<String, Integer> passes = new HashMap<>();
        Map<String, String> unavailable = new HashMap<>();
        JsonNode summary = null;
        for (JsonNode n : java) {
            String test = n.get("test").asText();
            String status = n.get("status").asText();
            String engine = n.get("engine").asText();
            if (test.equals("summary")) {
                summary = n;
                continue;
            }
            assertTrue(List.of("emu", "jcuda", "jcublas").contains(engine), n.toString());
            assertFalse(status.equals("fail") || status.equals("error"), n.toString());
            if (status.equals("unavailable")) {
                assertFalse(n.get("reason").asText().isBlank(), n.toString());
                unavailable.put(engine, n.get("reason").asText());
            }
            if (status.equals("pass")) {
                assertTrue(n.get("max_error").asDouble() <= n.get("tolerance").asDouble(), n.toString());
                assertTrue(n.has("worst") && n.has("against"), n.toString());
            }
            passes.merge(engine + " " + test + ":" + status, 1, Integer::sum);
        }
        assertNotNull(summary, "the Java check's summary line");
        assertEquals("pass", summary.get("status").asText());
        assertEquals(0, summary.get("failed").asInt());
        assertFalse(unavailable.containsKey("emu"), unavailable.toString());
        // 4 quick shapes: kernel 1 at every storage on each (12), kernel 2 where d = dv in {32, 64, 128} (3 shapes: 9)
        assertEquals(21, passes.get("emu retrieve:pass"), passes.toString());
        assertEquals(4, passes.get("emu integrate:pass"), passes.toString());
        assertEquals(6, passes.get("emu time:ok"), passes.toString());   // 2 kernels × 3 storages at 2x3000x32
        assertEquals(2, passes.get("emu large:pass"), passes.toString()); // the float32 ones against the cpu engine
        assertEquals(1, passes.get("emu engine:available"), passes.toString());
        // jcuda (every storage) runs where the emulated CUDA driver was built, else it is one line saying why not
        int jcuda = unavailable.containsKey("jcuda") ? 0 : 1;
        assertEquals(jcuda == 0 ? null : 12, passes.get("jcuda retrieve:pass"), passes.toString());
        assertEquals(jcuda == 0 ? null : 4, passes.get("jcuda integrate:pass"), passes.toString());
        int jcublas = unavailable.containsKey("jcublas") ? 0 : 1;
        // emu 27; jcuda 12 + its float32 large check + 4 integrations; jcublas (float32 only) 4 + 1
        assertEquals(27 + 17 * jcuda + 5 * jcublas, summary.get("passed").asInt(), passes.toString());
        assertTrue(Files.isRegularFile(Path.of(out + ".java.log")), "the Java step's output is kept");
    }
}
