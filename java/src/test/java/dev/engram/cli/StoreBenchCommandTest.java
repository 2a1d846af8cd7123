package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code engram bench store} at a tiny size: both engines, and the JSON's counts, decisions and ratios agree. */
class StoreBenchCommandTest {

    @Test
    void storeBenchWritesConsistentCountsDecisionsAndRatios(@TempDir Path dir) throws Exception {
        var cli = EngramCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        int code = cli.execute("bench", "store", "--size", "3000", "--reference-size", "2000", "--dim", "8",
                "--inserts", "6", "--queries", "4", "--reference-ops", "4", "--batch", "8", "--k", "3",
                "--out", dir.toString());
        assertEquals(0, code, err.toString());
        JsonNode root = new ObjectMapper().readTree(dir.resolve("store-latest.json").toFile());
        assertEquals(8, root.get("dim").asInt());
        assertEquals(3, root.get("k").asInt());
        assertEquals(8, root.get("batch").asInt());
        assertEquals(2, root.get("engines").size());
        JsonNode ref = null;
        JsonNode cpu = null;
        for (JsonNode e : root.get("engines")) {
            boolean reference = e.get("engine").asText().equals("reference");
            if (reference) {
                ref = e;
            } else {
                cpu = e;
            }
            int m = e.get("M").asInt();
            assertEquals(reference ? 2000 : 3000, m);
            // single inserts: reference runs --reference-ops of them; even ones are novel (the store is full:
            // evict and replace), odd ones near-copies of a stored row (cosine ≈ 0.9998: merge)
            JsonNode insert = e.get("insert");
            int ops = insert.get("ops").asInt();
            assertEquals(reference ? 4 : 6, ops);
            assertEquals(ops / 2, insert.get("actions").get("merged").asInt(), "merged inserts");
            assertEquals(ops - ops / 2, insert.get("actions").get("replaced").asInt(), "replaced inserts");
            assertTrue(insert.get("actions").get("added") == null, "a full store cannot add");
            assertRate(insert, ops);
            // batched inserts: reps batches of 8 with the same mix; near-copies always merge, and a novel row may
            // merge too (a random 8-d vector lands within cosine 0.95 of one of 3000 now and then); nothing is added
            JsonNode batched = e.get("batched_insert");
            int reps = batched.get("reps").asInt();
            assertEquals(reference ? 1 : 5, reps);
            int merged = batched.get("actions").path("merged").asInt();
            int replaced = batched.get("actions").path("replaced").asInt();
            assertEquals(8 * reps, merged + replaced, "batched decisions");
            assertTrue(merged >= 4 * reps, "near-copies merge: " + merged);
            assertTrue(batched.get("actions").get("added") == null, "a full store cannot add");
            assertEquals(8 / (batched.get("ms_per_batch").asDouble() / 1e3), batched.get("inserts_per_s").asDouble(),
                    1e-9 * batched.get("inserts_per_s").asDouble());
            JsonNode query = e.get("query");
            assertEquals(4, query.get("ops").asInt());
            assertRate(query, 4);
            double conf = query.get("mean_confidence").asDouble();
            assertTrue(conf >= 0 && conf <= 1, "mean confidence " + conf);
            JsonNode bq = e.get("batched_query");
            assertEquals(8, bq.get("B").asInt());
            assertEquals(8 / (bq.get("ms_per_batch").asDouble() / 1e3), bq.get("queries_per_s").asDouble(),
                    1e-9 * bq.get("queries_per_s").asDouble());
            // PatternStoreFile version 1: 60-byte header, M×d float32 patterns, 28 bytes of per-slot data, CRC
            long bytes = 60 + (long) m * 8 * 4 + (long) m * 28 + 8;
            assertEquals(bytes, e.get("save_load").get("bytes").asLong(), "store file size");
        }
        // different sizes: the ratio compares patterns scanned per second, ops/s × M
        JsonNode ratios = root.get("ratios_vs_reference").get("cpu");
        assertTrue(ratios.get("basis").asText().contains("sizes differ"));
        String[][] ops = {{"insert", "insert", "ops_per_s"}, {"query", "query", "ops_per_s"},
                {"batched_query", "batched_query", "queries_per_s"}, {"batched_insert", "batched_insert", "inserts_per_s"}};
        for (String[] op : ops) {
            double expected = cpu.get(op[1]).get(op[2]).asDouble() * 3000 / 2000 / ref.get(op[1]).get(op[2]).asDouble();
            assertEquals(expected, ratios.get(op[0]).asDouble(), 1e-9 * expected, op[0] + " ratio");
        }
        var bad = EngramCli.commandLine();
        StringWriter badErr = new StringWriter();
        bad.setErr(new PrintWriter(badErr));
        assertEquals(2, bad.execute("bench", "store", "--size", "0", "--out", dir.toString()));
        assertTrue(badErr.toString().contains("size=0"), badErr.toString());
    }

    /** ops/s = ops / Σ latencies; the upper half of the latencies is ≥ the median, so ops/s ≤ 2/median. */
    private static void assertRate(JsonNode n, int ops) {
        double rate = n.get("ops_per_s").asDouble();
        double median = n.get("median_ms").asDouble();
        double p90 = n.get("p90_ms").asDouble();
        assertTrue(Double.isFinite(rate) && rate > 0, "ops_per_s " + rate);
        assertTrue(median > 0 && median <= p90, "median " + median + " p90 " + p90);
        assertTrue(rate <= 2 * 1e3 / median * (1 + 1e-9), "ops/s " + rate + " above 2/median for " + ops + " ops");
    }
}
