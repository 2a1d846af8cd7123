package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RunCommandTest {
    @TempDir
    Path dir;

    record Result(int code, String out, String err) {
    }

    static Result run(String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream capture = new PrintStream(buf, true, StandardCharsets.UTF_8);
        System.setOut(capture);
        try {
            CommandLine cl = EngramCli.commandLine();
            StringWriter err = new StringWriter();
            cl.setErr(new PrintWriter(err, true));
            cl.setOut(new PrintWriter(capture, true));
            int code = cl.execute(args);
            capture.flush();
            return new Result(code, buf.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    /** The example of {@code engram run --help}, with its --out moved into the test's folder. */
    static String[] helpExample(Path out) {
        String desc = String.join(" ", EngramCli.commandLine().getSubcommands().get("run").getCommandSpec()
                .usageMessage().description());
        String example = desc.substring(desc.indexOf("engram run ") + "engram ".length()).strip();
        String[] args = example.split(" +");
        assertEquals("--out", args[args.length - 2], example);
        args[args.length - 1] = out.toString();
        return args;
    }

    @Test
    void theHelpExampleWritesTheWholeReportAndItsNumbersAgreeWithTheCsvs() throws Exception {
        Path out = dir.resolve("report");
        Result r = run(helpExample(out));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("buy & hold") && r.out().contains("report: "), r.out());
        for (String f : List.of("index.html", "metrics.json", "equity.png", "underwater.png", "rolling-sharpe.png",
                "calibration.png", "confidence.png", "similar.png", "phase-portrait.png", "energy.png", "forecast.png",
                "forecast-hindcast.png", "monthly-memory.png", "monthly-hnn.png", "monthly-buy-and-hold.png",
                "bars-memory.csv", "bars-hnn.csv", "bars-buy-and-hold.csv")) {
            assertTrue(Files.size(out.resolve(f)) > 100, f + " is missing or nearly empty");
        }
        // every image the page shows is a file of the folder
        String html = Files.readString(out.resolve("index.html"));
        Matcher m = Pattern.compile("<img src=\"([^\"]+)\"").matcher(html);
        int images = 0;
        while (m.find()) {
            assertTrue(Files.isRegularFile(out.resolve(m.group(1))), m.group(1));
            images++;
        }
        assertEquals(13, images); // 3 equity/drawdown/Sharpe, 3 monthly, calibration, confidence, similar, phase, energy, 2 fans
        JsonNode j = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        for (String s : List.of("memory", "hnn")) {
            List<String> lines = Files.readAllLines(out.resolve("bars-" + s + ".csv"));
            double last = Double.parseDouble(lines.getLast().split(",")[6]);
            assertEquals(last / 1.0 - 1, j.at("/strategies/" + s + "/total_return").asDouble(), 1e-9, s);
        }
        assertEquals(5, j.at("/latest_bar/top_k").size());
        // the Monte-Carlo quantiles are ordered at every step and start at the last close
        JsonNode mc = j.get("monte_carlo");
        assertEquals(13, mc.get("p50").size());
        for (int k = 0; k < 13; k++) {
            double prev = Double.NEGATIVE_INFINITY;
            for (String q : List.of("p5", "p25", "p50", "p75", "p95")) {
                double v = mc.get(q).get(k).asDouble();
                assertTrue(v >= prev, q + " at " + k);
                prev = v;
            }
        }
        assertEquals(mc.get("start_close").asDouble(), mc.get("p50").get(0).asDouble(), 1e-6);
        // the hindcast's realised path is the data: known at every step
        assertTrue(j.at("/monte_carlo_hindcast/realised").size() == 13
                && !j.at("/monte_carlo_hindcast/realised/12").isNull());
    }

    @Test
    void badInputIsOneLineNamingTheOption() {
        Result a = run("run", "--strategies", "memory,magic", "--out", dir.resolve("x").toString());
        assertEquals(2, a.code());
        assertTrue(a.err().contains("--strategies magic") && a.err().strip().lines().count() == 1, a.err());
        Result b = run("run", "--bars", "999999", "--out", dir.resolve("y").toString());
        assertEquals(2, b.code());
        assertTrue(b.err().contains("--bars 999999"), b.err());
    }
}
