package dev.engram;

import dev.engram.engine.Backends;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.hnn.AnalyticHamiltonians;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.trading.data.SyntheticMarket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.net.URI;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@code ```java} block of the README and of the Markdown files under {@code java/docs/} is compiled in-process
 * ({@link JavaCompiler}) against the test class path and, unless it needs a GPU or the network, run.
 *
 * <p>The conventions, as the README states them: a block is the body of a method that may throw; its leading
 * {@code import} lines are its imports, and every {@code dev.engram} package, {@code java.util}, {@code java.nio.file}
 * and {@code java.time} are imported for it. An HTML comment on the line before the block,
 * {@code <!-- example NAME; small: A => B | C => D; compile only: REASON -->} (every part optional), names it, gives
 * text replacements that shrink it to test sizes, or says why it is compiled and not run. When run, relative paths
 * given to {@code Path.of} resolve in a temporary folder that holds {@code patterns.npy} (2000 × 16 float32, unit
 * rows), {@code queries.npy} (8 noisy copies of the first 8 patterns, unit rows) and {@code sample/} (the synthetic sample, 3000 bars);
 * what the example prints is captured and, for the named examples in {@link #checks}, checked (against the reference
 * engine where the example computes something it can compute too). Compiled classes go to a temporary folder that
 * JUnit deletes.
 */
class ReadmeExamplesTest {
    @TempDir
    Path tmp;

    /** One {@code ```java} block. */
    record Example(Path file, int line, String name, String code, List<String[]> small, String compileOnly) {
        String where() {
            return file.getFileName() + " line " + line + (name == null ? "" : " (" + name + ")");
        }
    }

    static Path root() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("README.md")) && Files.isRegularFile(p.resolve("engram"))) {
                return p;
            }
        }
        throw new IllegalStateException("README.md not found above " + Path.of("").toAbsolutePath());
    }

    static List<Path> documents() throws Exception {
        List<Path> out = new ArrayList<>();
        out.add(root().resolve("README.md"));
        try (Stream<Path> s = Files.list(root().resolve("java/docs"))) {
            s.filter(p -> p.getFileName().toString().endsWith(".md")).sorted().forEach(out::add);
        }
        return out;
    }

    private static final Pattern MARKER = Pattern.compile("^<!--\\s*example(.*?)-->\\s*$");

    static List<Example> examples() throws Exception {
        List<Example> out = new ArrayList<>();
        for (Path doc : documents()) {
            List<String> lines = Files.readAllLines(doc);
            for (int i = 0; i < lines.size(); i++) {
                if (!lines.get(i).strip().equals("```java")) {
                    continue;
                }
                String name = null;
                String compileOnly = null;
                List<String[]> small = new ArrayList<>();
                Matcher m = i > 0 ? MARKER.matcher(lines.get(i - 1).strip()) : null;
                if (m != null && m.matches()) {
                    String[] parts = m.group(1).split(";");
                    name = parts[0].strip().isEmpty() ? null : parts[0].strip();
                    for (int j = 1; j < parts.length; j++) {
                        String part = parts[j].strip();
                        if (part.startsWith("small:")) {
                            for (String pair : part.substring(6).split("\\|")) {
                                String[] ab = pair.split("=>");
                                if (ab.length != 2) {
                                    fail(doc.getFileName() + " line " + i + ": 'small:' wants 'A => B | C => D', got '"
                                            + pair.strip() + "'");
                                }
                                small.add(new String[] {ab[0].strip(), ab[1].strip()});
                            }
                        } else if (part.startsWith("compile only:")) {
                            compileOnly = part.substring("compile only:".length()).strip();
                        } else {
                            fail(doc.getFileName() + " line " + i + ": unknown part '" + part
                                    + "' in the example comment (small:, compile only:)");
                        }
                    }
                }
                StringBuilder code = new StringBuilder();
                int j = i + 1;
                for (; j < lines.size() && !lines.get(j).strip().equals("```"); j++) {
                    code.append(lines.get(j)).append('\n');
                }
                out.add(new Example(doc, i + 2, name, code.toString(), small, compileOnly));
                i = j;
            }
        }
        return out;
    }

    /** The packages every example imports: every package of the library, and the JDK's everyday ones. */
    static List<String> defaultImports() throws Exception {
        List<String> out = new ArrayList<>(List.of("java.util", "java.nio.file", "java.time"));
        Path src = root().resolve("java/src/main/java");
        try (Stream<Path> s = Files.walk(src.resolve("dev/engram"))) {
            s.filter(p -> p.toString().endsWith(".java") && !p.getFileName().toString().equals("package-info.java"))
                    .map(p -> src.relativize(p.getParent()).toString().replace('/', '.'))
                    .distinct().sorted().forEach(out::add);
        }
        return out;
    }

    /** The example as a class {@code Example<i>} with a static {@code run()}; relative paths resolve in {@code dir}. */
    static String source(Example e, int index, boolean forRun, List<String> packages) {
        StringBuilder imports = new StringBuilder();
        StringBuilder body = new StringBuilder();
        boolean head = true;
        for (String line : e.code().split("\n", -1)) {
            if (head && (line.startsWith("import ") || line.isBlank())) {
                imports.append(line).append('\n');
            } else {
                head = false;
                body.append(line).append('\n');
            }
        }
        String code = body.toString();
        if (forRun) {
            for (String[] ab : e.small()) {
                if (!code.contains(ab[0])) {
                    fail(e.where() + ": 'small: " + ab[0] + " => " + ab[1] + "' but the example has no '" + ab[0] + "'");
                }
                code = code.replace(ab[0], ab[1]);
            }
            code = code.replace("Path.of(", "here(");
        }
        StringBuilder s = new StringBuilder();
        for (String p : packages) {
            s.append("import ").append(p).append(".*;");
        }
        s.append(imports.toString().replace('\n', ' ')).append('\n');
        s.append("public final class Example").append(index).append(" { public static Path dir; ")
                .append("static Path here(String first, String... more) { Path p = Path.of(first, more); ")
                .append("return p.isAbsolute() ? p : dir.resolve(p); } ")
                .append("public static void run() throws Exception {\n");
        s.append(code);
        s.append("}}\n");
        return s.toString();
    }

    /** Compiles the sources into {@code out}; on failure, the messages with the document's line numbers. */
    static String compile(List<Example> examples, List<String> sources, Path out) throws Exception {
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
        List<JavaFileObject> units = new ArrayList<>();
        for (int i = 0; i < sources.size(); i++) {
            String text = sources.get(i);
            units.add(new SimpleJavaFileObject(URI.create("string:///Example" + i + ".java"), JavaFileObject.Kind.SOURCE) {
                @Override
                public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                    return text;
                }
            });
        }
        try (StandardJavaFileManager files = javac.getStandardFileManager(diagnostics, Locale.ROOT,
                StandardCharsets.UTF_8)) {
            List<String> options = List.of("-d", out.toString(), "-classpath", System.getProperty("java.class.path"),
                    "--add-modules", "jdk.incubator.vector", "-proc:none", "-nowarn", "-Xlint:none",
                    "-encoding", "UTF-8");
            boolean ok = javac.getTask(null, files, diagnostics, options, null, units).call();
            StringBuilder errors = new StringBuilder();
            for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
                if (d.getKind() != Diagnostic.Kind.ERROR) {
                    continue;
                }
                String src = d.getSource().getName();
                int idx = Integer.parseInt(src.replaceAll("\\D", ""));
                Example e = examples.get(idx);
                int importLines = (int) e.code().lines().takeWhile(l -> l.startsWith("import ") || l.isBlank()).count();
                long line = d.getLineNumber() - 3 + importLines + e.line();
                errors.append(e.file().getFileName()).append(" line ").append(line).append(": ")
                        .append(d.getMessage(Locale.ROOT)).append('\n');
            }
            return ok ? null : errors.toString();
        }
    }

    /** What a named example must print, checked on its output with the fixtures' folder. */
    interface Check {
        void check(String printed, Path dir) throws Exception;
    }

    static double number(String printed, String label) {
        Matcher m = Pattern.compile(Pattern.quote(label) + "\\s*(-?[0-9.]+(?:[eE][-+]?\\d+)?)").matcher(printed);
        assertTrue(m.find(), "no '" + label + " <number>' in: " + printed);
        return Double.parseDouble(m.group(1));
    }

    static final Map<String, Check> CHECKS = checks();

    static Map<String, Check> checks() {
        Map<String, Check> c = new LinkedHashMap<>();
        c.put("retrieval", (printed, dir) -> {
            // the same retrieval on the reference engine: confidence within float32 rounding, the same top-5
            try (FloatMatrix x = Npy.readFloat(dir.resolve("patterns.npy"));
                 FloatMatrix q = Npy.readFloat(dir.resolve("queries.npy"));
                 PatternMemory memory = PatternMemory.of(x)) {
                RetrievalResult r = Backends.select("reference").retrieve(memory, q, new RetrievalParams(8f, 5));
                assertEquals(r.confidence()[0], number(printed, "confidence"), 1e-4, printed);
                assertTrue(printed.contains("best " + Arrays.toString(r.topIndices(0))), printed);
                assertEquals(0, r.topIndices(0)[0], "query 0 is a noisy copy of pattern 0");
            }
        });
        c.put("pattern store", (printed, dir) -> {
            // the query is nearest the merged first pattern (positive outcome), which the prediction follows
            assertTrue(number(printed, "predicted") > 0, printed);
            assertTrue(Files.isRegularFile(dir.resolve("store.eps")), "the store was saved");
            assertTrue(number(printed, "retrieved in") <= 10, printed);
        });
        c.put("hnn training", (printed, dir) -> {
            double first = number(printed, "validation loss");
            double best = number(printed, "->");
            assertTrue(best < first, "training lowered the validation loss: " + printed);
            assertTrue(Files.isRegularFile(dir.resolve("hnn.safetensors")), "the model was saved");
        });
        c.put("ensemble", (printed, dir) -> {
            // the same spec at the test's size on the reference engine (double): the cpu engine's median within 1e-3
            EnsembleSpec spec = EnsembleSpec.of(AnalyticHamiltonians.quadraticMlp(0.05), new float[] {0.5f},
                    new float[] {0f}, 2_000, 0.01f, 200, 0.05f, 0.05f, 0.1f, 42, 20);
            EnsembleResult r = Backends.select("reference").integrate(spec);
            float median = r.quantile(r.sampleSteps().length - 1, 0, 2);
            assertEquals(median, number(printed, "median q at the end"), 1e-3, printed);
        });
        c.put("features", (printed, dir) -> {
            // three years of hourly bars; a pattern for every bar once the lookback and the z-window are full
            double bars = number(printed, "");
            assertTrue(bars > 26_000, printed);
            assertEquals(11, number(printed, "width"), 0, printed);
        });
        c.put("backtest", (printed, dir) -> {
            assertTrue(Double.isFinite(number(printed, "Sharpe")), printed);
            assertTrue(Double.isFinite(number(printed, "vs")), printed);
        });
        c.put("training attention", (printed, dir) -> {
            // the values the README quotes
            Matcher m = Pattern.compile("o = \\[([-0-9.eE]+), ([-0-9.eE]+)\\]").matcher(printed);
            assertTrue(m.find(), printed);
            assertEquals(20.0000014, Double.parseDouble(m.group(1)), 1e-5, printed);
            assertEquals(24.8638786, Double.parseDouble(m.group(2)), 1e-5, printed);
            assertEquals(0.1349, number(printed, "dL/dbeta ="), 0, printed);
        });
        return c;
    }

    private void fixtures(Path dir) throws Exception {
        SplittableRandom rnd = new SplittableRandom(3);
        int m = 2000;
        int d = 16;
        float[] x = new float[m * d];
        float[] q = new float[8 * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rnd.nextGaussian();
        }
        unitRows(x, d);
        for (int i = 0; i < q.length; i++) {
            q[i] = x[i] + 0.05f * (float) rnd.nextGaussian();
        }
        unitRows(q, d);
        Npy.write(dir.resolve("patterns.npy"), x, m, d);
        Npy.write(dir.resolve("queries.npy"), q, 8, d);
        SyntheticMarket.write(dir.resolve("sample"), SyntheticMarket.Params.defaults().withBars(3000));
    }

    /** Scales each row of a row-major array to unit length (so β·score is β·cosine, and the confidence is not 1). */
    private static void unitRows(float[] a, int d) {
        for (int r = 0; r < a.length / d; r++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                s += (double) a[r * d + j] * a[r * d + j];
            }
            for (int j = 0; j < d; j++) {
                a[r * d + j] = (float) (a[r * d + j] / Math.sqrt(s));
            }
        }
    }

    @Test
    void everyJavaExampleCompilesAndRuns() throws Exception {
        List<Example> examples = examples();
        assertTrue(examples.size() >= 10, "found only " + examples.size() + " java examples in " + documents());
        List<String> packages = defaultImports();

        // 1. every example as written compiles
        List<String> asWritten = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            asWritten.add(source(examples.get(i), i, false, packages));
        }
        Path written = Files.createDirectories(tmp.resolve("classes-as-written"));
        String errors = compile(examples, asWritten, written);
        if (errors != null) {
            fail("README examples do not compile:\n" + errors);
        }

        // 2. those that need no GPU or network run, at the sizes their comment gives, with their output checked
        List<Example> toRun = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        for (int i = 0; i < examples.size(); i++) {
            Example e = examples.get(i);
            if (e.compileOnly() != null) {
                System.out.println("compiled " + e.where() + "; not run: " + e.compileOnly());
            }
            sources.add(e.compileOnly() == null ? source(e, i, true, packages) : asWritten.get(i));
        }
        Path classes = Files.createDirectories(tmp.resolve("classes"));
        errors = compile(examples, sources, classes);
        if (errors != null) {
            fail("README examples at test sizes do not compile:\n" + errors);
        }
        int ran = 0;
        List<String> names = new ArrayList<>();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {classes.toUri().toURL()},
                getClass().getClassLoader())) {
            for (int i = 0; i < examples.size(); i++) {
                Example e = examples.get(i);
                if (e.compileOnly() != null) {
                    continue;
                }
                Path dir = Files.createDirectories(tmp.resolve("run" + i));
                fixtures(dir);
                Class<?> k = loader.loadClass("Example" + i);
                k.getField("dir").set(null, dir);
                ByteArrayOutputStream captured = new ByteArrayOutputStream();
                PrintStream original = System.out;
                long t0 = System.nanoTime();
                System.setOut(new PrintStream(new Tee(original, captured), true, StandardCharsets.UTF_8));
                try {
                    k.getMethod("run").invoke(null);
                } catch (InvocationTargetException ex) {
                    throw new AssertionError(e.where() + " failed: " + ex.getCause(), ex.getCause());
                } finally {
                    System.setOut(original);
                }
                String printed = captured.toString(StandardCharsets.UTF_8);
                System.out.printf("ran      %s (%.1f s)%n", e.where(), (System.nanoTime() - t0) / 1e9);
                if (e.name() != null) {
                    Check check = CHECKS.get(e.name());
                    if (check == null) {
                        fail(e.where() + ": no check named '" + e.name() + "' (known: " + CHECKS.keySet() + ")");
                    }
                    check.check(printed, dir);
                    names.add(e.name());
                }
                ran++;
            }
        }
        List<String> unchecked = new ArrayList<>(CHECKS.keySet());
        unchecked.removeAll(names);
        assertEquals(List.of(), unchecked, "checks whose example is gone from the documents");
        assertTrue(ran >= 7, "ran " + ran + " examples");
        System.out.printf("%d examples: %d compiled, %d ran, %d compiled only%n", examples.size(), examples.size(),
                ran, examples.size() - ran);
    }

    @Test
    void compileErrorsNameTheDocumentLine(@TempDir Path out) throws Exception {
        Example bad = new Example(Path.of("README.md"), 40, null, "import java.util.List;\nint a = 1;\nundefinedName();\n",
                List.of(), null);
        String errors = compile(List.of(bad), List.of(source(bad, 0, true, defaultImports())), out);
        assertTrue(errors != null && errors.contains("README.md line 42: "), String.valueOf(errors));
    }

    @Test
    void smallReplacementsMustMatch() {
        Example e = new Example(Path.of("README.md"), 1, null, "int n = 5000;\n", List.<String[]>of(new String[] {"6000", "10"}),
                null);
        AssertionError err = org.junit.jupiter.api.Assertions.assertThrows(AssertionError.class,
                () -> source(e, 0, true, List.of()));
        assertTrue(err.getMessage().contains("has no '6000'"), err.getMessage());
    }

    /** Writes to two streams: the example's output stays visible in the test log and is captured. */
    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final OutputStream b;

        Tee(OutputStream a, OutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int c) throws java.io.IOException {
            a.write(c);
            b.write(c);
        }

        @Override
        public void write(byte[] buf, int off, int len) throws java.io.IOException {
            a.write(buf, off, len);
            b.write(buf, off, len);
        }
    }
}
