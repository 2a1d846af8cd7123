package dev.engram.cli;

import dev.engram.tensor.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@code ./engram …} line of the bash blocks of the README and of the Markdown files under {@code java/docs/}
 * (the reference material moved out of the README), README first, each distinct line once: run in-process on the
 * bundled synthetic data (with {@code sample/…} and {@code out/…} moved into a temporary folder; {@code out/npy/}
 * holds two small float32 {@code .npy} files for {@code retrieve}), or, where {@link #notRun} gives a reason, parsed
 * (or, for the launcher's own commands, looked up in the launcher).
 */
class ReadmeCommandsTest {
    @TempDir
    Path dir;

    static Path readme() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isRegularFile(p.resolve("engram"))) {
                return p.resolve("README.md");
            }
        }
        throw new IllegalStateException("README.md not found above " + Path.of("").toAbsolutePath());
    }

    /** The README, then the Markdown files under {@code java/docs/} in name order. */
    static List<Path> documents() throws Exception {
        List<Path> out = new ArrayList<>();
        out.add(readme());
        Path docs = readme().resolveSibling("java").resolve("docs");
        try (var s = Files.list(docs)) {
            s.filter(p -> p.getFileName().toString().endsWith(".md")).sorted().forEach(out::add);
        }
        return out;
    }

    /**
     * The distinct {@code ./engram} commands of the documents' bash blocks, in order, continuation lines joined,
     * comments dropped.
     */
    static List<String> commands() throws Exception {
        LinkedHashSet<String> out = new LinkedHashSet<>();
        for (Path doc : documents()) {
            out.addAll(commands(doc));
        }
        return new ArrayList<>(out);
    }

    /** The {@code ./engram} commands of one Markdown file's bash blocks. */
    static List<String> commands(Path doc) throws Exception {
        List<String> out = new ArrayList<>();
        boolean bash = false;
        StringBuilder pending = null;
        for (String line : Files.readAllLines(doc)) {
            if (line.startsWith("```")) {
                bash = line.strip().equals("```bash");
                continue;
            }
            if (!bash) {
                continue;
            }
            String l = line.replaceAll("\\s+#.*$", "").strip();
            if (pending != null) {
                pending.append(' ').append(l.replaceAll("\\\\$", "").strip());
                if (!l.endsWith("\\")) {
                    out.add(pending.toString());
                    pending = null;
                }
            } else if (l.startsWith("./engram ")) {
                if (l.endsWith("\\")) {
                    pending = new StringBuilder(l.substring(0, l.length() - 1).strip());
                } else {
                    out.add(l);
                }
            }
        }
        return out;
    }

    /** Why a README command is not run here, or null when it is. */
    static String notRun(String[] args) {
        String c = args[0];
        if (c.equals("test") || c.equals("spark")) {
            return "launcher";
        }
        if (c.equals("run")) {
            return "parse: the full main job takes minutes here; RunCommandTest runs a smaller one and checks the report";
        }
        if (c.equals("fetch") || Arrays.asList(args).contains("--source")) {
            return "parse: needs the network (the exchange clients and watch are tested against a local server)";
        }
        if (c.contains("bench")) {
            return "parse: a benchmark (minutes, and peers)";
        }
        if (c.equals("backtest") && Arrays.asList(args).contains("hnn")) {
            return "parse: an HNN walk-forward over the whole sample takes minutes here; HnnKindsTest runs each kind";
        }
        return null;
    }

    @Test
    void everyReadmeCommandRunsOrParses() throws Exception {
        List<String> cmds = commands();
        assertTrue(cmds.size() >= 30, "found only " + cmds.size() + " ./engram commands in " + documents());
        assertTrue(commands(readme()).size() >= 20, "the README's command list has " + commands(readme()).size());
        SplittableRandom rnd = new SplittableRandom(7);
        float[] mem = new float[1000 * 16];
        float[] q = new float[8 * 16];
        for (int i = 0; i < mem.length; i++) {
            mem[i] = (float) rnd.nextGaussian();
        }
        for (int i = 0; i < q.length; i++) {
            q[i] = mem[i] + 0.1f * (float) rnd.nextGaussian(); // noisy copies of the first 8 patterns
        }
        Files.createDirectories(dir.resolve("out/npy"));
        Npy.write(dir.resolve("out/npy/memory.npy"), mem, 1000, 16);
        Npy.write(dir.resolve("out/npy/queries.npy"), q, 8, 16);
        String launcher = Files.readString(readme().resolveSibling("engram"));
        int ran = 0;
        for (String cmd : cmds) {
            String[] words = cmd.split(" +");
            String[] args = Arrays.copyOfRange(words, 1, words.length);
            String why = notRun(args);
            if ("launcher".equals(why)) {
                assertTrue(launcher.contains("\n  " + args[0] + ")"), "the launcher handles ./engram " + args[0]);
                continue;
            }
            if (why != null) {
                try {
                    EngramCli.commandLine().parseArgs(args);
                } catch (CommandLine.ParameterException e) {
                    fail(cmd + ": does not parse: " + e.getMessage());
                }
                System.out.println("parsed  " + cmd + "   (" + why + ")");
                continue;
            }
            long t0 = System.nanoTime();
            RunCommandTest.Result r = RunCommandTest.run(HelpExamplesTest.moved(dir, args));
            System.out.printf("ran     %s   (%.1f s)%n", cmd, (System.nanoTime() - t0) / 1e9);
            assertEquals(0, r.code(), cmd + "\n" + r.err());
            ran++;
        }
        assertTrue(ran >= 14, "ran " + ran + " README commands");
    }
}
