package dev.engram.cli;

import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** No command ends in a stack trace: one line naming the problem (the trace only with --verbose). */
class CliErrorsTest {
    @TempDir
    Path dir;

    /** Runs the CLI; returns {exit code, stderr}. */
    private static Object[] run(CommandLine cl, String... args) {
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Object[] {code, err.toString()};
    }

    private static Object[] run(String... args) {
        return run(EngramCli.commandLine(), args);
    }

    private static void assertOneLine(String err) {
        assertFalse(err.contains("\tat "), "no stack trace: " + err);
        assertEquals(1, err.strip().lines().count(), "one line: " + err);
    }

    @Command(name = "boom")
    static final class Boom implements Callable<Integer> {
        final Throwable what;

        Boom(Throwable what) {
            this.what = what;
        }

        @Override
        public Integer call() throws Exception {
            if (what instanceof Error e) {
                throw e;
            }
            throw (Exception) what;
        }
    }

    private static CommandLine withBoom(Throwable t) {
        return EngramCli.commandLine().addSubcommand("boom", new Boom(t));
    }

    @Test
    void errorsThatAreNotExceptionsEndInOneLine() {
        Object[] oom = run(withBoom(new OutOfMemoryError("Java heap space")), "boom");
        assertEquals(2, oom[0]);
        assertOneLine((String) oom[1]);
        assertTrue(((String) oom[1]).startsWith("engram boom: out of memory (Java heap space; this JVM may use at most "),
                (String) oom[1]);
        assertTrue(((String) oom[1]).contains("-Xmx"), (String) oom[1]);

        Object[] mapped = run(withBoom(new InternalError("a fault occurred in an unsafe memory access")), "boom");
        assertEquals(2, mapped[0]);
        assertOneLine((String) mapped[1]);
        assertTrue(((String) mapped[1]).contains("changed or was truncated"), (String) mapped[1]);
    }

    @Test
    void unexpectedFailuresSayTheyAreBugsAndVerboseShowsTheTrace() {
        Object[] npe = run(withBoom(new NullPointerException("x is null")), "boom");
        assertEquals(1, npe[0]);
        String err = (String) npe[1];
        assertFalse(err.contains("\tat "), err);
        assertTrue(err.startsWith("engram boom: NullPointerException: x is null"), err);
        assertTrue(err.contains("run again with --verbose"), err);

        Object[] verbose = run(withBoom(new NullPointerException("x is null")), "--verbose", "boom");
        assertTrue(((String) verbose[1]).contains("\tat "), "--verbose shows the trace: " + verbose[1]);
        Object[] afterSub = run("retrieve", "--memory", dir.resolve("nope.npy").toString(), "--queries", "q.npy",
                "--out", dir.resolve("o").toString(), "--verbose");
        assertEquals(2, afterSub[0]);
        assertTrue(((String) afterSub[1]).contains("\tat "), "--verbose after the command too: " + afterSub[1]);
    }

    @Test
    void ioProblemsNameTheFileTheProblemAndTheRemedy() throws IOException {
        try (FloatMatrix x = RandomMatrices.uniform(10, 4, 1)) {
            Npy.write(dir.resolve("x.npy"), x);
        }
        String x = dir.resolve("x.npy").toString();
        Path file = Files.writeString(dir.resolve("afile"), "not a folder");

        Object[] missing = run("retrieve", "--memory", dir.resolve("nope.npy").toString(), "--queries", x, "--out",
                dir.resolve("o").toString(), "--backend", "reference");
        assertOneLine((String) missing[1]);
        assertTrue(((String) missing[1]).contains("cannot read " + dir.resolve("nope.npy") + ": it does not exist; "
                + "check the path"), (String) missing[1]);

        Object[] folder = run("retrieve", "--memory", dir.toString(), "--queries", x, "--out",
                dir.resolve("o").toString(), "--backend", "reference");
        assertTrue(((String) folder[1]).contains("cannot read " + dir + ": it is a folder, not a file; name a file"),
                (String) folder[1]);

        Object[] outIsFile = run("retrieve", "--memory", x, "--queries", x, "--out", file.toString(), "--backend",
                "reference");
        assertEquals(2, outIsFile[0]);
        assertTrue(((String) outIsFile[1]).contains("--out " + file + " is an existing file, not a folder; give a folder"),
                (String) outIsFile[1]);

        Object[] underFile = run("ensemble", "--out", file.resolve("sub").toString(), "--trajectories", "8",
                "--steps", "2", "--backend", "reference");
        assertEquals(2, underFile[0]);
        assertOneLine((String) underFile[1]);
        assertTrue(((String) underFile[1]).contains(file + " is a file, not a folder; remove or rename it"),
                (String) underFile[1]);

        Object[] modelIsFolder = run("ensemble", "--model", dir.toString(), "--out", dir.resolve("e").toString());
        assertOneLine((String) modelIsFolder[1]);
        assertTrue(((String) modelIsFolder[1]).contains("cannot read " + dir + ": it is a folder, not a file"),
                (String) modelIsFolder[1]);
        assertFalse(Files.exists(dir.resolve("o")) || Files.exists(dir.resolve("e")), "no folder left by failed runs");
    }

    @Test
    void validationMessagesNameTheCommandLineOptions() {
        Object[] k0 = run("retrieve", "--memory", "x.npy", "--queries", "q.npy", "--out", dir.toString(), "--k", "0");
        assertEquals(2, k0[0]);
        assertTrue(((String) k0[1]).contains("--k must be >= 1"), (String) k0[1]);
        String[][] cases = {
                {"--sigma-q", "-1", "--sigma-q must be a finite number >= 0, got -1.0"},
                {"--sigma-p", "NaN", "--sigma-p must be a finite number >= 0"},
                {"--noise", "-0.5", "--noise must be a finite number >= 0"},
                {"--samples", "0", "--samples must be >= 1, got 0"},
                {"--trajectories", "0", "--trajectories must be >= 1, got 0"},
                {"--dt", "0", "--dt must be a finite number > 0"},
                {"--q0", "1,2", "--q0 has 2 value(s) but the model has n = 1 degrees of freedom"},
        };
        for (String[] c : cases) {
            Object[] r = run("ensemble", c[0], c[1], "--out", dir.toString(), "--backend", "reference");
            assertEquals(2, r[0], c[0]);
            assertOneLine((String) r[1]);
            assertTrue(((String) r[1]).contains(c[2]), (String) r[1]);
        }
    }

    @Test
    void anEnsembleTooLargeForTheHeapIsRefusedBeforeTheWork() {
        // 300 M trajectories × 2 samples × 3 coordinates: ≈ 15.6 GB, more than the test JVM's heap (-Xmx6g)
        long need = 4L * (2 * 300_000_000L * 3 + 300_000_000L * 2 + 300_000_000L + 4 * 300_000_000L);
        org.junit.jupiter.api.Assumptions.assumeTrue(need > Runtime.getRuntime().maxMemory(), "heap too large for this case");
        long t0 = System.nanoTime();
        Object[] r = run("ensemble", "--trajectories", "300000000", "--steps", "1", "--samples", "1", "--out",
                dir.toString(), "--backend", "cpu");
        assertEquals(2, r[0]);
        String err = (String) r[1];
        assertOneLine(err);
        assertTrue(err.contains(String.format("--trajectories 300000000 with --samples 1 needs %.2f GiB", need / (double) (1L << 30))), err);
        assertTrue(err.contains("maximum heap") && err.contains("lower --trajectories or --samples"), err);
        assertTrue((System.nanoTime() - t0) / 1e9 < 20, "refused before integrating");
    }

    @Test
    void gpuCheckFailsWhenAnEngineItIsForCannotRunAndNamesABadRequiredEngine() throws IOException {
        String why = dev.engram.engine.Backends.unavailableReason("cuda");
        org.junit.jupiter.api.Assumptions.assumeTrue(why != null, "a GPU is here: the cuda engine runs");
        Path out = dir.resolve("gpu.jsonl");
        Object[] r = run("gpu-check", "--engines", "cuda", "--time-cases", "none", "--out", out.toString());
        assertEquals(1, r[0], "cuda is required by default and cannot run here");
        String lines = java.nio.file.Files.readString(out);
        assertTrue(lines.contains("\"engine\":\"cuda\"") && lines.contains("\"fail\""), lines);
        Object[] notRequired = run("gpu-check", "--engines", "cuda", "--required", "none", "--time-cases", "none",
                "--out", dir.resolve("gpu2.jsonl").toString());
        assertEquals(0, notRequired[0], "only noted when not required");
        Object[] bad = run("gpu-check", "--required", "cudaa", "--out", dir.resolve("gpu3.jsonl").toString());
        assertEquals(2, bad[0]);
        assertOneLine((String) bad[1]);
        assertTrue(((String) bad[1]).contains("--required: unknown engine 'cudaa'"), (String) bad[1]);
    }

    @Test
    void anEngineThatCannotRunHereIsOneLineSayingWhy() {
        String why = dev.engram.engine.Backends.unavailableReason("cuda");
        org.junit.jupiter.api.Assumptions.assumeTrue(why != null, "a GPU is here: --backend cuda integrates");
        Object[] r = run("ensemble", "--backend", "cuda", "--trajectories", "8", "--steps", "2", "--out", dir.toString());
        assertEquals(2, r[0]);
        assertOneLine((String) r[1]);
        assertTrue(((String) r[1]).strip().startsWith("engram ensemble: backend 'cuda' is not available here: "),
                (String) r[1]);
    }

    @Test
    void aMemoryFileTruncatedWhileMappedIsReportedNamingTheFile() throws Exception {
        Path x = dir.resolve("x.npy");
        Path q = dir.resolve("q.npy");
        try (FloatMatrix m = RandomMatrices.uniform(100_000, 16, 1); FloatMatrix qm = RandomMatrices.uniform(2, 16, 2)) {
            Npy.write(x, m);
            Npy.write(q, qm);
        }
        for (String engine : new String[] {"reference", "cpu"}) {
            CommandLine cl = EngramCli.commandLine();
            ((RetrieveCommand) cl.getSubcommands().get("retrieve").getCommand()).afterMapping = () -> {
                try (RandomAccessFile f = new RandomAccessFile(x.toFile(), "rw")) {
                    f.setLength(4096);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            };
            Object[] r = run(cl, "retrieve", "--memory", x.toString(), "--queries", q.toString(), "--out",
                    dir.resolve("o").toString(), "--backend", engine);
            assertEquals(2, r[0]);
            assertOneLine((String) r[1]);
            assertEquals("engram retrieve: cannot read " + x + ": the file changed or was truncated while it was being "
                    + "read (memory-mapped); do not modify input files during a run, and run again", ((String) r[1]).strip());
            try (FloatMatrix m = RandomMatrices.uniform(100_000, 16, 1)) {
                Npy.write(x, m);
            }
        }
    }
}
