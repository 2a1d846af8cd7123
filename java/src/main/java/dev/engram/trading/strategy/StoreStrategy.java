package dev.engram.trading.strategy;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.hopfield.PatternStore;
import dev.engram.tensor.FloatMatrix;
import dev.engram.trading.backtest.Decision;
import dev.engram.trading.backtest.MarketView;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.TrainingSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The pattern store as a predictor ({@link PatternStore}), used as a store is meant to be: at each fit the patterns
 * whose outcome became known since the last fit are inserted in time order (near-duplicates above cosine 0.95 merge
 * by EMA, a full store evicts by recency × usage), then the store is frozen for the test window. (With sliding
 * windows the capacity, not the window, decides what is forgotten.) Prediction = the similarity-weighted outcome of the top-k stored patterns,
 * ŷ = Σ_i w_i·y_i with w = softmax(β·cos_i) over the k neighbours; σ̂ their weighted dispersion; confidence the
 * store's 1 − H/log M over the whole store; novelty and consensus from the neighbours. β is calibrated as for
 * {@link MemoryStrategy} at the first fit (or fixed) and kept: the store's size stops growing at its capacity. Zero feature rows (no feature moved) are neither stored nor traded on.
 */
public final class StoreStrategy implements Strategy {
    /**
     * @param capacity the store's capacity M_max (older, little-used patterns are evicted beyond it)
     */
    public record Config(MemoryStrategy.Config memory, int capacity) {
        public Config {
            if (capacity < 2) {
                throw new IllegalArgumentException("store capacity must be >= 2, got " + capacity);
            }
        }
    }

    /**
     * @param inserted patterns inserted at this fit, {@code stored} slots after merging and eviction, {@code merged}
     *                 merges among the inserted
     */
    public record Fit(int inserted, int stored, int merged, float beta, double calibrationConfidence) {
    }

    private final Config config;
    private final List<Fit> fits = new ArrayList<>();
    private PatternStore store;
    private double outcomeStd;
    private float beta;
    private double calibrationConfidence;
    private long lastInsertedMs = Long.MIN_VALUE;

    public StoreStrategy(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "store";
    }

    public List<Fit> fits() {
        return List.copyOf(fits);
    }

    private dev.engram.trading.backtest.FitProgress progress = dev.engram.trading.backtest.FitProgress.NONE;

    @Override
    public void setProgress(dev.engram.trading.backtest.FitProgress progress) {
        this.progress = progress;
    }

    @Override
    public void fit(TrainingSet ts) {
        int d = ts.dim();
        float[] x = ts.patterns();
        double[] y = ts.outcomes();
        long[] t = ts.times();
        int[] keep = nonZeroRows(x, d, ts.size());
        if (keep.length < 2) {
            throw new IllegalArgumentException("the training window holds " + keep.length + " usable patterns; the "
                    + "store needs at least 2 (use more training bars)");
        }
        // only what the store has not seen: patterns whose outcome became known since the last fit
        int n = 0;
        float[] xs = new float[keep.length * d];
        double[] ys = new double[keep.length];
        long[] ts2 = new long[keep.length];
        for (int r : keep) {
            if (t[r] > lastInsertedMs || store == null) {
                System.arraycopy(x, r * d, xs, n * d, d);
                ys[n] = y[r];
                ts2[n] = t[r];
                n++;
            }
        }
        double[] all = new double[keep.length];
        for (int r = 0; r < keep.length; r++) {
            all[r] = y[keep[r]];
        }
        outcomeStd = MemoryStrategy.std(all);
        MemoryStrategy.Config mc = config.memory();
        if (store == null) {
            double calib = Double.NaN;
            if (Double.isNaN(mc.beta())) {
                BetaCalibration.Result r = calibrate(mc.engine(), Arrays.copyOf(xs, n * d), d,
                        ts.horizon() * ts.symbolNames().size(), mc.targetConfidence());
                beta = r.beta();
                calib = r.meanConfidence();
            } else {
                beta = (float) mc.beta();
            }
            calibrationConfidence = calib;
            PatternStore.Config sc = PatternStore.Config.defaults(d, config.capacity());
            store = new PatternStore(new PatternStore.Config(d, sc.capacity(), beta, sc.mergeSimilarity(),
                    sc.mergeRate(), sc.halfLife()), mc.engine());
        }
        int merged = 0;
        int batch = 128;
        progress.update("inserting patterns", 0, n);
        for (int from = 0; from < n; from += batch) {
            int to = Math.min(n, from + batch);
            try (FloatMatrix fm = FloatMatrix.of(Arrays.copyOfRange(xs, from * d, to * d), to - from, d)) {
                for (PatternStore.Insertion ins : store.insertAll(fm, Arrays.copyOfRange(ys, from, to),
                        Arrays.copyOfRange(ts2, from, to))) {
                    merged += ins.action() == PatternStore.Action.MERGED ? 1 : 0;
                }
            }
            progress.update("inserting patterns", to, n);
        }
        if (n > 0) {
            lastInsertedMs = ts2[n - 1];
        }
        fits.add(new Fit(n, store.size(), merged, beta, calibrationConfidence));
    }

    /** β for the held-out last patterns against the earlier ones (see {@link MemoryStrategy}). */
    static BetaCalibration.Result calibrate(Backend engine, float[] x, int d, int gap, double target) {
        int m = x.length / d;
        int q = Math.max(1, Math.min(256, m / 5));
        int held = m - q - gap;
        if (held < 2) {
            return new BetaCalibration.Result(PatternStore.DEFAULT_BETA, Double.NaN, 0);
        }
        try (FloatMatrix mem = FloatMatrix.of(Arrays.copyOf(x, held * d), held, d);
             PatternMemory pm = PatternMemory.of(mem);
             FloatMatrix queries = FloatMatrix.of(Arrays.copyOfRange(x, (m - q) * d, m * d), q, d)) {
            return BetaCalibration.calibrate(engine, pm, queries, target);
        }
    }

    static boolean allFinite(float[] x) {
        for (float v : x) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    static int[] nonZeroRows(float[] x, int d, int rows) {
        int[] keep = new int[rows];
        int n = 0;
        for (int r = 0; r < rows; r++) {
            boolean zero = true;
            for (int c = 0; c < d && zero; c++) {
                zero = x[r * d + c] == 0;
            }
            if (!zero) {
                keep[n++] = r;
            }
        }
        return Arrays.copyOf(keep, n);
    }

    /**
     * What a fit chose besides the store itself (saved with {@link PatternStore#save}).
     *
     * @param lastInsertedMs bar start of the newest pattern inserted (UTC ms)
     */
    public record State(float beta, double outcomeStd, double calibrationConfidence, long lastInsertedMs) {
    }

    /** The state of the latest fit. */
    public State state() {
        requireFitted();
        return new State(beta, outcomeStd, calibrationConfidence, lastInsertedMs);
    }

    /** Writes the store of the latest fit to {@code file} (the versioned, checksummed pattern store format). */
    public void saveStore(java.nio.file.Path file) throws java.io.IOException {
        requireFitted();
        store.save(file);
    }

    /** A strategy that decides as the one whose {@link #state()} and store these are, without fitting. */
    public static StoreStrategy restore(Config config, State s, java.nio.file.Path storeFile) throws java.io.IOException {
        StoreStrategy st = new StoreStrategy(config);
        st.store = PatternStore.load(storeFile, config.memory().engine());
        st.beta = s.beta();
        st.outcomeStd = s.outcomeStd();
        st.calibrationConfidence = s.calibrationConfidence();
        st.lastInsertedMs = s.lastInsertedMs();
        return st;
    }

    /**
     * One pattern learned online.
     *
     * @param timeMs    start of the pattern's bar
     * @param outcome   its forward return over the horizon
     * @param knownAtMs start of the bar whose close realised the outcome
     * @param action    what the store did with it
     * @param size      the store's size after it
     */
    public record Learned(long timeMs, double outcome, long knownAtMs, PatternStore.Action action, int size) {
    }

    /**
     * Online learning at the close of bar {@code view.now()} = t: inserts, oldest first (in batches; the store is
     * the same as after one call per bar, so a caller may learn only before it decides), the pattern of every bar j
     * with features, j + h ≤ t and a start after the newest pattern inserted so far, labelled with its forward return
     * c_{j+h}/c_j − 1; zero rows are skipped, as in {@link #fit}. Everything is read through the view, which refuses
     * bars after t, so nothing is learned before its outcome is realised. β and the outcome scale σ_y stay those of
     * the fit: only the memory grows. The store is then that of a fit whose training window ended at t followed by
     * these inserts (see {@link #learn(TrainingSet)}).
     */
    public List<Learned> learn(MarketView view, int horizon) {
        return learn(view, horizon, new ArrayList<>());
    }

    /**
     * A pattern online learning left out: its features or its outcome are not finite (a price far outside the
     * others, e.g. a bar closing at 1e-300, makes the forward return overflow).
     *
     * @param timeMs start of the pattern's bar
     * @param why    which value and what it is
     */
    public record Skipped(long timeMs, String why) {
    }

    /**
     * {@link #learn(MarketView, int)}, adding to {@code skipped} the patterns left out because their features or
     * outcome are not finite (they count as learned: a later call does not look at them again).
     */
    public List<Learned> learn(MarketView view, int horizon, List<Skipped> skipped) {
        requireFitted();
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be >= 1 bar, got " + horizon);
        }
        int t = view.now();
        int j = t - horizon;
        while (j >= 0 && view.hasFeatures(j) && view.startMs(j) > lastInsertedMs) {
            j--;
        }
        List<float[]> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        List<Long> ts = new ArrayList<>();
        List<Long> known = new ArrayList<>();
        long skippedThrough = Long.MIN_VALUE;
        for (j = j + 1; j + horizon <= t; j++) {
            if (view.hasFeatures(j) && view.startMs(j) > lastInsertedMs) {
                float[] x = view.features(j);
                double y = view.close(j + horizon) / view.close(j) - 1;
                String why = !allFinite(x) ? "its features are not finite"
                        : !Double.isFinite(y) ? "its outcome close " + view.close(j + horizon) + " / close "
                        + view.close(j) + " - 1 = " + y + " is not finite" : null;
                if (why != null) {
                    skipped.add(new Skipped(view.startMs(j), why));
                    skippedThrough = view.startMs(j);
                    continue;
                }
                xs.add(x);
                ys.add(y);
                ts.add(view.startMs(j));
                known.add(view.startMs(j + horizon));
            }
        }
        List<Learned> out = insert(xs, ys, ts, known);
        lastInsertedMs = Math.max(lastInsertedMs, skippedThrough);
        return out;
    }

    /**
     * The same online learning from a training set: inserts its rows that start after the newest pattern inserted
     * so far, in order, without refitting β or σ_y. {@code learn(TrainingSet.of(…, fold with test start t + 1, …))}
     * after a fit builds the store that {@link #learn(MarketView, int)} builds bar by bar up to t.
     */
    public List<Learned> learn(TrainingSet ts) {
        requireFitted();
        List<float[]> xs = new ArrayList<>();
        List<Double> ys = new ArrayList<>();
        List<Long> times = new ArrayList<>();
        List<Long> known = new ArrayList<>();
        MarketView h = ts.history();
        for (int r = 0; r < ts.size(); r++) {
            if (ts.time(r) > lastInsertedMs) {
                xs.add(ts.pattern(r));
                ys.add(ts.outcome(r));
                times.add(ts.time(r));
                // the traded symbol's realising bar; another symbol's: the fold's last bar, by which it was realised
                known.add(h.startMs(ts.symbol(r) == 0 ? ts.bar(r) + ts.horizon() : h.now()));
            }
        }
        return insert(xs, ys, times, known);
    }

    /**
     * Inserts the non-zero rows in order, in batches ({@link PatternStore#insertAll} decides as one insert per row
     * would, with one engine pass per batch), as {@link #fit} does.
     */
    private List<Learned> insert(List<float[]> xs, List<Double> ys, List<Long> ts, List<Long> knownAtMs) {
        List<Learned> out = new ArrayList<>();
        int d = store.config().dim();
        List<Integer> keep = new ArrayList<>();
        for (int r = 0; r < xs.size(); r++) {
            if (nonZeroRows(xs.get(r), d, 1).length == 1) {
                keep.add(r);
            }
        }
        int batch = 128;
        for (int from = 0; from < keep.size(); from += batch) {
            int to = Math.min(keep.size(), from + batch);
            float[] x = new float[(to - from) * d];
            double[] y = new double[to - from];
            long[] t = new long[to - from];
            long[] known = new long[to - from];
            for (int i = from; i < to; i++) {
                int r = keep.get(i);
                known[i - from] = knownAtMs.get(r);
                System.arraycopy(xs.get(r), 0, x, (i - from) * d, d);
                y[i - from] = ys.get(r);
                t[i - from] = ts.get(r);
            }
            try (FloatMatrix fm = FloatMatrix.of(x, to - from, d)) {
                int size = store.size();
                for (PatternStore.Insertion in : store.insertAll(fm, y, t)) {
                    size += in.action() == PatternStore.Action.ADDED ? 1 : 0;
                    int i = out.size() - from;
                    out.add(new Learned(t[i], y[i], known[i], in.action(), size));
                }
            }
            lastInsertedMs = t[to - from - 1];
        }
        return out;
    }

    /**
     * Replaces the store by the one in {@code file}, which must be this strategy's store grown by inserts (an earlier
     * run's online learning, {@link PatternStore#divergenceFrom}); the newest pattern inserted becomes the newest
     * one in the file.
     *
     * @throws IllegalArgumentException naming the file when it was not grown from this store
     */
    public void adoptStore(java.nio.file.Path file) throws java.io.IOException {
        requireFitted();
        PatternStore loaded = PatternStore.load(file, config.memory().engine());
        java.util.Optional<String> why = loaded.divergenceFrom(store);
        if (why.isPresent()) {
            loaded.close();
            throw new IllegalArgumentException(file + " was not grown from this model's pattern store: " + why.get());
        }
        store.close();
        store = loaded;
        lastInsertedMs = Math.max(lastInsertedMs, loaded.latestDateMs());
    }

    /** Number of stored patterns. */
    public int storeSize() {
        requireFitted();
        return store.size();
    }

    /** The {@code n} stored patterns most similar to the view's latest pattern (cosine), most similar first. */
    public List<SimilarPattern> similar(MarketView view, int n) {
        requireFitted();
        if (!view.hasFeatures(view.now()) || !allFinite(view.features(view.now()))) {
            return List.of();
        }
        List<SimilarPattern> out = new ArrayList<>();
        for (PatternStore.Neighbor nb : store.query(view.features(view.now()), n).neighbors()) {
            out.add(new SimilarPattern(nb.dateMs(), "", nb.similarity(), nb.outcome()));
        }
        return out;
    }

    private void requireFitted() {
        if (store == null) {
            throw new IllegalStateException("store strategy: no state before fit");
        }
    }

    @Override
    public Decision decide(MarketView view) {
        return decideAll(List.of(view)).getFirst();
    }

    @Override
    public List<Decision> decideAll(List<MarketView> views) {
        if (store == null) {
            throw new IllegalStateException("store strategy: decide before fit");
        }
        int d = store.config().dim();
        int[] rowOf = new int[views.size()];
        float[] q = new float[views.size() * d];
        int b = 0;
        for (int i = 0; i < views.size(); i++) {
            MarketView v = views.get(i);
            rowOf[i] = -1;
            if (v.hasFeatures(v.now())) {
                float[] f = v.features(v.now());
                if (nonZeroRows(f, d, 1).length == 1 && allFinite(f)) {
                    System.arraycopy(f, 0, q, b * d, d);
                    rowOf[i] = b++;
                }
            }
        }
        List<Decision> out = new ArrayList<>(views.size());
        List<PatternStore.Prediction> ps = List.of();
        if (b > 0) {
            try (FloatMatrix qm = FloatMatrix.of(Arrays.copyOf(q, b * d), b, d)) {
                ps = store.query(qm, config.memory().k());
            }
        }
        MemoryStrategy.Config mc = config.memory();
        for (int i = 0; i < views.size(); i++) {
            if (rowOf[i] < 0) {
                out.add(Decision.none());
                continue;
            }
            MemoryForecast f = forecast(ps.get(rowOf[i]));
            double pos = mc.risk().apply(mc.signal().position(f.predicted(), f.confidence(), outcomeStd), f, outcomeStd);
            out.add(Decision.of(pos, f.predicted(), f.confidence()));
        }
        return out;
    }

    /** ŷ = softmax(β·cos)-weighted outcome of the neighbours, their dispersion, the store's confidence. */
    MemoryForecast forecast(PatternStore.Prediction p) {
        List<PatternStore.Neighbor> nb = p.neighbors();
        double max = Double.NEGATIVE_INFINITY;
        for (PatternStore.Neighbor n : nb) {
            max = Math.max(max, n.similarity());
        }
        double z = 0;
        double m1 = 0;
        double m2 = 0;
        for (PatternStore.Neighbor n : nb) {
            double w = Math.exp(beta * (n.similarity() - max));
            z += w;
            m1 += w * n.outcome();
            m2 += w * n.outcome() * n.outcome();
        }
        double y = m1 / z;
        int agree = 0;
        for (PatternStore.Neighbor n : nb) {
            agree += Math.signum(n.outcome()) == Math.signum(y) ? 1 : 0;
        }
        return new MemoryForecast(y, Math.clamp(p.confidence(), 0, 1), Math.sqrt(Math.max(0, m2 / z - y * y)), max,
                (double) agree / nb.size());
    }

    @Override
    public void close() {
        if (store != null) {
            store.close();
            store = null;
        }
    }
}
