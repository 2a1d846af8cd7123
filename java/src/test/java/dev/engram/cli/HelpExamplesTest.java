package dev.engram.cli;

import dev.engram.tensor.Npy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every command's {@code --help} ends its description with an example ("Example: engram …"), and the examples run
 * as written on the bundled (synthetic) data, in the order a user would run them, with {@code sample/…} and
 * {@code out/…} moved into a temporary folder. Three are only parsed, for the reasons given in {@link #PARSE_ONLY}.
 */
class HelpExamplesTest {
    /**
     * The benchmark commands ({@code bench} and its subcommands): their examples must show and parse like every
     * other's, but take minutes and run the peers, so they are not run here ({@code BenchSuiteTest} runs the suite's
     * code on small cases).
     */
    static boolean benchmark(String name) {
        return name.equals("bench") || name.startsWith("bench ");
    }

    static final Map<String, String> PARSE_ONLY = Map.of(
            "run", "RunCommandTest runs this example and checks the whole report",
            "fetch", "needs the network; the exchange clients are tested against a local server",
            "gpu-check", "GpuJavaRuntimeCheck runs it on the emulated engine, through the runtime carried to a GPU machine");

    /** The order in which the examples are run: later ones read what earlier ones wrote. */
    static final List<String> RUN_ORDER = List.of("data sample", "data info", "data", "engines", "train", "forecast",
            "watch", "backtest", "demo", "ensemble", "physics", "retrieve", "generate-completion", "help");

    @TempDir
    Path dir;

    /** Every command by its full name ("data info"), with its example, or null when it shows none. */
    static Map<String, String> examples() {
        Map<String, String> out = new LinkedHashMap<>();
        collect(EngramCli.commandLine(), "", out);
        return out;
    }

    private static void collect(CommandLine cl, String prefix, Map<String, String> out) {
        for (Map.Entry<String, CommandLine> e : cl.getSubcommands().entrySet()) {
            String name = prefix.isEmpty() ? e.getKey() : prefix + " " + e.getKey();
            var usage = e.getValue().getCommandSpec().usageMessage();
            String text = (String.join(" ", usage.description()) + " " + String.join(" ", usage.footer()))
                    .replaceAll("\\s+", " ").strip();
            Matcher m = Pattern.compile("Example[^:]*: (engram .+)$").matcher(text);
            out.put(name, m.find() ? m.group(1).strip() : null);
            collect(e.getValue(), name, out);
        }
    }

    @Test
    void everyCommandShowsAnExampleOfItselfThatParses() {
        Map<String, String> ex = examples();
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, String> e : ex.entrySet()) {
            String example = e.getValue();
            if (example == null) {
                missing.add(e.getKey());
                continue;
            }
            assertTrue(example.startsWith("engram " + e.getKey() + " ") || example.equals("engram " + e.getKey())
                    || e.getKey().equals("data"), e.getKey() + ": " + example);
            String[] args = args(example);
            try {
                EngramCli.commandLine().parseArgs(args);
            } catch (CommandLine.ParameterException pe) {
                fail(e.getKey() + ": its example does not parse: " + pe.getMessage());
            }
            assertTrue(EngramCli.commandLine().getUsageMessage().length() > 0);
        }
        assertEquals(List.of(), missing, "commands whose --help shows no example");
        for (String name : ex.keySet()) {
            assertTrue(benchmark(name) || RUN_ORDER.contains(name) || PARSE_ONLY.containsKey(name),
                    name + " is neither run nor listed as parse-only by this test");
        }
    }

    static String[] args(String example) {
        String[] words = example.split(" +");
        return Arrays.copyOfRange(words, 1, words.length);
    }

    /** The example's arguments with sample/… and out/… under {@code dir}. */
    String[] moved(String example) {
        return moved(dir, args(example));
    }

    /** {@code args} with sample/… and out/… (also inside comma-separated lists) moved under {@code dir}. */
    static String[] moved(Path dir, String[] args) {
        String[] a = args.clone();
        for (int i = 0; i < a.length; i++) {
            boolean folderValue = a[i].equals("sample") && i > 0 && a[i - 1].startsWith("--"); // not `data sample`
            if (folderValue) {
                a[i] = dir.resolve(a[i]).toString();
                continue;
            }
            String[] parts = a[i].split(",", -1);
            for (int j = 0; j < parts.length; j++) {
                if (parts[j].startsWith("sample/") || parts[j].startsWith("out/")) {
                    parts[j] = dir.resolve(parts[j]).toString();
                }
            }
            a[i] = String.join(",", parts);
        }
        // a command writing to its default --out (out/…) would write into the checkout: give it the folder here
        CommandLine.ParseResult pr = EngramCli.commandLine().parseArgs(a);
        while (pr.hasSubcommand()) {
            pr = pr.subcommand();
        }
        CommandLine.Model.OptionSpec out = pr.commandSpec().findOption("--out");
        String def = out == null ? null : out.defaultValueString() != null ? out.defaultValueString()
                : out.initialValue() == null ? null : out.initialValue().toString();
        if (def != null && !pr.hasMatchedOption("--out") && def.startsWith("out/")) {
            a = Arrays.copyOf(a, a.length + 2);
            a[a.length - 2] = "--out";
            a[a.length - 1] = dir.resolve(def).toString();
        }
        return a;
    }

    @Test
    void theExamplesRunOnTheBundledData() throws Exception {
        Map<String, String> ex = examples();
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
        for (String name : RUN_ORDER) {
            String example = ex.get(name);
            long t0 = System.nanoTime();
            RunCommandTest.Result r = RunCommandTest.run(moved(example));
            System.out.printf("%-20s %6.1f s  %s%n", name, (System.nanoTime() - t0) / 1e9, example);
            assertEquals(0, r.code(), name + ": " + example + "\n" + r.err());
            assertTrue(!r.out().isBlank(), name + " printed nothing");
        }
        assertTrue(Files.size(dir.resolve("out/models/btc-memory.engram")) > 1000);
        assertTrue(Files.readString(dir.resolve("out/forecast.json")).contains("\"forecast_return\""));
        assertEquals(4, Files.readAllLines(dir.resolve("out/watch/btc.jsonl")).size()); // start + 3 decisions
        assertTrue(Files.isRegularFile(dir.resolve("out/retrieve/topk_indices.npy")));
        long[] top = Npy.readLong(dir.resolve("out/retrieve/topk_indices.npy"));
        for (int b = 0; b < 8; b++) {
            assertEquals(b, top[3 * b], "query " + b + " finds the pattern it is a noisy copy of");
        }
    }
}
