package dev.engram.engine;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Engine selection per capability: auto never picks an engine lacking the capability, and choices are cached. */
class BackendsTest {

    @Test
    void autoPicksAnEngineWithTheCapabilityAndCachesIt() {
        for (Capability c : Capability.values()) {
            Backend first = Backends.select(c, "auto");
            assertTrue(Backends.capabilities(first.name()).contains(c), c + " -> " + first.name());
            assertSame(first, Backends.select(c, "auto"), "the choice for " + c + " is made once");
        }
        // No GPU in CI: retrieval and integration run on the cpu engine; training has only the reference engine yet.
        if (Backends.unavailableReason("cuda") != null) {
            assertEquals("cpu", Backends.select(Capability.RETRIEVAL, "auto").name());
            assertEquals("cpu", Backends.select(Capability.INTEGRATION, "auto").name());
        } else {
            assertEquals("cuda", Backends.select(Capability.INTEGRATION, "auto").name());
        }
        assertTrue(Backends.withCapability(Capability.INTEGRATION).contains("emu"));
        assertTrue(Backends.withCapability(Capability.INTEGRATION).contains("cuda"));
    }

    @Test
    void anExplicitEngineWithoutTheCapabilityIsAOneLineError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Backends.select(Capability.TRAINING, "emu"));
        assertTrue(e.getMessage().startsWith("the emu engine cannot train HNN models; engines that can: reference"),
                e.getMessage());
        IllegalArgumentException t = assertThrows(IllegalArgumentException.class,
                () -> Backends.select(Capability.TRAINING, "cpu"));
        assertTrue(t.getMessage().startsWith("the cpu engine cannot train HNN models; engines that can: reference"),
                t.getMessage());
        IllegalArgumentException u = assertThrows(IllegalArgumentException.class,
                () -> Backends.select(Capability.RETRIEVAL, "gpu9"));
        assertEquals("unknown backend 'gpu9'; choose one of " + Backends.NAMES, u.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Backends.select(Capability.RETRIEVAL, "cpu", -1));
    }

    @Test
    void explicitThreadCountsGiveTheirOwnEngine() {
        Backend two = Backends.select(Capability.RETRIEVAL, "cpu", 2);
        assertSame(two, Backends.select(Capability.RETRIEVAL, "cpu", 2));
        assertTrue(two != Backends.select(Capability.RETRIEVAL, "cpu"), "threads=2 is not the shared all-core engine");
        assertSame(Backends.select("reference"), Backends.select(Capability.INTEGRATION, "reference", 3),
                "the reference engine has one thread whatever is asked");
    }

    /** The package {@code engine} imports none of its engine packages: engines are found by name. */
    @Test
    void theContractPackageImportsNoEnginePackage() throws IOException {
        Path dir = Path.of("src/main/java/dev/engram/engine");
        Pattern engineImport = Pattern.compile("^import\\s+(static\\s+)?dev\\.engram\\.engine\\.[a-z]+\\.", Pattern.MULTILINE);
        List<String> offenders = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                if (engineImport.matcher(Files.readString(f)).find()) {
                    offenders.add(f.getFileName().toString());
                }
            }
        }
        assertTrue(Files.isDirectory(dir), "run from the java module: " + dir.toAbsolutePath());
        assertEquals(List.of(), offenders, "these classes of dev.engram.engine import an engine sub-package");
    }

    /** A JVM started without {@code --add-modules jdk.incubator.vector} still works, on the reference engine. */
    @Test
    void withoutTheVectorModuleAutoFallsBackToTheReferenceEngine() throws Exception {
        String java = ProcessHandle.current().info().command().orElse(
                Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                "-Djava.util.logging.config.file=/dev/null", NoVectorModuleMain.class.getName())
                .redirectErrorStream(true).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM finished");
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("retrieval=reference integration=reference"), out);
        assertTrue(out.contains("cpu: backend 'cpu' is not available here: the Vector API module is not readable"
                + " (start the JVM with --add-modules jdk.incubator.vector)"), out);
        assertTrue(out.contains("result=0.5"), out);
    }
}
