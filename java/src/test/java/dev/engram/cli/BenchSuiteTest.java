package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The benchmark suite's plumbing: {@link Timing}'s statistics and stopping rule, the retrieval part's size caps
 * and strongest-peer ratios, and the summary and charts regenerated from a suite JSON alone.
 */
class BenchSuiteTest {
    @TempDir
    Path dir;

    @Test
    void statsAreTheMedianAndQuartilesOfTheRepetitions() {
        Timing.Stats s = Timing.Stats.of(new double[] {5, 1, 4, 2, 3}, true);
        assertEquals(3, s.medianMs());
        assertEquals(1, s.minMs());
        assertEquals(5, s.maxMs());
        assertEquals(2, s.p25Ms());
        assertEquals(4, s.p75Ms());
        assertEquals(4.0 / 3, s.relativeSpread(), 1e-12);
        assertEquals(2.5, Timing.Stats.of(new double[] {4, 1, 2, 3}, true).medianMs());
    }

    @Test
    void timingStopsWhenTheMedianSettlesOrAtTheCap() throws Exception {
        assertTrue(Timing.settled(List.of(10.0, 10.1, 10.0, 10.05, 10.0)));
        assertFalse(Timing.settled(List.of(10.0, 10.0, 10.0, 30.0, 30.0, 30.0)), "the median moved by 2x");
        int[] calls = {0};
        Timing.Stats s = Timing.measure(() -> calls[0]++, 2, 3, 9, 60);
        assertEquals(2 + s.reps(), calls[0], "warm-ups are not timed");
        assertTrue(s.reps() >= 3 && s.reps() <= 9, "reps " + s.reps());
        // a fake clock: call i takes 2^i ms, so the median never settles and the cap ends it
        long[] now = {0};
        int[] i = {0};
        Timing.Stats grow = Timing.measure(() -> now[0] += (1L << i[0]++) * 1_000_000L, 0, 3, 5, 60, () -> now[0]);
        assertEquals(5, grow.reps());
        assertFalse(grow.settled());
        assertEquals(4, grow.medianMs());
        // calls of 1 s each: the 2.5 s budget ends it after 3 (minReps), unsettled or not
        long[] now2 = {0};
        Timing.Stats budget = Timing.measure(() -> now2[0] += 1_000_000_000L * (now2[0] == 0 ? 1 : 3), 0, 3, 50, 2.5,
                () -> now2[0]);
        assertEquals(3, budget.reps());
        // equal times settle at minReps
        long[] now3 = {0};
        Timing.Stats flat = Timing.measure(() -> now3[0] += 5_000_000L, 0, 3, 50, 60, () -> now3[0]);
        assertEquals(3, flat.reps());
        assertTrue(flat.settled());
    }

    @Test
    void theSummaryAndChartsAreRegeneratedFromTheSuiteJson() throws Exception {
        Path py = fakePeers();
        Path out = dir.resolve("results");
        String stdout = execute("bench", "retrieval", "--cases", "1x2000x8,1x4000x8", "--engines", "reference,cpu",
                "--reps", "3", "--scores-cap", "3000", "--reference-cap", "3000", "--python", py.toString(),
                "--out", out.toString());
        JsonNode retrieval = new ObjectMapper().readTree(out.resolve("retrieval-latest.json").toFile());
        JsonNode big = retrieval.get("cases").get(1);
        assertTrue(big.get("skipped").has("reference"), "B·M 4000 > reference cap 3000: " + big);
        assertTrue(big.get("skipped").has("torch"), "B·M 4000 > scores cap 3000: " + big);
        assertFalse(big.get("peers").has("torch"), stdout);
        assertTrue(retrieval.get("cases").get(0).get("peers").has("torch"), stdout);
        JsonNode m = retrieval.get("machine");
        assertTrue(m.get("measured_read_GBps").asDouble() > 0 && m.get("measured_f32_peak_GFLOPps").asDouble() > 0);
        JsonNode cpu = big.get("engines").get(0);
        assertEquals("cpu", cpu.get("engine").asText());
        assertTrue(cpu.get("min_ms").asDouble() <= cpu.get("ms").asDouble()
                && cpu.get("ms").asDouble() <= cpu.get("max_ms").asDouble());

        ObjectMapper json = new ObjectMapper();
        ObjectNode suite = json.createObjectNode().put("tier", "custom").put("started", "2026-01-01T00:00:00Z");
        suite.putObject("parts").set("retrieval", retrieval);
        Path suiteFile = out.resolve("suite-test.json");
        Files.writeString(suiteFile, json.writeValueAsString(suite));
        execute("bench", "report", "--suite", suiteFile.toString());

        String md = Files.readString(out.resolve("summary.md"));
        assertTrue(md.contains("from `suite-test.json`"), md);
        assertTrue(md.contains("the reference engine runs where B·M ≤ 3,000"), md);
        String row = md.lines().filter(l -> l.startsWith("| 1 | 4,000 | 8 |")).findFirst().orElseThrow();
        assertTrue(row.contains("| capped | " + BenchResults.cell(cpu) + " |"), row);
        // faiss is the only peer at M = 4000 (torch capped): the ratio is its time over cpu's
        double ratio = 40.0 / cpu.get("ms").asDouble();
        assertTrue(row.contains("faiss (top-k)"), row);
        assertEquals(ratio, big.get("ratios").get("cpu_vs_strongest").asDouble(), 1e-9);
        for (String png : List.of("retrieval-time-B1-d8.png", "retrieval-roofline.png")) {
            BufferedImage img = ImageIO.read(out.resolve("charts").resolve(png).toFile());
            assertNotNull(img, png);
            assertEquals(1000, img.getWidth(), png);
        }
    }

    /** The case keys that are not engines (strongest_peer, ratios, peers) stay out of the ensemble table. */
    @Test
    void theEnsembleTableHasOneColumnPerEngineAndPeer() throws Exception {
        String kase = "{\"N\": %d, \"steps\": 10, \"cpu\": {\"traj_steps_per_s\": 2.0e6, \"fraction_of_peak\": 0.1},"
                + " \"peers\": {\"torch\": {\"traj_steps_per_s\": 1.0e6, \"blas\": \"openblas\"}},"
                + " \"strongest_peer\": {\"peer\": \"torch\", \"traj_steps_per_s\": 1.0e6},"
                + " \"ratios\": {\"cpu_vs_strongest\": 2.0}}";
        String suite = "{\"tier\": \"quick\", \"parts\": {\"ensemble\": {\"widths\": \"[2, 64, 64, 1]\","
                + " \"peak_GFLOPps\": 100, \"cases\": [" + String.format(kase, 1000) + ", "
                + String.format(kase, 100000) + "]}}}";
        Path file = dir.resolve("suite-e.json");
        Files.writeString(file, suite);
        execute("bench", "report", "--suite", file.toString());
        String md = Files.readString(dir.resolve("summary.md"));
        assertTrue(md.contains("| N × steps | `cpu` | torch | cpu vs strongest peer |"), md);
        assertTrue(md.contains("| 10⁵ × 10 | 2.00 M/s (10%) | 1.00 M/s | **2.0×** |"), md);
        assertNotNull(ImageIO.read(dir.resolve("charts/ensemble-throughput.png").toFile()));
    }

    @Test
    void badPartsAndMissingSuitesAreOneLineErrors() {
        StringWriter err = new StringWriter();
        var cli = EngramCli.commandLine();
        cli.setErr(new PrintWriter(err));
        assertEquals(2, cli.execute("bench", "all", "--parts", "retrieval,warp", "--out", dir.toString()));
        assertTrue(err.toString().contains("unknown part 'warp'; the parts are retrieval, ensemble, store, training, "
                + "backtest"), err.toString());
        StringWriter err2 = new StringWriter();
        var cli2 = EngramCli.commandLine();
        cli2.setErr(new PrintWriter(err2));
        assertEquals(2, cli2.execute("bench", "report", "--suite", dir.resolve("none.json").toString()));
        assertTrue(err2.toString().contains("no such file; run engram bench all first"), err2.toString());
    }

    /** A stand-in Python printing one torch (OpenBLAS) and one faiss line for any case (see PeerBenchTest). */
    private Path fakePeers() throws Exception {
        String torch = "{\"peer\": \"torch\", \"computes\": \"output, entropy, confidence, top-k\", \"threads\": 1,"
                + " \"version\": \"PyTorch 1.13\", \"blas\": \"openblas\", \"blas_library\": \"/lib/libopenblas.so\","
                + " \"blas_threads\": 2, \"B\": 1, \"M\": 2000, \"d\": 8, \"ms\": 80.0, \"min_ms\": 70.0,"
                + " \"max_ms\": 90.0, \"reps\": 3}";
        String faiss = "{\"peer\": \"faiss\", \"computes\": \"top-k\", \"threads\": 1, \"version\": \"FAISS 1.7.3\","
                + " \"blas\": \"openblas\", \"blas_library\": \"/lib/libopenblas.so\", \"blas_threads\": 2, \"B\": 1,"
                + " \"M\": 2000, \"d\": 8, \"ms\": 40.0, \"min_ms\": 39.0, \"max_ms\": 41.0, \"reps\": 3}";
        String sh = "#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then exit 0; fi\ncase \"$(basename \"$1\")\" in\n"
                + "torch_retrieval.py) echo '" + torch + "';;\nfaiss_topk.py) echo '" + faiss + "';;\nesac\n";
        Path py = dir.resolve("python");
        Files.writeString(py, sh);
        Files.setPosixFilePermissions(py, PosixFilePermissions.fromString("rwx------"));
        Path peers = Files.createDirectories(dir.resolve("home/bench/peers"));
        Files.writeString(peers.resolve("torch_retrieval.py"), "# stand-in\n");
        Files.writeString(peers.resolve("faiss_topk.py"), "# stand-in\n");
        return py;
    }

    private String execute(String... args) {
        String home = System.getProperty("engram.home");
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setProperty("engram.home", dir.resolve("home").toString());
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            StringWriter err = new StringWriter();
            var cli = EngramCli.commandLine();
            cli.setErr(new PrintWriter(err));
            assertEquals(0, cli.execute(args), err.toString());
        } finally {
            System.setOut(old);
            if (home == null) {
                System.clearProperty("engram.home");
            } else {
                System.setProperty("engram.home", home);
            }
        }
        return buf.toString(StandardCharsets.UTF_8);
    }
}
