package dev.engram.engine.cpu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * "Reproducible" for the CPU engine: the same inputs and config give identical bits on every run, at every thread
 * count, at every vector width and in every JIT tier. The in-process checks compare a cold call (the code still
 * interpreted or in C1) with calls after a warm-up that lets C2 compile it, and thread counts 1…5; the forked checks
 * run a smaller form of the same workload ({@link ReproducibilityProbe}) in child JVMs that only interpret
 * ({@code -Xint}), stop at C1 or only use C2, at 128-, 256- and 512-bit vectors, and compare the SHA-256 of every
 * result bit with this JVM's.
 */
class CpuReproducibilityTest {
    /** Digests in this JVM (full and small workload) after enough repetitions for C2 to compile the loops. */
    private static String warm;
    private static String warmSmall;

    private static synchronized String warmDigest(boolean small) {
        if (warm == null) {
            String cold = ReproducibilityProbe.digest(2, false);
            String coldSmall = ReproducibilityProbe.digest(2, true);
            for (int i = 0; i < 12; i++) {
                assertEquals(cold, ReproducibilityProbe.digest(2, false), "digest changed during warm-up, call " + (i + 2));
                assertEquals(coldSmall, ReproducibilityProbe.digest(2, true), "small digest changed, call " + (i + 2));
            }
            warm = cold;
            warmSmall = coldSmall;
        }
        return small ? warmSmall : warm;
    }

    @Test
    void coldAndWarmCallsGiveTheSameBits() {
        assertEquals(64, warmDigest(false).length());
    }

    @Test
    void threadCountsGiveTheSameBits() {
        String expected = warmDigest(false);
        for (int threads : new int[] {1, 3, 5}) {
            assertEquals(expected, ReproducibilityProbe.digest(threads, false), threads + " threads");
        }
    }

    @ParameterizedTest(name = "child JVM {0} at {1}-bit vectors")
    @CsvSource({"-Xint, 128", "-Xint, 512", "-XX:TieredStopAtLevel=1, 256", "-XX:-TieredCompilation, 128"})
    void otherJitTiersAndVectorWidthsGiveTheSameBits(String jitFlag, int bits) throws IOException, InterruptedException {
        // the interpreter runs the Vector API thousands of times slower: the small workload (seconds)
        String expected = warmDigest(true);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules=jdk.incubator.vector");
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add(jitFlag);
        cmd.add("-Dengram.cpu.vectorBits=" + bits);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(ReproducibilityProbe.class.getName());
        cmd.add("3");
        cmd.add("small");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try {
            if (!p.waitFor(240, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("child JVM " + jitFlag + " did not finish in 240 s");
            }
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        } finally {
            p.destroyForcibly();
        }
        assertEquals(0, p.exitValue(), "child JVM failed:\n" + out);
        String line = out.lines().filter(l -> l.startsWith("digest ")).findFirst().orElse("");
        assertTrue(!line.isEmpty(), "no digest in the child's output:\n" + out);
        assertEquals(expected, line.substring("digest ".length()), "child JVM " + jitFlag + " at " + bits
                + "-bit vectors (this JVM: " + CpuVectors.SPECIES.vectorBitSize() + "-bit)");
    }
}
