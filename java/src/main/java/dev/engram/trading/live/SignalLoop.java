package dev.engram.trading.live;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.trading.backtest.Decision;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketView;
import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.HttpFetcher;
import dev.engram.trading.data.Interval;
import dev.engram.trading.strategy.MemoryStrategy;
import dev.engram.trading.strategy.SimilarPattern;
import dev.engram.trading.strategy.StoreStrategy;
import dev.engram.trading.strategy.TrainedModel;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;

/**
 * The live signal loop: polls a {@link BarFeed}, and for each newly closed bar t asks the trained strategy for its
 * decision from the bars up to t (a {@link MarketView} at t over the bars the loop has accepted), prints one line and
 * appends it to the {@link DecisionLog}.
 * <p>
 * Which bars: a bar is <b>accepted</b> when it starts after the last accepted bar (a later start across missing bars
 * is a <b>gap</b>: noted in the decision as {@code gap_bars}); a bar with the start of an accepted one is a
 * <b>duplicate</b> and dropped (a different duplicate is noted once: the first version stands); a bar that starts
 * before the last accepted one and was never seen is <b>late</b>: the decisions already made stand, it is logged as
 * late and left out of the series for good (so later features are those the loop computed, and a restart leaves it
 * out as well). An accepted bar is decided when it starts at or after the end of the model's training data and after
 * the last decision in the log; on a fresh log only the newest {@code catchUp} of the bars already closed at start are
 * decided. So the decisions are those of a walk-forward backtest over the accepted bars whose single fold starts where
 * the model's training window ends, and a restarted loop neither repeats nor skips a bar.
 * <p>
 * With a store file ({@code watch --store}), the store model learns online: before bar t is decided, every pattern
 * whose outcome the closes up to t realise is inserted into its pattern store (read through the view at t, which
 * refuses later bars), the store is written to the file (temporary file, then a move) and one {@code "learned"} line
 * per pattern is logged; a restart takes the store from the file and learns only what it lacks. Beside the file,
 * {@code FILE.through} (written before it) records the bar through which it has learned; bars before it are never
 * decided (a fresh log on a grown store is refused: that would be look-ahead), and {@code FILE.lock} is held while
 * the loop lives ({@link #close} releases and deletes it). Patterns whose features or outcome are not finite are
 * logged as {@code "skipped"}, not learned. A failed local write (log, store) is fatal: {@link LocalWriteException}.
 * <p>
 * Failures of the feed (after the exchange client's own retries) are one line on the error stream and a backoff
 * (doubling from {@code backoffBaseMs} to {@code backoffMaxMs}); the loop then polls again. Time comes from an
 * injected clock and sleeper, so tests replay hours of bars without waiting.
 */
public final class SignalLoop implements AutoCloseable {
    /**
     * @param catchUp        on a fresh log, decide at most this many of the bars already closed at start (≥ 1)
     * @param historyBars    bars of history fetched before the first decision (0: all the feed has)
     * @param lateWindowBars how far back each poll looks for late bars, in bars
     * @param settleMs       wait after a bar's close before polling for it (exchanges publish a moment later)
     * @param minPollMs      shortest wait between polls
     * @param maxPollMs      longest wait between polls
     * @param backoffBaseMs  first wait after a failed poll
     * @param backoffMaxMs   longest wait after failed polls
     */
    public record Settings(int catchUp, int historyBars, int lateWindowBars, long settleMs, long minPollMs,
                           long maxPollMs, long backoffBaseMs, long backoffMaxMs) {
        public Settings {
            if (catchUp < 1 || historyBars < 0 || lateWindowBars < 0 || minPollMs < 1 || maxPollMs < minPollMs
                    || backoffBaseMs < 1 || backoffMaxMs < backoffBaseMs) {
                throw new IllegalArgumentException("watch settings: catch-up >= 1, history >= 0, late window >= 0, "
                        + "1 <= min poll <= max poll, 1 <= backoff base <= backoff max");
            }
        }

        /** Catch-up 1 bar, 1000 bars of history, late bars looked for 5 bars back, 2 s settle, polls 1 s … 60 s. */
        public static Settings defaults() {
            return new Settings(1, 1000, 5, 2_000, 1_000, 60_000, 5_000, 300_000);
        }

        public Settings withCatchUp(int n) {
            return new Settings(n, historyBars, lateWindowBars, settleMs, minPollMs, maxPollMs, backoffBaseMs,
                    backoffMaxMs);
        }

        /** Polls at least {@code minMs} and at most {@code maxMs} apart (tests of hourly bars poll hourly). */
        public Settings withPolling(long minMs, long maxMs) {
            return new Settings(catchUp, historyBars, lateWindowBars, settleMs, minMs, maxMs, backoffBaseMs,
                    backoffMaxMs);
        }

        public Settings withHistoryBars(int n) {
            return new Settings(catchUp, n, lateWindowBars, settleMs, minPollMs, maxPollMs, backoffBaseMs,
                    backoffMaxMs);
        }
    }

    /** Counts of what the loop saw. */
    public record Stats(int polls, int decisions, int duplicates, int late, int gaps, int errors, double meanLatencyMs,
                        double maxLatencyMs, int learned) {
    }

    private final TrainedModel model;
    private final BarFeed feed;
    private final DecisionLog log;
    private final LongSupplier clock;
    private final HttpFetcher.Sleeper sleeper;
    private final Settings settings;
    private final PrintStream out;
    private final PrintStream err;
    private final String modelName;
    private final Interval interval;

    private final List<Bar> accepted = new ArrayList<>();
    private final Map<Long, Bar> byStart = new HashMap<>();
    private final Set<Long> late = new HashSet<>();
    private final Set<Long> revised = new HashSet<>();
    private final Map<Long, Integer> gapBefore = new HashMap<>();
    private long historyFromMs;
    private boolean first = true;
    private long backoffMs;
    private int polls;
    private int decisions;
    private int duplicates;
    private int lateCount;
    private int gaps;
    private int errors;
    private double latencySum;
    private double latencyMax;
    private final Path storeFile;
    private final StoreStrategy learner;
    private int learned;
    private final List<StoreStrategy.Learned> pending = new ArrayList<>();
    private boolean warnedHistory;
    /** Start of the bar whose close realised the newest pattern in the store file; decisions before it are refused. */
    private long learnedThroughMs = Long.MIN_VALUE;
    private FileChannel lockChannel;
    private FileLock lock;
    private Path lockFile;

    /**
     * A write to a local file (the log, the store file or its {@code .through} record) failed: fatal, since the bars
     * of the poll were already accepted and a retry would take them for duplicates. A restart redoes them.
     */
    public static final class LocalWriteException extends IOException {
        public LocalWriteException(Path file, IOException cause) {
            super("could not write " + file + " (" + oneLine(cause.getMessage()) + "); stopped: free the space or fix "
                    + "the permissions, then restart with the same --log" + " and --store, which redoes what was not "
                    + "written", cause);
        }
    }

    /**
     * @param modelName how the start line names the model (its file)
     */
    public SignalLoop(TrainedModel model, String modelName, BarFeed feed, DecisionLog log, LongSupplier clock,
                      HttpFetcher.Sleeper sleeper, Settings settings, PrintStream out, PrintStream err)
            throws IOException {
        this(model, modelName, feed, log, clock, sleeper, settings, out, err, null);
    }

    /**
     * A loop that also learns: each pattern whose outcome the closed bars realise is added to the store model's
     * pattern store ({@link StoreStrategy#learn(MarketView, int)}) before the bar is decided, the store is written to
     * {@code storeFile} (temporary file, then a move) and a {@code "learned"} line is logged per pattern. An existing
     * {@code storeFile} must be the model's store grown by an earlier run; it replaces the model's store, and what it
     * holds is not learned again.
     *
     * @param storeFile null: no learning
     * @throws IllegalArgumentException when the model is not a store model or the file was not grown from its store
     */
    public SignalLoop(TrainedModel model, String modelName, BarFeed feed, DecisionLog log, LongSupplier clock,
                      HttpFetcher.Sleeper sleeper, Settings settings, PrintStream out, PrintStream err, Path storeFile)
            throws IOException {
        if (feed.interval() != model.data().interval()) {
            throw new IllegalArgumentException("the feed gives " + feed.interval() + " bars but the model was trained "
                    + "on " + model.data().interval() + " bars; use the model's interval");
        }
        this.model = model;
        this.modelName = modelName;
        this.feed = feed;
        this.log = log;
        this.clock = clock;
        this.sleeper = sleeper;
        this.settings = settings;
        this.out = out;
        this.err = err;
        this.interval = feed.interval();
        this.backoffMs = settings.backoffBaseMs();
        this.storeFile = storeFile;
        if (storeFile == null) {
            this.learner = null;
        } else if (model.strategy() instanceof StoreStrategy ss) {
            this.learner = ss;
        } else {
            throw new IllegalArgumentException("--store learns into a pattern store: " + modelName + " is a "
                    + model.kind() + " model; train one with engram train --strategy store");
        }
        this.late.addAll(log.lateBars());
        if (log.start().isPresent()) {
            ObjectNode s = log.start().get();
            if (!s.path("symbol").asText().equals(feed.symbol()) || !s.path("interval").asText().equals(
                    interval.toString()) || !s.path("model_kind").asText().equals(model.kind())) {
                throw new IllegalArgumentException(log.file() + " was written for " + s.path("model_kind").asText()
                        + " decisions on " + s.path("symbol").asText() + " " + s.path("interval").asText() + ", not "
                        + model.kind() + " on " + feed.symbol() + " " + interval + "; give another --log");
            }
            historyFromMs = s.path("history_from_ms").asLong();
        } else {
            long now = clock.getAsLong();
            historyFromMs = settings.historyBars() == 0 ? 0 : now - (long) settings.historyBars()
                    * interval.nominalMillis();
        }
        if (learner != null) { // last: a refusal above leaves neither a lock nor a file behind
            lockStore();
            try {
                if (Files.exists(storeFile)) {
                    long modelNewest = learner.state().lastInsertedMs();
                    learner.adoptStore(storeFile);
                    learnedThroughMs = readThrough(learner, modelNewest, log);
                } else {
                    writeThrough(Long.MIN_VALUE);
                    saveStore();
                }
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
        }
    }

    /** The record beside a store file of the bar through which it has learned: {@code FILE.through}. */
    public static Path throughFile(Path storeFile) {
        return storeFile.resolveSibling(storeFile.getFileName() + ".through");
    }

    /** The lock file that keeps a second watch off a store file: {@code FILE.lock}. */
    public static Path lockFile(Path storeFile) {
        return storeFile.resolveSibling(storeFile.getFileName() + ".lock");
    }

    private void lockStore() throws IOException {
        Path lf = lockFile(storeFile);
        FileChannel ch = FileChannel.open(lf, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock l;
        try {
            l = ch.tryLock();
            if (l != null && !Files.exists(lf)) { // its holder deleted it as it stopped: lock the new one
                l.release();
                ch.close();
                ch = FileChannel.open(lf, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                l = ch.tryLock();
            }
        } catch (OverlappingFileLockException e) {
            l = null;
        }
        if (l == null) {
            ch.close();
            throw new IllegalArgumentException(storeFile + " is in use by another engram watch (" + lf + " is locked);"
                    + " stop that one or give another --store path");
        }
        lockChannel = ch;
        lock = l;
        lockFile = lf;
    }

    /** Releases and deletes the store file's lock (a no-op without a store). */
    @Override
    public synchronized void close() throws IOException {
        if (lock != null) {
            try {
                Files.deleteIfExists(lockFile);
                lock.release();
            } finally {
                lockChannel.close();
                lock = null;
            }
        }
    }

    /**
     * The bar through which an adopted store file has learned: its {@code .through} record; for a file without one
     * (written by an older engram) that holds patterns beyond the model's, the newest {@code known_at_ms} of the
     * log's learned lines (the log that grew it), and without those the file is refused.
     */
    private long readThrough(StoreStrategy ss, long modelNewestMs, DecisionLog log) throws IOException {
        Path tf = throughFile(storeFile);
        if (Files.exists(tf)) {
            try {
                com.fasterxml.jackson.databind.JsonNode j = new com.fasterxml.jackson.databind.ObjectMapper()
                        .readTree(Files.readString(tf));
                com.fasterxml.jackson.databind.JsonNode v = j.path("learned_through_ms");
                if (v.isNull()) {
                    return Long.MIN_VALUE;
                }
                if (v.isIntegralNumber()) {
                    return v.asLong();
                }
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                // reported below
            }
            throw new IllegalArgumentException(tf + " does not say through which bar " + storeFile + " has learned "
                    + "(no learned_through_ms); give a new --store path");
        }
        if (ss.state().lastInsertedMs() <= modelNewestMs) {
            return Long.MIN_VALUE; // nothing learned beyond the model's store
        }
        if (log.learned() > 0) {
            return log.maxKnownAtMs();
        }
        throw new IllegalArgumentException(storeFile + " has learned online but has no " + tf.getFileName()
                + " record of the bar it learned through (an older engram wrote it) and " + log.file() + " logs no "
                + "learning; use the --log that grew this store, or a new --store path");
    }

    /** Writes the {@code .through} record (temporary file, then a move); before the store file it describes. */
    private void writeThrough(long ms) throws IOException {
        Path tf = throughFile(storeFile);
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        if (ms == Long.MIN_VALUE) {
            o.putNull("learned_through_ms").putNull("learned_through");
        } else {
            o.put("learned_through_ms", ms).put("learned_through", Instant.ofEpochMilli(ms).toString());
        }
        try {
            dev.engram.tensor.AtomicFiles.writeString(tf, o + "\n");
        } catch (IOException e) {
            throw new LocalWriteException(tf, e);
        }
    }

    private void saveStore() throws IOException {
        try {
            learner.saveStore(storeFile);
        } catch (IOException e) {
            throw new LocalWriteException(storeFile, e);
        }
    }

    private void append(ObjectNode line) throws IOException {
        try {
            log.append(line);
        } catch (IOException e) {
            throw new LocalWriteException(log.file(), e);
        }
    }

    /** What the loop saw so far. */
    public Stats stats() {
        return new Stats(polls, decisions, duplicates, lateCount, gaps, errors,
                decisions == 0 ? Double.NaN : latencySum / decisions, latencyMax, learned);
    }

    /** The bars accepted so far, oldest first (what the decisions were computed from). */
    public BarSeries series() {
        return BarSeries.of(feed.symbol(), interval, accepted);
    }

    /**
     * Polls until {@code maxDecisions} decisions were made by this loop (0: no limit) or the clock reaches
     * {@code untilMs}, sleeping between polls.
     */
    public Stats run(int maxDecisions, long untilMs) throws IOException, InterruptedException {
        while ((maxDecisions == 0 || decisions < maxDecisions) && clock.getAsLong() < untilMs) {
            long wait;
            try {
                poll();
                backoffMs = settings.backoffBaseMs();
                wait = nextWait();
            } catch (LocalWriteException e) {
                throw e;
            } catch (IOException e) {
                errors++;
                wait = backoffMs;
                err.printf(Locale.ROOT, "engram watch: %s; retrying in %d s%n", oneLine(e.getMessage()),
                        Math.max(1, wait / 1000));
                backoffMs = Math.min(settings.backoffMaxMs(), 2 * backoffMs);
            }
            if ((maxDecisions == 0 || decisions < maxDecisions) && clock.getAsLong() < untilMs) {
                sleeper.sleep(Math.min(wait, Math.max(1, untilMs - clock.getAsLong())));
            }
        }
        return stats();
    }

    private static String oneLine(String s) {
        return s == null ? "failed" : s.replaceAll("\\s*\\R\\s*", " ").strip();
    }

    /**
     * Until the next bar should be out: the next bar close after now (on the grid of the last accepted bar) plus the
     * settle time; so during a gap or an outage the loop polls once per bar, not once per {@code minPollMs}.
     */
    private long nextWait() {
        long now = clock.getAsLong();
        if (accepted.isEmpty()) {
            return settings.minPollMs();
        }
        long close = interval.next(interval.next(accepted.getLast().startMs()));
        while (close + settings.settleMs() <= now) {
            close = interval.next(close);
        }
        return Math.clamp(close + settings.settleMs() - now, settings.minPollMs(), settings.maxPollMs());
    }

    /** One poll: accepts the new bars and decides the ones due; returns the decisions made. */
    public int poll() throws IOException {
        long now = clock.getAsLong();
        long from = accepted.isEmpty() ? historyFromMs
                : Math.max(historyFromMs, accepted.getLast().startMs() - settings.lateWindowBars()
                        * interval.nominalMillis());
        List<Bar> bars;
        try {
            bars = feed.closedBars(from, now);
        } catch (IllegalArgumentException e) { // a malformed file or response: wait for it to be fixed
            throw new IOException(e.getMessage(), e);
        }
        polls++;
        List<Integer> fresh = new ArrayList<>();
        for (Bar fromFeed : bars) {
            Bar b = fromFeed;
            long t = b.startMs();
            Bar seen = byStart.get(t);
            if (seen != null) {
                duplicates++;
                if (!seen.equals(b) && revised.add(t) && !log.originals().containsKey(t)) {
                    append(DecisionLog.revised(seen));
                    err.println("engram watch: bar " + Instant.ofEpochMilli(t) + " came again with other values ("
                            + b + "); the first version stands");
                }
                continue;
            }
            Bar original = log.originals().get(t);
            if (original != null) {
                b = original; // a restart: the version the earlier run's decisions were made from
            }
            if (late.contains(t)) {
                continue; // logged as late before (maybe by an earlier run): left out for good
            }
            if (!accepted.isEmpty() && t < accepted.getLast().startMs()) {
                late.add(t);
                lateCount++;
                ObjectNode l = JsonNodeFactory.instance.objectNode();
                l.put("type", "late").put("bar", Instant.ofEpochMilli(t).toString()).put("bar_ms", t)
                        .put("after", Instant.ofEpochMilli(accepted.getLast().startMs()).toString());
                append(l);
                err.println("engram watch: bar " + Instant.ofEpochMilli(t) + " arrived after "
                        + Instant.ofEpochMilli(accepted.getLast().startMs()) + " was accepted; ignored (decisions "
                        + "already made stand)");
                continue;
            }
            if (!accepted.isEmpty() && t > interval.next(accepted.getLast().startMs())) {
                int missing = (int) ((t - accepted.getLast().startMs()) / interval.nominalMillis()) - 1;
                gapBefore.put(t, missing);
                gaps++;
            }
            accepted.add(b);
            byStart.put(t, b);
            fresh.add(accepted.size() - 1);
        }
        List<Integer> due = new ArrayList<>();
        for (int i : fresh) {
            long t = accepted.get(i).startMs();
            if (t >= model.data().lastBarMs() && t > log.lastDecisionMs()) {
                due.add(i);
            }
        }
        if (first && log.decisions() == 0 && due.size() > settings.catchUp()) {
            due = due.subList(due.size() - settings.catchUp(), due.size());
        }
        first = false;
        if (!due.isEmpty() && accepted.get(due.getFirst()).startMs() < learnedThroughMs) {
            throw new IllegalArgumentException(storeFile + " has learned through bar " + Instant.ofEpochMilli(
                    learnedThroughMs) + ", after bar " + Instant.ofEpochMilli(accepted.get(due.getFirst()).startMs())
                    + " that " + log.file() + " would decide next (it would use patterns realised later); use the "
                    + "--log that grew this store, or a new --store path");
        }
        if (log.start().isEmpty()) {
            ObjectNode s = JsonNodeFactory.instance.objectNode();
            s.put("type", "start").put("symbol", feed.symbol()).put("interval", interval.toString())
                    .put("model", modelName).put("model_kind", model.kind())
                    .put("model_trained_through", Instant.ofEpochMilli(model.data().lastBarMs()).toString())
                    .put("history_from_ms", historyFromMs).put("started", Instant.ofEpochMilli(now).toString());
            append(s);
        }
        if (due.isEmpty() && (learner == null || fresh.isEmpty())) {
            return 0;
        }
        long t0 = System.nanoTime();
        MarketData md = model.marketData(series(), feed.symbol());
        if (learner != null && !warnedHistory && md.size() > 0) {
            warnedHistory = true;
            long newest = learner.state().lastInsertedMs();
            int first = md.features().first();
            if (newest != Long.MIN_VALUE && (first >= md.size()
                    || interval.next(newest) < md.series().startMs(first))) {
                err.println("engram watch: the store's newest pattern is from " + Instant.ofEpochMilli(newest)
                        + " but the history's first pattern " + (first < md.size() ? "from "
                        + Instant.ofEpochMilli(md.series().startMs(first)) : "comes after its " + first
                        + " bars of warm-up") + "; the patterns between are not learned (give more --history-bars)");
            }
        }
        // in bar order: what bar i's close realises is learned before bar i is decided, nothing later
        // (learning at a decided bar inserts everything realised since the last one at once: the same store as
        // learning at every bar, since the store's batched insert decides as one insert per pattern would)
        for (int i : due) {
            if (learner != null) {
                learn(md.viewAt(i));
                flushLearned();
            }
            decide(md, i, t0);
            t0 = System.nanoTime();
        }
        if (learner != null) {
            if (!fresh.isEmpty()) {
                learn(md.viewAt(fresh.getLast()));
            }
            if (pending.isEmpty() && !due.isEmpty()) {
                // the decisions' queries count as use of their best match, which orders evictions in a full
                // store: written too, so a restarted loop evicts as an uninterrupted one would
                saveStore();
            } else {
                flushLearned();
            }
        }
        return due.size();
    }

    /** Learns what the close of the view's bar realises; patterns that cannot be learned are logged as skipped. */
    private void learn(MarketView v) throws IOException {
        List<StoreStrategy.Skipped> skipped = new ArrayList<>();
        pending.addAll(learner.learn(v, model.data().horizon(), skipped));
        for (StoreStrategy.Skipped k : skipped) {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("type", "skipped").put("bar", Instant.ofEpochMilli(k.timeMs()).toString())
                    .put("bar_ms", k.timeMs()).put("why", "not learned: " + k.why());
            append(o);
            err.println("engram watch: the pattern of bar " + Instant.ofEpochMilli(k.timeMs()) + " is not learned: "
                    + k.why());
        }
    }

    /**
     * Writes the store file (temporary file, then a move) and then logs what was learned since the last write: the
     * file always holds every pattern learned through some bar, so a restart learns the rest again, once.
     */
    private void flushLearned() throws IOException {
        if (pending.isEmpty()) {
            return;
        }
        long through = learnedThroughMs;
        for (StoreStrategy.Learned l : pending) {
            through = Math.max(through, l.knownAtMs());
        }
        if (through != learnedThroughMs) {
            writeThrough(through); // first: a stop between the two leaves it ahead of the store, never behind
            learnedThroughMs = through;
        }
        saveStore();
        List<StoreStrategy.Learned> ls = List.copyOf(pending);
        pending.clear();
        for (StoreStrategy.Learned l : ls) {
            ObjectNode o = JsonNodeFactory.instance.objectNode();
            o.put("type", "learned").put("bar", Instant.ofEpochMilli(l.timeMs()).toString()).put("bar_ms", l.timeMs())
                    .put("outcome", l.outcome()).put("known_at", Instant.ofEpochMilli(l.knownAtMs()).toString())
                    .put("known_at_ms", l.knownAtMs()).put("action", l.action().name().toLowerCase(Locale.ROOT))
                    .put("store_size", l.size());
            append(o);
            learned++;
        }
    }

    private void decide(MarketData md, int i, long t0) throws IOException {
        MarketView v = md.viewAt(i);
        boolean finite = !v.hasFeatures(v.now()) || finite(v.features(v.now()));
        Decision d = finite ? model.strategy().decideAll(List.of(v)).getFirst() : Decision.none();
        List<SimilarPattern> similar = !finite ? List.<SimilarPattern>of() : switch (model.strategy()) {
            case MemoryStrategy ms -> ms.similar(v, 3);
            case StoreStrategy ss -> ss.similar(v, 3);
            default -> List.of();
        };
        double ms = (System.nanoTime() - t0) / 1e6;
        latencySum += ms;
        latencyMax = Math.max(latencyMax, ms);
        decisions++;
        Bar b = accepted.get(i);
        ObjectNode line = JsonNodeFactory.instance.objectNode();
        line.put("type", "decision").put("bar", Instant.ofEpochMilli(b.startMs()).toString())
                .put("bar_ms", b.startMs()).put("close", b.close());
        num(line, "signal", d.signal());
        num(line, "confidence", d.confidence());
        line.put("position", d.position());
        num(line, "lower", d.lower());
        num(line, "upper", d.upper());
        line.put("anomaly", d.anomaly());
        num(line, "novelty", similar.isEmpty() ? Double.NaN : 1 - similar.getFirst().similarity());
        ArrayNode sim = line.putArray("similar");
        for (SimilarPattern p : similar) {
            ObjectNode e = sim.addObject();
            e.put("time", Instant.ofEpochMilli(p.timeMs()).toString());
            if (!p.symbol().isEmpty()) {
                e.put("symbol", p.symbol());
            }
            e.put("similarity", p.similarity());
        }
        if (!finite) {
            line.put("decided", false).put("why", "its features are not finite");
        }
        line.put("gap_bars", gapBefore.getOrDefault(b.startMs(), 0));
        line.put("latency_ms", ms);
        line.put("decided_at", Instant.ofEpochMilli(clock.getAsLong()).toString());
        append(line);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s %s close %.6g signal %s conf %s novelty %s position %+.3f",
                Instant.ofEpochMilli(b.startMs()), feed.symbol(), b.close(), pct(d.signal()), fmt(d.confidence()),
                fmt(similar.isEmpty() ? Double.NaN : 1 - similar.getFirst().similarity()), d.position()));
        if (!similar.isEmpty()) {
            sb.append(" similar");
            for (SimilarPattern p : similar) {
                sb.append(' ').append(Instant.ofEpochMilli(p.timeMs()).toString(), 0, 16);
            }
        }
        if (!finite) {
            sb.append(" (not decided: its features are not finite)");
        }
        if (gapBefore.containsKey(b.startMs())) {
            sb.append(" (after a gap of ").append(gapBefore.get(b.startMs())).append(" bars)");
        }
        out.println(sb);
    }

    private static boolean finite(float[] x) {
        for (float f : x) {
            if (!Float.isFinite(f)) {
                return false;
            }
        }
        return true;
    }

    private static void num(ObjectNode o, String k, double v) {
        if (Double.isFinite(v)) {
            o.put(k, v);
        } else {
            o.putNull(k);
        }
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%+.4f%%", 100 * v);
    }

    private static String fmt(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }
}
