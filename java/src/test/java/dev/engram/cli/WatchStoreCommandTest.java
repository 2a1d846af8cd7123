package dev.engram.cli;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.data.SyntheticMarket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code engram watch --store} from the command line: it learns into the file and resumes from it; a store file that
 * another model wrote, or --store with a model that has no pattern store, is one line naming the file or the model
 * and what to do, and leaves the file as it was; an hnn model is refused in one line.
 */
class WatchStoreCommandTest {
    @TempDir
    Path dir;

    static void assertOneLine(RunCommandTest.Result r) {
        assertTrue(r.code() != 0, r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void learnsResumesAndRefusesAStoreOfAnotherModel() throws Exception {
        BarSeries btc = SyntheticMarket.generate(SyntheticMarket.Params.defaults().withBars(1400)).get("SYNBTC").bars();
        Path csv = dir.resolve("SYNBTC-60.csv");
        CsvBars.write(csv, btc.slice(0, 1350)); // 50 more bars are appended before the restart
        CsvBars.write(dir.resolve("full.csv"), btc);
        String to = java.time.Instant.ofEpochMilli(btc.startMs(1200)).toString();
        Path a = dir.resolve("a.engram");
        Path b = dir.resolve("b.engram");
        Path mem = dir.resolve("m.engram");
        Path hnn = dir.resolve("h.engram");
        for (String[] args : List.of(
                new String[] {"train", "--data", csv.toString(), "--strategy", "store", "--to", to, "--model",
                        a.toString()},
                new String[] {"train", "--data", csv.toString(), "--strategy", "store", "--to", to, "--horizon", "2",
                        "--model", b.toString()},
                new String[] {"train", "--data", csv.toString(), "--strategy", "memory", "--to", to, "--model",
                        mem.toString()},
                new String[] {"train", "--data", csv.toString(), "--strategy", "hnn", "--to", to, "--model",
                        hnn.toString()})) {
            RunCommandTest.Result r = RunCommandTest.run(args);
            assertEquals(0, r.code(), r.err());
        }
        Path store = dir.resolve("watch/a.eps");
        Path log = dir.resolve("watch/a.jsonl");
        RunCommandTest.Result r = RunCommandTest.run("watch", "--model", a.toString(), "--store", store.toString(),
                "--file", csv.toString(), "--catch-up", "5", "--max-decisions", "5", "--log", log.toString());
        assertEquals(0, r.code(), r.err());
        long learned = Files.readAllLines(log).stream().filter(l -> l.contains("\"type\":\"learned\"")).count();
        // the patterns of bars 1199 .. 1348 (horizon 1: bar j's outcome is known at bar j + 1's close); the training
        // held those up to bar 1198
        assertEquals(1350 - 1200, learned);
        // a restart after 50 more bars: it learns on from where the store file got to, nothing twice
        List<String> rows = Files.readAllLines(dir.resolve("full.csv"));
        Files.write(csv, rows.subList(1 + 1350, rows.size()), java.nio.file.StandardOpenOption.APPEND);
        r = RunCommandTest.run("watch", "--model", a.toString(), "--store", store.toString(), "--file",
                csv.toString(), "--max-decisions", "3", "--log", log.toString());
        assertEquals(0, r.code(), r.err());
        List<Long> bars = Files.readAllLines(log).stream().filter(l -> l.contains("\"type\":\"learned\""))
                .map(l -> Long.parseLong(l.replaceAll(".*\"bar_ms\":(\\d+).*", "$1"))).toList();
        assertEquals(bars.size(), new java.util.HashSet<>(bars).size(), "a pattern learned twice");
        assertEquals(1400 - 1200, bars.size(), "learned in all, before and after the restart");
        assertEquals(btc.startMs(1199), bars.getFirst());
        assertEquals(btc.startMs(1398), bars.getLast());
        for (int i = 1; i < bars.size(); i++) {
            assertTrue(bars.get(i) > bars.get(i - 1), "in bar order, none skipped back");
        }

        byte[] before = Files.readAllBytes(store);
        // a fresh log with --catch-up 3 would decide bars 1397 and 1398 against patterns realised at 1398 and 1399
        r = RunCommandTest.run("watch", "--model", a.toString(), "--store", store.toString(), "--file",
                csv.toString(), "--catch-up", "3", "--max-decisions", "3", "--log",
                dir.resolve("watch/fresh.jsonl").toString());
        assertOneLine(r);
        assertTrue(r.err().contains(store + " has learned through bar " + java.time.Instant.ofEpochMilli(
                btc.startMs(1399))) && r.err().contains("use the --log that grew this store, or a new --store path"),
                r.err());
        assertArrayEquals(before, Files.readAllBytes(store));
        assertFalse(Files.exists(dir.resolve("watch/a.eps.lock")), "the lock is released and deleted");
        // a second watch on a store file in use
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(dir.resolve("watch/a.eps.lock"),
                java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE);
             java.nio.channels.FileLock held = ch.lock()) {
            r = RunCommandTest.run("watch", "--model", a.toString(), "--store", store.toString(), "--file",
                    csv.toString(), "--max-decisions", "1", "--log", log.toString());
            assertOneLine(r);
            assertTrue(r.err().contains(store + " is in use by another engram watch"), r.err());
        }
        assertArrayEquals(before, Files.readAllBytes(store));
        r = RunCommandTest.run("watch", "--model", b.toString(), "--store", store.toString(), "--file",
                csv.toString(), "--max-decisions", "1", "--log", dir.resolve("watch/b.jsonl").toString());
        assertOneLine(r);
        assertTrue(r.err().contains("--store " + store + " was not grown from this model's pattern store")
                && r.err().contains("give a new --store path"), r.err());
        assertArrayEquals(before, Files.readAllBytes(store));

        r = RunCommandTest.run("watch", "--model", mem.toString(), "--store", store.toString(), "--file",
                csv.toString(), "--max-decisions", "1", "--log", dir.resolve("watch/m.jsonl").toString());
        assertOneLine(r);
        assertTrue(r.err().contains("--model " + mem + " is a memory model")
                && r.err().contains("engram train --strategy store"), r.err());
        assertArrayEquals(before, Files.readAllBytes(store));

        // an hnn model is refused, saying why and what to use (README: the live loop, for the whole reason)
        r = RunCommandTest.run("watch", "--model", hnn.toString(), "--file", csv.toString(), "--max-decisions", "1",
                "--log", dir.resolve("watch/h.jsonl").toString());
        assertOneLine(r);
        assertTrue(r.err().contains("--model " + hnn + " is an hnn model") && r.err().contains("engram forecast"),
                r.err());
        assertFalse(Files.exists(dir.resolve("watch/h.jsonl")));
    }
}
