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
 * "Reproducible" for the cpu engine's training: the same θ, data and minibatch give identical loss and gradient bits
 * on every run, at every thread count, in every JIT tier and, because every product is one FMA chain per element in a
 * fixed order and tanh is {@link ReproducibleMath}'s, at every vector width. In process: a cold call (interpreted or
 * C1) against calls after C2 has compiled the kernels, and 1…4 threads; forked: child JVMs that only interpret, stop
 * at C1 or only use C2, at 128-, 256- and 512-bit vectors ({@link TrainingProbe}).
 */
class TrainingReproducibilityTest {
    private static String warm;

    private static synchronized String warmDigest() {
        if (warm == null) {
            String cold = TrainingProbe.digest(2);
            for (int i = 0; i < 30; i++) {
                assertEquals(cold, TrainingProbe.digest(2), "digest changed during warm-up, call " + (i + 2));
            }
            warm = cold;
        }
        return warm;
    }

    @Test
    void coldAndWarmCallsAndThreadCountsGiveTheSameBits() {
        String expected = warmDigest();
        for (int threads : new int[] {1, 3, 4}) {
            assertEquals(expected, TrainingProbe.digest(threads), threads + " threads");
        }
    }

    @ParameterizedTest(name = "child JVM {0} at {1}-bit vectors")
    @CsvSource({"-Xint, 128", "-Xint, 512", "-XX:TieredStopAtLevel=1, 256", "-XX:-TieredCompilation, 128"})
    void otherJitTiersAndVectorWidthsGiveTheSameBits(String jitFlag, int bits) throws IOException, InterruptedException {
        String expected = warmDigest();
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--add-modules=jdk.incubator.vector");
        cmd.add(jitFlag);
        cmd.add("-Dengram.cpu.vectorBits=" + bits);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(TrainingProbe.class.getName());
        cmd.add("3");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out;
        try {
            if (!p.waitFor(300, TimeUnit.SECONDS)) {
                throw new AssertionError("child JVM " + jitFlag + " did not finish in 300 s");
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
