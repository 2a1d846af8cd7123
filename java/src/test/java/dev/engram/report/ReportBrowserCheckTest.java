package dev.engram.report;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code .ci/check-report} in a real headless Chromium: a page built with {@link HtmlReport} passes, and the same page
 * with a missing image, a console error or an empty section fails naming it. Skipped where no Chromium is installed
 * (CI installs it, see .ci/run).
 */
class ReportBrowserCheckTest {
    @TempDir
    Path dir;

    static final Path SCRIPT = Path.of("..", ".ci", "check-report").toAbsolutePath().normalize();

    record Outcome(int code, String output) {
    }

    Outcome check(Path folder) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(SCRIPT.toString(), folder.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "check-report did not finish");
        return new Outcome(p.exitValue(), out);
    }

    Path page(String extraSection) throws IOException {
        Path f = Files.createDirectories(dir.resolve("r" + System.nanoTime()));
        ReportCharts.timeLines(f.resolve("a.png"), "A line over time", "value (units)", new long[] {0, 3_600_000},
                Map.of("a", new double[] {1, 2}), "0.0");
        HtmlReport h = new HtmlReport("test report")
                .section("summary", "Summary", HtmlReport.table(List.of(List.of("k", "v"), List.of("x", "1"))))
                .section("chart", "Chart", HtmlReport.figure("a.png", "a line", "caption"));
        if (extraSection != null) {
            h.section("extra", "Extra", extraSection);
        }
        h.write(f.resolve("index.html"));
        return f;
    }

    @Test
    void aGoodPagePassesAndBrokenOnesFailNamingTheProblem() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/chromium")) || System.getenv("CHROMIUM") != null,
                "no Chromium here (apt-get install -y chromium)");
        Outcome ok = check(page(null));
        assertEquals(0, ok.code(), ok.output());
        assertTrue(ok.output().contains("2 sections, 1 images, no errors"), ok.output());

        Path missing = page(null);
        Files.delete(missing.resolve("a.png"));
        Outcome m = check(missing);
        assertEquals(1, m.code(), m.output());
        assertTrue(m.output().contains("image did not load: a.png"), m.output());

        Outcome c = check(page("<p>x</p><script>console.error('boom')</script>"));
        assertEquals(1, c.code(), c.output());
        assertTrue(c.output().contains("console error: boom"), c.output());

        Outcome e = check(page(""));
        assertEquals(1, e.code(), e.output());
        assertTrue(e.output().contains("empty section: extra"), e.output());

        Outcome net = check(page("<img src=\"https://example.com/x.png\" alt=\"x\">"));
        assertEquals(1, net.code(), net.output());
        assertTrue(net.output().contains("refers to the network"), net.output());
    }
}
