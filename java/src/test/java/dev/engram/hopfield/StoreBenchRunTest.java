package dev.engram.hopfield;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.cli.EngramCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code engram store-bench} at a tiny size: runs both engines and writes the JSON the README describes. */
class StoreBenchRunTest {

    @Test
    void storeBenchWritesResultsPerEngineAndRatios(@TempDir Path dir) throws Exception {
        var cli = EngramCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("store-bench", "--size", "3000", "--reference-size", "2000", "--dim", "8",
                "--inserts", "6", "--queries", "4", "--reference-ops", "4", "--batch", "8", "--out", dir.toString());
        assertEquals(0, code, err.toString());
        JsonNode root = new ObjectMapper().readTree(dir.resolve("store-latest.json").toFile());
        assertEquals(2, root.get("engines").size());
        for (JsonNode e : root.get("engines")) {
            int m = e.get("M").asInt();
            assertEquals(e.get("engine").asText().equals("reference") ? 2000 : 3000, m);
            assertTrue(e.get("insert").get("ops_per_s").asDouble() > 0);
            assertTrue(e.get("batched_insert").get("inserts_per_s").asDouble() > 0);
            assertTrue(e.get("query").get("ops_per_s").asDouble() > 0);
            assertEquals(e.get("engine").asText().equals("reference") ? 4 : 6, e.get("insert").get("ops").asInt());
            // half the inserts are near-duplicates (merge), half novel (the store is full: replace)
            assertEquals(e.get("insert").get("ops").asInt() / 2, e.get("insert").get("actions").get("merged").asInt());
            assertTrue(e.get("save_load").get("bytes").asLong() > (long) m * 8 * 4);
        }
        JsonNode ratios = root.get("ratios_vs_reference").get("cpu");
        assertTrue(ratios.get("basis").asText().contains("sizes differ"));
        assertTrue(ratios.get("query").asDouble() > 0);
        var bad = EngramCli.commandLine();
        StringWriter badErr = new StringWriter();
        bad.setErr(new PrintWriter(badErr));
        assertEquals(2, bad.execute("store-bench", "--size", "0", "--out", dir.toString()));
        assertTrue(badErr.toString().contains("size=0"), badErr.toString());
    }
}
