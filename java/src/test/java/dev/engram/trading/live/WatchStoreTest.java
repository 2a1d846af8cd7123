package dev.engram.trading.live;

import com.fasterxml.jackson.databind.JsonNode;
import dev.engram.engine.Backends;
import dev.engram.hopfield.PatternStore;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketFeatures;
import dev.engram.trading.backtest.TrainingSet;
import dev.engram.trading.backtest.WalkForward;
import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.features.MarketPattern;
import dev.engram.trading.strategy.HnnStrategy;
import dev.engram.trading.strategy.Strategies;
import dev.engram.trading.strategy.StoreStrategy;
import dev.engram.trading.strategy.TrainedModel;
import mockwebserver3.MockWebServer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static dev.engram.trading.live.WatchTest.FakeTime;
import static dev.engram.trading.live.WatchTest.H;
import static dev.engram.trading.live.WatchTest.Replay;
import static dev.engram.trading.live.WatchTest.Run;
import static dev.engram.trading.live.WatchTest.S;
import static dev.engram.trading.live.WatchTest.closeOf;
import static dev.engram.trading.live.WatchTest.read;
import static dev.engram.trading.live.WatchTest.strip;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code watch --store}: the pattern store learns online. Replayed on the fake clock against the Bybit replay server of
 * {@link WatchTest} (gap, late bar, revised duplicate, exchange errors) and against a file: the store grows by exactly
 * the patterns whose outcome the accepted closed bars realise, each learned at the bar that realises it and before
 * that bar is decided; the decisions equal those of a store built from the same bars by the training code's own
 * labelling ({@link TrainingSet}); bars planted after t change nothing learned or decided up to t; a restart neither
 * learns a pattern twice nor skips one; a store file of another model is refused with one line.
 */
class WatchStoreTest {
    /** Outcome horizon and embargo of the model: labels lag 3 bars, and the 2 embargoed ones are learned online. */
    static final int HORIZON = 3;
    static final int EMBARGO = 2;

    @TempDir
    Path dir;

    @BeforeAll
    static void sample() {
        WatchTest.sample();
    }

    /** A store model trained on the bars before S (horizon 3, embargo 2), written and read back as watch reads it. */
    TrainedModel model(String kind, Strategies.Settings settings, TrainedModel.Features f, String name)
            throws Exception {
        Path file = dir.resolve(name + ".engram");
        if (!Files.exists(file)) {
            MarketData b = f.of(WatchTest.btc.slice(0, S));
            try (TrainedModel m = TrainedModel.train(kind, settings, HnnStrategy.Kind.HNN, List.of(), f,
                    b, List.of(b), b.features().first(), S, HORIZON, EMBARGO)) {
                m.save(file);
            }
        }
        return TrainedModel.load(file, Backends.select("auto"), List.of());
    }

    TrainedModel model() throws Exception {
        return model("store", WatchTest.settings(), WatchTest.features, "store");
    }

    /** The settings of {@link WatchTest#settings()} with β fixed at 16 instead of calibrated. */
    static Strategies.Settings fixedBeta() {
        Strategies.Settings s = WatchTest.settings();
        return new Strategies.Settings(s.engine(), 16, s.targetConfidence(), s.k(), s.signal(), s.risk(), s.seed());
    }

    static Run watch(TrainedModel m, BarFeed feed, FakeTime time, Path log, Path store, long untilMs, int catchUp)
            throws Exception {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        SignalLoop loop = new SignalLoop(m, "store.engram", feed, DecisionLog.open(log), time::now, time::sleep,
                SignalLoop.Settings.defaults().withCatchUp(catchUp).withHistoryBars(0).withPolling(1_000, 2 * H),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), store);
        try (loop) {
            SignalLoop.Stats st = loop.run(0, untilMs);
            return new Run(read(log), st, loop.series(), err.toString(StandardCharsets.UTF_8));
        }
    }

    static List<JsonNode> ofType(List<JsonNode> lines, String type) {
        return lines.stream().filter(l -> l.get("type").asText().equals(type)).toList();
    }

    /**
     * The patterns a store learning from {@code series} must hold beyond the model's: every bar j with features,
     * j + h at most the last bar, starting after the model's newest pattern, not a zero row; as bar starts.
     */
    static List<Long> expectedLearned(BarSeries series, long modelNewestMs) {
        MarketData md = WatchTest.features.of(series);
        List<Long> out = new ArrayList<>();
        for (int j = md.features().first(); j + HORIZON < series.size(); j++) {
            float[] x = md.viewAt(j).features(j);
            boolean zero = true;
            for (float v : x) {
                zero &= v == 0;
            }
            if (series.startMs(j) > modelNewestMs && !zero) {
                out.add(series.startMs(j));
            }
        }
        return out;
    }

    /**
     * The decisions of a store built from the same bars by the training code: a fresh copy of the model that, before
     * each decided bar t, learns the rows of the training set of a fold whose test window starts at t + 1 (labels
     * realised by the close of t, no embargo), then decides t. Compared with the loop's decisions: both make single
     * queries, so the only differences are float32 rounding.
     */
    void assertStoreBuiltDecisions(BarSeries series, List<JsonNode> decisions) throws Exception {
        MarketData md = WatchTest.features.of(series);
        int first = md.features().first();
        int changed = 0;
        try (TrainedModel fresh = model(); TrainedModel frozen = model()) {
            StoreStrategy ss = (StoreStrategy) fresh.strategy();
            int trainFrom = series.indexOf(fresh.data().firstBarMs());
            assertEquals(first, trainFrom);
            for (JsonNode d : decisions) {
                int t = series.indexOf(d.get("bar_ms").asLong());
                TrainingSet ts = TrainingSet.of(md, List.of(md), new WalkForward.Fold(0, trainFrom, t + 1, t + 2),
                        new WalkForward(t + 1 - trainFrom, 1, HORIZON, 0, true));
                ss.learn(ts);
                var want = ss.decide(md.viewAt(t));
                assertEquals(want.signal(), d.get("signal").asDouble(), 1e-7, "signal at bar " + t);
                assertEquals(want.position(), d.get("position").asDouble(), 1e-4, "position at bar " + t);
                assertEquals(want.confidence(), d.get("confidence").asDouble(), 1e-6, "confidence at bar " + t);
                // what the learning is for: the model without it decides otherwise
                var old = frozen.strategy().decide(md.viewAt(t));
                changed += Math.abs(old.signal() - want.signal()) > 1e-6 ? 1 : 0;
            }
        }
        assertTrue(changed > decisions.size() / 4, "learning changed " + changed + " of " + decisions.size()
                + " decisions; too few to show that the learned patterns are used");
    }

    @Test
    void replayedExchangeLearnsExactlyThePatternsItsClosedBarsRealiseAndDecidesAsAStoreBuiltFromThem()
            throws Exception {
        FakeTime time = new FakeTime(closeOf(1739) + 1000);
        long newest;
        int modelSize;
        try (TrainedModel m = model()) {
            newest = ((StoreStrategy) m.strategy()).state().lastInsertedMs();
            modelSize = ((StoreStrategy) m.strategy()).storeSize();
        }
        try (MockWebServer server = new MockWebServer(); TrainedModel m = model()) {
            Replay replay = new Replay(time);
            server.setDispatcher(replay);
            server.start(InetAddress.getByName("127.0.0.1"), 0);
            Path log = dir.resolve("bybit.jsonl");
            Path store = dir.resolve("bybit.eps");
            Run run = watch(m, WatchTest.bybit(server, time), time, log, store, closeOf(WatchTest.BARS - 1) + 2 * H,
                    10_000);
            BarSeries series = run.series();
            List<JsonNode> learned = ofType(run.lines(), "learned");
            List<Long> got = learned.stream().map(l -> l.get("bar_ms").asLong()).toList();
            assertEquals(expectedLearned(series, newest), got, "the learned patterns, in order, once each");
            // the gap bars and the late bar are not in the series, so not learned; the revised bar is, once
            for (int i : new int[] {1750, 1751, 1752, 1800}) {
                assertFalse(got.contains(WatchTest.btc.startMs(i)), "bar " + i + " learned");
            }
            assertTrue(got.contains(WatchTest.btc.startMs(1850)));
            // the embargoed patterns of training are learned at the bar that realises them
            assertEquals(WatchTest.btc.startMs(S - HORIZON - EMBARGO), got.getFirst());
            // each one at the bar whose close realises it (index + h in the accepted series) with that outcome
            for (JsonNode l : learned) {
                int j = series.indexOf(l.get("bar_ms").asLong());
                assertEquals(series.startMs(j + HORIZON), l.get("known_at_ms").asLong(), l.toString());
                assertEquals(series.close(j + HORIZON) / series.close(j) - 1, l.get("outcome").asDouble(), 1e-15);
            }
            // learned before the decision of the bar that realised it, never after a later bar's decision
            long lastDecided = Long.MIN_VALUE;
            for (JsonNode l : run.lines()) {
                if (l.get("type").asText().equals("decision")) {
                    lastDecided = l.get("bar_ms").asLong();
                } else if (l.get("type").asText().equals("learned")) {
                    assertTrue(l.get("known_at_ms").asLong() > lastDecided, "learned after a later bar was decided: "
                            + l);
                }
            }
            // the file holds the model's store and what was added (merges and additions both counted once)
            long added = learned.stream().filter(l -> l.get("action").asText().equals("added")).count();
            try (PatternStore ps = PatternStore.load(store, Backends.select("auto"))) {
                assertEquals(modelSize + added, ps.size());
                assertEquals(got.getLast(), ps.latestDateMs());
                assertEquals(ps.size(), learned.getLast().get("store_size").asInt());
            }
            assertTrue(added > 100 && added < learned.size(), added + " added of " + learned.size()
                    + " learned: both additions and merges should occur");
            List<JsonNode> ds = ofType(run.lines(), "decision");
            assertEquals(WatchTest.BARS - (S - 1) - 4, ds.size());
            assertStoreBuiltDecisions(series, ds);
            System.out.printf("watch --store replay: %d decisions, %d patterns learned (%d added), store %d -> %d; "
                            + "decision latency with learning and the store write mean %.2f ms, max %.2f ms%n",
                    ds.size(), learned.size(), added, modelSize, modelSize + added, run.stats().meanLatencyMs(),
                    run.stats().maxLatencyMs());
        }
    }

    @Test
    void barsPlantedAfterTChangeNothingLearnedOrDecidedUpToT() throws Exception {
        int t = 1900;
        BarSeries real = WatchTest.btc;
        List<Bar> planted = new ArrayList<>();
        for (int i = 0; i < real.size(); i++) {
            Bar b = real.bar(i);
            double f = i <= t ? 1 : 1 + 0.3 * Math.sin(i); // a wild future, every price scaled alike
            planted.add(new Bar(b.startMs(), b.open() * f, b.high() * f, b.low() * f, b.close() * f, b.volume(),
                    b.turnover()));
        }
        Map<String, List<JsonNode>> runs = new HashMap<>();
        for (var e : Map.of("real", real, "planted", BarSeries.of(real.symbol(), real.interval(), planted))
                .entrySet()) {
            Path csv = dir.resolve(e.getKey() + "/SYNBTC-60.csv");
            Files.createDirectories(csv.getParent());
            CsvBars.write(csv, e.getValue());
            // one poll sees every bar at once: the loop itself must keep to bars <= each decided bar
            FakeTime time = new FakeTime(closeOf(real.size() - 1) + 1000);
            try (TrainedModel m = model()) {
                Run r = watch(m, new FileBarFeed(csv, real.interval()), time, dir.resolve(e.getKey() + ".jsonl"),
                        dir.resolve(e.getKey() + ".eps"), time.now() + 1, 10_000);
                assertEquals(1, r.stats().polls());
                runs.put(e.getKey(), r.lines());
            }
        }
        long cut = real.startMs(t);
        List<JsonNode> a = upTo(runs.get("real"), cut);
        List<JsonNode> b = upTo(runs.get("planted"), cut);
        assertTrue(ofType(a, "learned").size() > 150 && ofType(a, "decision").size() > 150, a.size() + " lines");
        assertEquals(strip(a), strip(b));
        // and the plant did change what came after t
        assertNotEquals(strip(runs.get("real")), strip(runs.get("planted")));
    }

    /** Learned and decision lines whose bar (decisions) or realising bar (learned) starts at or before {@code cut}. */
    static List<JsonNode> upTo(List<JsonNode> lines, long cut) {
        return lines.stream().filter(l -> switch (l.get("type").asText()) {
            case "decision" -> l.get("bar_ms").asLong() <= cut;
            case "learned" -> l.get("known_at_ms").asLong() <= cut;
            default -> false;
        }).toList();
    }

    @Test
    void aRestartFromTheLogAndTheStoreNeitherLearnsTwiceNorSkips() throws Exception {
        Run whole;
        try (MockWebServer server = new MockWebServer(); TrainedModel m = model()) {
            FakeTime time = new FakeTime(closeOf(1739) + 1000);
            server.setDispatcher(new Replay(time));
            server.start(InetAddress.getByName("127.0.0.1"), 0);
            whole = watch(m, WatchTest.bybit(server, time), time, dir.resolve("whole.jsonl"),
                    dir.resolve("whole.eps"), closeOf(2000) + H, 10_000);
        }
        Path log = dir.resolve("restarted.jsonl");
        Path store = dir.resolve("restarted.eps");
        try (MockWebServer server = new MockWebServer()) {
            FakeTime time = new FakeTime(closeOf(1739) + 1000);
            server.setDispatcher(new Replay(time));
            server.start(InetAddress.getByName("127.0.0.1"), 0);
            try (TrainedModel m = model()) {
                watch(m, WatchTest.bybit(server, time), time, log, store, closeOf(1860), 10_000);
            }
            Files.writeString(log, "{\"type\":\"learned\",\"bar\":\"20", StandardOpenOption.APPEND);
            time.sleep(5 * H);
            try (TrainedModel m = model()) {
                Run second = watch(m, WatchTest.bybit(server, time), time, log, store, closeOf(2000) + H, 1);
                assertEquals(strip(ofType(whole.lines(), "decision")), strip(ofType(second.lines(), "decision")));
                assertEquals(ofType(whole.lines(), "learned"), ofType(second.lines(), "learned"));
                Set<Long> once = new HashSet<>();
                for (JsonNode l : ofType(second.lines(), "learned")) {
                    assertTrue(once.add(l.get("bar_ms").asLong()), "learned twice: " + l);
                }
            }
        }
        try (PatternStore a = PatternStore.load(dir.resolve("whole.eps"), Backends.select("auto"));
             PatternStore b = PatternStore.load(store, Backends.select("auto"))) {
            assertEquals(a.size(), b.size());
            assertEquals(a.latestDateMs(), b.latestDateMs());
            assertTrue(a.divergenceFrom(b).isEmpty() && b.divergenceFrom(a).isEmpty());
        }
    }

    @Test
    void aHistoryThatStartsAfterTheStoresNewestPatternIsSaidInOneLine() throws Exception {
        FakeTime time = new FakeTime(closeOf(1739) + 1000);
        try (MockWebServer server = new MockWebServer(); TrainedModel m = model()) {
            server.setDispatcher(new Replay(time));
            server.start(InetAddress.getByName("127.0.0.1"), 0);
            ByteArrayOutputStream err = new ByteArrayOutputStream();
            // the store's newest pattern is bar S - 1 - HORIZON - EMBARGO; 300 bars of history (features from
            // their warm-up on) reach back before it, 60 do not
            for (int bars : new int[] {300, 60}) {
                err.reset();
                SignalLoop loop = new SignalLoop(m, "store.engram", WatchTest.bybit(server, time),
                        DecisionLog.open(dir.resolve("h" + bars + ".jsonl")), time::now, time::sleep,
                        SignalLoop.Settings.defaults().withHistoryBars(bars).withPolling(1_000, 2 * H),
                        new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                        new PrintStream(err, true, StandardCharsets.UTF_8), dir.resolve("h" + bars + ".eps"));
                try (loop) {
                    loop.run(1, Long.MAX_VALUE);
                }
                String e = err.toString(StandardCharsets.UTF_8);
                assertEquals(bars == 60, e.contains("the patterns between are not learned (give more "
                        + "--history-bars)"), bars + " bars: " + e);
            }
        }
    }

    @Test
    void aStoreFileOfAnotherModelOrDimensionIsRefusedNamingTheFile() throws Exception {
        // same store settings (β fixed), other features: told apart by the patterns themselves
        Path other = dir.resolve("other.eps");
        TrainedModel.Features shorter = new TrainedModel.Features(MarketFeatures.DEFAULT_LOOKBACK,
                MarketFeatures.DEFAULT_Z_WINDOW / 2, MarketPattern.DIM, WatchTest.btc.interval().barsPerYear());
        try (TrainedModel o = model("store", fixedBeta(), shorter, "other")) {
            ((StoreStrategy) o.strategy()).saveStore(other);
        }
        // another model's β: told apart by the settings
        Path calibrated = dir.resolve("calibrated.eps");
        try (TrainedModel o = model()) {
            ((StoreStrategy) o.strategy()).saveStore(calibrated);
        }
        Path small = dir.resolve("small.eps");
        try (PatternStore s = new PatternStore(PatternStore.Config.defaults(3, 10), Backends.select("auto"))) {
            s.insert(new float[] {1, 0, 0}, 0.01, 0);
            s.save(small);
        }
        Path csv = dir.resolve("SYNBTC-60.csv");
        CsvBars.write(csv, WatchTest.btc);
        FakeTime time = new FakeTime(closeOf(WatchTest.BARS - 1) + 1000);
        Map<Path, String> why = Map.of(other, "slot ", small,
                "it holds patterns of dimension 3, the model's store " + MarketPattern.DIM, calibrated,
                "its settings");
        for (Path bad : List.of(other, small, calibrated)) {
            byte[] before = Files.readAllBytes(bad);
            try (TrainedModel m = model("store", fixedBeta(), WatchTest.features, "fixed")) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> watch(m,
                        new FileBarFeed(csv, WatchTest.btc.interval()), time, dir.resolve("x.jsonl"), bad,
                        time.now() + 1, 1));
                assertTrue(e.getMessage().startsWith(bad + " was not grown from this model's pattern store: "),
                        e.getMessage());
                assertFalse(e.getMessage().contains("\n"));
                assertTrue(e.getMessage().contains(why.get(bad)), e.getMessage());
            }
            assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(bad)), "the refused file is left as it was");
        }
        try (TrainedModel memory = model("memory", WatchTest.settings(), WatchTest.features, "memory")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> watch(memory,
                    new FileBarFeed(csv, WatchTest.btc.interval()), time, dir.resolve("y.jsonl"),
                    dir.resolve("m.eps"), time.now() + 1, 1));
            assertTrue(e.getMessage().contains("is a memory model; train one with engram train --strategy store"),
                    e.getMessage());
        }
    }

    Path csv(BarSeries series) throws Exception {
        Path csv = dir.resolve("SYNBTC-60-" + series.size() + "-" + series.bar(series.size() - 1).close() + ".csv");
        CsvBars.write(csv, series);
        return csv;
    }

    @Test
    void aStoreThatLearnedPastTheNextBarAFreshLogWouldDecideIsRefusedNamingTheFileAndTheBar() throws Exception {
        Path csv = csv(WatchTest.btc);
        Path store = dir.resolve("grown.eps");
        FakeTime time = new FakeTime(closeOf(1739) + 1000);
        try (TrainedModel m = model()) {
            Run first = watch(m, new FileBarFeed(csv, WatchTest.btc.interval()), time, dir.resolve("grown.jsonl"),
                    store, closeOf(1860) + 5000, 10_000);
            assertFalse(ofType(first.lines(), "learned").isEmpty());
        }
        long through = new com.fasterxml.jackson.databind.ObjectMapper().readTree(SignalLoop.throughFile(store)
                .toFile()).get("learned_through_ms").asLong();
        assertEquals(WatchTest.btc.startMs(1860), through, "learned through the last bar's close");
        byte[] before = Files.readAllBytes(store);
        // a fresh log with catch-up 3 would decide 1858..1860 against patterns realised at 1859 and 1860
        for (boolean oldFile : new boolean[] {false, true}) {
            if (oldFile) {
                Files.delete(SignalLoop.throughFile(store)); // as an older engram left it
            }
            Path fresh = dir.resolve("fresh-" + oldFile + ".jsonl");
            try (TrainedModel m = model()) {
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> watch(m,
                        new FileBarFeed(csv, WatchTest.btc.interval()), time, fresh, store, time.now() + 1, 3));
                assertTrue(e.getMessage().startsWith(store.toString()), e.getMessage());
                assertTrue(e.getMessage().endsWith("use the --log that grew this store, or a new --store path"),
                        e.getMessage());
                assertFalse(e.getMessage().contains("\n"));
                if (!oldFile) {
                    assertTrue(e.getMessage().contains("learned through bar "
                            + java.time.Instant.ofEpochMilli(through) + ", after bar " + java.time.Instant
                            .ofEpochMilli(WatchTest.btc.startMs(1858))), e.getMessage());
                }
            }
            assertTrue(!Files.exists(fresh) || ofType(read(fresh), "decision").isEmpty(), "nothing decided");
            assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(store)), "the store is left as it was");
            assertFalse(Files.exists(SignalLoop.lockFile(store)), "the lock is gone");
        }
        // the log that grew it goes on (its learned lines say through which bar the old file learned)
        try (TrainedModel m = model()) {
            time.sleep(2 * H);
            Run on = watch(m, new FileBarFeed(csv, WatchTest.btc.interval()), time, dir.resolve("grown.jsonl"),
                    store, time.now() + 1, 1);
            assertEquals(WatchTest.btc.startMs(1862), ofType(on.lines(), "decision").getLast().get("bar_ms").asLong());
        }
    }

    @Test
    void aSecondWatchOnTheSameStoreFileIsRefusedInOneLineUntilTheFirstStops() throws Exception {
        Path csv = csv(WatchTest.btc);
        Path store = dir.resolve("shared.eps");
        FakeTime time = new FakeTime(closeOf(1739) + 1000);
        try (TrainedModel m = model(); TrainedModel m2 = model()) {
            SignalLoop.Settings st = SignalLoop.Settings.defaults().withHistoryBars(0);
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
            SignalLoop a = new SignalLoop(m, "store.engram", new FileBarFeed(csv, WatchTest.btc.interval()),
                    DecisionLog.open(dir.resolve("a.jsonl")), time::now, time::sleep, st, quiet, quiet, store);
            assertTrue(Files.exists(SignalLoop.lockFile(store)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SignalLoop(m2,
                    "store.engram", new FileBarFeed(csv, WatchTest.btc.interval()),
                    DecisionLog.open(dir.resolve("b.jsonl")), time::now, time::sleep, st, quiet, quiet, store));
            assertEquals(store + " is in use by another engram watch (" + SignalLoop.lockFile(store) + " is locked); "
                    + "stop that one or give another --store path", e.getMessage());
            a.close();
            assertFalse(Files.exists(SignalLoop.lockFile(store)));
            try (SignalLoop b = new SignalLoop(m2, "store.engram", new FileBarFeed(csv, WatchTest.btc.interval()),
                    DecisionLog.open(dir.resolve("b.jsonl")), time::now, time::sleep, st, quiet, quiet, store)) {
                assertTrue(Files.exists(SignalLoop.lockFile(store)));
            }
        }
    }

    /** A feed that runs {@code breakIt} once, just before serving the poll at or after {@code atMs}. */
    static BarFeed breaking(BarFeed f, long atMs, Runnable breakIt) {
        return new BarFeed() {
            boolean done;

            @Override
            public String symbol() {
                return f.symbol();
            }

            @Override
            public dev.engram.trading.data.Interval interval() {
                return f.interval();
            }

            @Override
            public List<Bar> closedBars(long fromMs, long nowMs) throws java.io.IOException {
                if (!done && nowMs >= atMs) {
                    done = true;
                    breakIt.run();
                }
                return f.closedBars(fromMs, nowMs);
            }
        };
    }

    @Test
    void aFailedWriteOfTheLogOrTheStoreStopsTheLoopNamingTheFileAndARestartRedoesIt() throws Exception {
        Path csv = csv(WatchTest.btc);
        long end = closeOf(1800) + 1000;
        Run whole;
        try (TrainedModel m = model()) {
            whole = watch(m, new FileBarFeed(csv, WatchTest.btc.interval()), new FakeTime(closeOf(1739) + 1000),
                    dir.resolve("whole.jsonl"), dir.resolve("whole.eps"), end, 10_000);
        }
        for (String broken : List.of("log", "store")) {
            Path log = dir.resolve(broken + ".jsonl");
            Path store = dir.resolve(broken + ".eps");
            Path target = broken.equals("log") ? log : store;
            Path aside = dir.resolve(broken + ".aside");
            FakeTime time = new FakeTime(closeOf(1739) + 1000);
            // the file becomes a folder (a write to it fails as on a full disk) just before the poll of bar 1770
            BarFeed feed = breaking(new FileBarFeed(csv, WatchTest.btc.interval()), closeOf(1770), () -> {
                try {
                    Files.move(target, aside);
                    Files.createDirectories(target.resolve("in-the-way"));
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            try (TrainedModel m = model()) {
                SignalLoop.LocalWriteException e = assertThrows(SignalLoop.LocalWriteException.class,
                        () -> watch(m, feed, time, log, store, end, 10_000));
                assertTrue(e.getMessage().startsWith("could not write " + target + " ("), e.getMessage());
                assertFalse(e.getMessage().contains("\n"));
            }
            Files.delete(target.resolve("in-the-way"));
            Files.delete(target);
            Files.move(aside, target);
            try (TrainedModel m = model()) {
                Run second = watch(m, new FileBarFeed(csv, WatchTest.btc.interval()), time, log, store, end, 1);
                assertEquals(strip(ofType(whole.lines(), "decision")), strip(ofType(second.lines(), "decision")),
                        broken);
                if (broken.equals("store")) { // a failed log write leaves out the learned lines of its poll
                    assertEquals(ofType(whole.lines(), "learned"), ofType(second.lines(), "learned"), broken);
                }
            }
        }
    }

    @Test
    void aPatternWithANonFiniteOutcomeIsSkippedWithALoggedLineAndTheLoopAndARestartGoOn() throws Exception {
        // bar 1790 closes at the smallest double: its pattern's forward return c_1793 / c_1790 - 1 overflows
        List<Bar> bars = new ArrayList<>(WatchTest.btc.bars());
        Bar b = bars.get(1790);
        bars.set(1790, new Bar(b.startMs(), b.open(), b.high(), Double.MIN_VALUE, Double.MIN_VALUE, b.volume(),
                b.turnover()));
        BarSeries odd = BarSeries.of(WatchTest.btc.symbol(), WatchTest.btc.interval(), bars);
        Path csv = csv(odd);
        Path log = dir.resolve("odd.jsonl");
        Path store = dir.resolve("odd.eps");
        FakeTime time = new FakeTime(closeOf(1739) + 1000);
        try (TrainedModel m = model()) {
            watch(m, new FileBarFeed(csv, WatchTest.btc.interval()), time, log, store, closeOf(1795) + 1000, 10_000);
        }
        try (TrainedModel m = model()) {
            Run second = watch(m, new FileBarFeed(csv, WatchTest.btc.interval()), time, log, store,
                    closeOf(1810) + 5000, 1);
            List<JsonNode> skipped = ofType(second.lines(), "skipped");
            assertFalse(skipped.isEmpty());
            assertEquals(WatchTest.btc.startMs(1790), skipped.getFirst().get("bar_ms").asLong(), skipped.toString());
            assertTrue(skipped.getFirst().get("why").asText().contains("is not finite"), skipped.toString());
            List<JsonNode> decisions = ofType(second.lines(), "decision");
            assertEquals(WatchTest.btc.startMs(1810), decisions.getLast().get("bar_ms").asLong());
            long firstMs = decisions.getFirst().get("bar_ms").asLong();
            assertEquals((WatchTest.btc.startMs(1810) - firstMs) / H + 1, decisions.size(),
                    "every bar from the first decided or logged as not decided");
            for (JsonNode l : ofType(second.lines(), "learned")) {
                assertNotEquals(WatchTest.btc.startMs(1790), l.get("bar_ms").asLong());
            }
        }
    }
}
