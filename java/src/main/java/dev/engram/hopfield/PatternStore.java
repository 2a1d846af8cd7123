package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A bounded associative store of (feature pattern, outcome, date) triples that answers "what happened after
 * situations like this one?".
 *
 * <p>Patterns live on the unit sphere: every feature vector f (length d) is stored as {@code u = f/‖f‖}, so the
 * engine's scores {@code β·q·u} are β times cosine similarities and β means the same thing whatever the feature
 * scale (see {@link #DEFAULT_BETA}). Outcomes (e.g. the next-period return) are the values V (M×1).
 *
 * <p><b>Insert</b> of (f, y, t): the engine's top-1 cosine (k = 1) finds the nearest stored pattern j.
 * <ul>
 *   <li>{@code cos(u, u_j) > mergeSimilarity} (0.95): merge by an exponential moving average,
 *       {@code u_j ← normalise((1−α)·u_j + α·u)}, {@code y_j ← (1−α)·y_j + α·y}, α = {@code mergeRate} (0.3);
 *       the slot's date becomes the newer of the two and its merge count grows by one.</li>
 *   <li>otherwise, below capacity: appended.</li>
 *   <li>otherwise: replaces the slot with the lowest eviction score
 *       {@code score_i = 2^(−(τ − τ_i)/h)·(1 + uses_i)}: recency (τ counts inserts, τ_i is the slot's last write,
 *       h the half-life in inserts) times usage ({@code uses_i} = merges into the slot + queries that had it as
 *       their top-1). All scores share the factor {@code 2^(−τ/h)}, so the order is that of the static key
 *       {@code τ_i/h + log2(1 + uses_i)}, kept in an indexed heap: eviction costs O(log M), not a scan.</li>
 * </ul>
 *
 * <p><b>Query</b> of f: {@code prediction = softmax(β·X·u)·y} (the outcome-weighted retrieval), its confidence
 * {@code 1 − H/log M}, and the top-k most similar stored patterns with their dates and outcomes.
 *
 * <p><b>Concurrency</b>: one writer and any number of concurrent readers ({@link ReentrantReadWriteLock}); queries
 * run in parallel with each other and wait only while an insert runs. Usage counts from queries are atomic
 * increments, folded into the eviction order lazily (they only raise scores, so a stale key is a lower bound).
 *
 * <p>Bad input (wrong length, NaN, zero vector, non-finite outcome) is rejected with a message naming the argument
 * before anything changes. Owns its off-heap memory: close it.
 */
public final class PatternStore implements AutoCloseable {

    /**
     * Default β for cosine scores, measured by {@code BetaCalibrationTest} on M = 10^4 unit patterns, d = 32 (mean
     * confidence for queries at cosine ≈ 0.9 to a stored pattern / unrelated queries; i.i.d. memory):
     * β = 1: 0.002 / 0.002 (almost uniform attention: never confident), β = 8: 0.12 / 0.10, β = 16: 0.84 / 0.33,
     * β = 32: 1.00 / 0.70, β = 64: 1.00 / 0.88. β = 16 separates near from unrelated queries best, also on a
     * clustered memory (0.63 / 0.30). Confidence grows with log M at fixed β, so larger memories only gain.
     */
    public static final float DEFAULT_BETA = 16f;

    /** Cosine similarity above which an insert merges into its nearest stored pattern. */
    public static final double DEFAULT_MERGE_SIMILARITY = 0.95;

    /** EMA weight of the new observation in a merge. */
    public static final double DEFAULT_MERGE_RATE = 0.3;

    /**
     * Settings of a store.
     *
     * @param dim             feature width d
     * @param capacity        maximum number of stored patterns M, at least 1
     * @param beta            inverse temperature of the outcome-weighted prediction (on cosine scores)
     * @param mergeSimilarity cosine threshold in (−1, 1] above which inserts merge
     * @param mergeRate       EMA weight α of the new observation, in (0, 1]
     * @param halfLife        half-life of the recency factor, in inserts, > 0
     */
    public record Config(int dim, int capacity, float beta, double mergeSimilarity, double mergeRate, double halfLife) {
        public Config {
            Checks.positive("dim", dim);
            if (capacity < 1) {
                throw new IllegalArgumentException("capacity must be >= 1, got " + capacity);
            }
            Checks.positiveFinite("beta", beta);
            if (!(mergeSimilarity > -1 && mergeSimilarity <= 1)) {
                throw new IllegalArgumentException("mergeSimilarity must be in (-1, 1], got " + mergeSimilarity);
            }
            if (!(mergeRate > 0 && mergeRate <= 1)) {
                throw new IllegalArgumentException("mergeRate must be in (0, 1], got " + mergeRate);
            }
            Checks.positiveFinite("halfLife", halfLife);
        }

        /** β = {@link #DEFAULT_BETA}, merge above cosine 0.95 with α = 0.3, half-life = capacity inserts. */
        public static Config defaults(int dim, int capacity) {
            return new Config(dim, capacity, DEFAULT_BETA, DEFAULT_MERGE_SIMILARITY, DEFAULT_MERGE_RATE,
                    Math.max(1, capacity));
        }
    }

    /** What an insert did. */
    public enum Action { ADDED, MERGED, REPLACED }

    /**
     * The outcome of one insert.
     *
     * @param action     added, merged into an existing slot, or replaced an evicted slot
     * @param slot       the slot written
     * @param similarity cosine similarity to the nearest stored pattern before the insert (NaN when the store was empty)
     */
    public record Insertion(Action action, int slot, double similarity) {
    }

    /**
     * A stored pattern near a query.
     *
     * @param slot       its slot
     * @param similarity cosine similarity to the query
     * @param dateMs     date of its latest observation, epoch milliseconds
     * @param outcome    its (EMA-merged) outcome
     */
    public record Neighbor(int slot, double similarity, long dateMs, double outcome) {
    }

    /**
     * The answer to a query.
     *
     * @param prediction outcome-weighted retrieval {@code Σ_i softmax(β·cos)_i·y_i} (0 when the store is empty)
     * @param confidence {@code 1 − H/log M} of the attention weights, in [0, 1] (0 when the store is empty)
     * @param neighbors  the most similar stored patterns, best first
     */
    public record Prediction(double prediction, double confidence, List<Neighbor> neighbors) {
    }

    private final Config config;
    private final Backend engine;
    private final PatternMemory memory;
    private final long[] dates;
    private final int[] merges;
    private final long[] written;
    private final AtomicIntegerArray hits;
    private final SlotHeap evictionOrder;
    private final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();
    private long clock;
    private boolean closed;

    /** An empty store. */
    public PatternStore(Config config, Backend engine) {
        this.config = Objects.requireNonNull(config, "config");
        this.engine = Objects.requireNonNull(engine, "engine");
        int cap = config.capacity();
        this.memory = PatternMemory.create(config.dim(), 1);
        this.dates = new long[cap];
        this.merges = new int[cap];
        this.written = new long[cap];
        this.hits = new AtomicIntegerArray(cap);
        this.evictionOrder = new SlotHeap(cap);
    }

    public Config config() {
        return config;
    }

    public Backend engine() {
        return engine;
    }

    /** Number of stored patterns. */
    public int size() {
        lock.readLock().lock();
        try {
            return (int) memory.size();
        } finally {
            lock.readLock().unlock();
        }
    }

    /** The newest date among the stored patterns ({@link Long#MIN_VALUE} when empty): the latest observation. */
    public long latestDateMs() {
        lock.readLock().lock();
        try {
            long m = Long.MIN_VALUE;
            for (int i = 0; i < (int) memory.size(); i++) {
                m = Math.max(m, dates[i]);
            }
            return m;
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Why this store cannot be {@code base} grown by inserts, or empty when it can be: the settings must be equal,
     * the insert clock and the size no smaller, and every slot of {@code base} that was not written since (same write
     * stamp) must hold the same pattern, outcome and date bit for bit. So a store that another model (other features,
     * other training data) wrote is told apart from one grown from {@code base}.
     */
    public java.util.Optional<String> divergenceFrom(PatternStore base) {
        Config a = config;
        Config b = base.config;
        if (a.dim() != b.dim()) {
            return java.util.Optional.of("it holds patterns of dimension " + a.dim() + ", the model's store "
                    + b.dim());
        }
        if (!a.equals(b)) {
            return java.util.Optional.of("its settings " + a + " are not the model's store's " + b);
        }
        lock.readLock().lock();
        base.lock.readLock().lock();
        try {
            if (clock < base.clock || memory.size() < base.memory.size()) {
                return java.util.Optional.of("it holds " + memory.size() + " patterns after " + clock + " inserts, "
                        + "fewer than the model's store (" + base.memory.size() + " after " + base.clock + ")");
            }
            FloatMatrix x = memory.patterns();
            FloatMatrix y = base.memory.patterns();
            for (int s = 0; s < (int) base.memory.size(); s++) {
                if (written[s] != base.written[s]) {
                    if (written[s] <= base.clock) {
                        return java.util.Optional.of("slot " + s + " was written at insert " + written[s]
                                + ", the model's at " + base.written[s]);
                    }
                    continue; // merged into or replaced since
                }
                boolean same = dates[s] == base.dates[s] && Float.floatToIntBits(memory.values().get(s, 0))
                        == Float.floatToIntBits(base.memory.values().get(s, 0));
                for (int c = 0; c < a.dim() && same; c++) {
                    same = Float.floatToIntBits(x.get(s, c)) == Float.floatToIntBits(y.get(s, c));
                }
                if (!same) {
                    return java.util.Optional.of("its pattern in slot " + s + " differs from the model's (other "
                            + "features or other training data)");
                }
            }
            return java.util.Optional.empty();
        } finally {
            base.lock.readLock().unlock();
            lock.readLock().unlock();
        }
    }

    /**
     * Adds every row as its own pattern, without the similarity check: for seeding a store from history already
     * known to be distinct (e.g. benchmark data). {@link #insert} is the checked path.
     *
     * @param features n×d, finite, no zero rows
     * @param outcomes n
     * @param datesMs  n, epoch milliseconds
     * @throws IllegalArgumentException on bad input or when n exceeds the free capacity; nothing is added then
     */
    public void addDistinct(FloatMatrix features, float[] outcomes, long[] datesMs) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(outcomes, "outcomes");
        Objects.requireNonNull(datesMs, "datesMs");
        Checks.columns("features", features, config.dim());
        long n = features.rows();
        Checks.length("outcomes", outcomes.length, (int) Math.min(Integer.MAX_VALUE, n));
        Checks.length("datesMs", datesMs.length, (int) Math.min(Integer.MAX_VALUE, n));
        Checks.finite("outcomes", outcomes);
        features.requireFinite("features");
        lock.writeLock().lock();
        try {
            requireOpen();
            long size = memory.size();
            if (size + n > config.capacity()) {
                throw new IllegalArgumentException("adding " + n + " patterns to " + size + " exceeds capacity="
                        + config.capacity());
            }
            try (FloatMatrix unit = FloatMatrix.allocate(n, config.dim());
                 FloatMatrix values = FloatMatrix.of(outcomes, n, 1)) {
                float[] row = new float[config.dim()];
                for (long r = 0; r < n; r++) {
                    features.copyRow(r, row, 0);
                    normalise("features row " + r, row);
                    for (int c = 0; c < row.length; c++) {
                        unit.set(r, c, row[c]);
                    }
                }
                memory.append(unit, values);
            }
            for (int i = 0; i < n; i++) {
                int slot = (int) (size + i);
                dates[slot] = datesMs[i];
                merges[slot] = 0;
                hits.set(slot, 0);
                written[slot] = ++clock;
                evictionOrder.put(slot, evictionKey(slot));
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    /**
     * Inserts one observation: merge into the nearest stored pattern when its cosine similarity exceeds the
     * threshold, else add (evicting the lowest-scored slot when full). The nearest pattern comes from the engine's
     * top-1 cosine search, so an insert costs one pass over the memory on the engine.
     *
     * @param features length d, finite, not all zero
     * @param outcome  finite (e.g. the next-period return that followed)
     * @param dateMs   epoch milliseconds of the observation
     */
    public Insertion insert(float[] features, double outcome, long dateMs) {
        float[] u = checkedUnit(features);
        Checks.finite("outcome", outcome);
        lock.writeLock().lock();
        try {
            requireOpen();
            long size = memory.size();
            double sim = Double.NaN;
            int nearest = -1;
            if (size > 0) {
                try (FloatMatrix q = FloatMatrix.of(u, 1, config.dim())) {
                    RetrievalResult r = engine.retrieve(memory, q, new RetrievalParams(config.beta(), 1));
                    nearest = (int) r.topIndices()[0];
                    sim = r.topScores()[0];
                }
            }
            return apply(u, outcome, dateMs, nearest, sim);
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** The decision of an insert whose nearest stored pattern is {@code nearest} (−1: none) at cosine {@code sim}. */
    private Insertion apply(float[] u, double outcome, long dateMs, int nearest, double sim) {
        long size = memory.size();
        if (nearest >= 0 && sim > config.mergeSimilarity()) {
            merge(nearest, u, outcome, dateMs);
            return new Insertion(Action.MERGED, nearest, sim);
        }
        if (size < config.capacity()) {
            try (FloatMatrix x = FloatMatrix.of(u, 1, config.dim());
                 FloatMatrix v = FloatMatrix.of(new float[] {(float) outcome}, 1, 1)) {
                memory.append(x, v);
            }
            int slot = (int) size;
            setSlot(slot, dateMs);
            return new Insertion(Action.ADDED, slot, sim);
        }
        int slot = victim();
        writeRow(slot, u, (float) outcome);
        setSlot(slot, dateMs);
        return new Insertion(Action.REPLACED, slot, sim);
    }

    /**
     * Inserts n observations in order with the decisions n calls of {@link #insert} would make, but one engine pass
     * for all of them (the engine's batched path is far faster per query than n single passes).
     *
     * <p>Why the decisions are the same: the engine returns each row's top-(n+1) cosines against the memory as it
     * was before the batch. At most n slots change during the batch, so the first unchanged slot in that list is the
     * nearest unchanged slot; the changed ones are compared exactly here (at most n·n·d work), and the nearer of the
     * two wins. Use batches of up to a few thousand rows.
     *
     * @param features n×d, finite, no zero rows
     * @param outcomes n, finite
     * @param datesMs  n, epoch milliseconds
     * @return one {@link Insertion} per row, in order
     * @throws IllegalArgumentException on bad input, before anything changes
     */
    public List<Insertion> insertAll(FloatMatrix features, double[] outcomes, long[] datesMs) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(outcomes, "outcomes");
        Objects.requireNonNull(datesMs, "datesMs");
        Checks.columns("features", features, config.dim());
        if (features.rows() > 1 << 20) {
            throw new IllegalArgumentException("insertAll takes at most 2^20 rows at once, got " + features.rows());
        }
        int n = (int) features.rows();
        Checks.length("outcomes", outcomes.length, n);
        Checks.length("datesMs", datesMs.length, n);
        Checks.finite("outcomes", outcomes);
        features.requireFinite("features");
        int d = config.dim();
        float[][] units = new float[n][d];
        for (int r = 0; r < n; r++) {
            features.copyRow(r, units[r], 0);
            normalise("features row " + r, units[r]);
        }
        if (n == 0) {
            return List.of();
        }
        lock.writeLock().lock();
        try {
            requireOpen();
            long size0 = memory.size();
            int kk = (int) Math.min(n + 1L, size0);
            long[] top = new long[0];
            float[] topScore = new float[0];
            if (kk > 0) {
                try (FloatMatrix q = FloatMatrix.allocate(n, d)) {
                    for (int r = 0; r < n; r++) {
                        for (int c = 0; c < d; c++) {
                            q.set(r, c, units[r][c]);
                        }
                    }
                    RetrievalResult res = engine.retrieve(memory, q, new RetrievalParams(config.beta(), kk));
                    top = res.topIndices();
                    topScore = res.topScores();
                }
            }
            java.util.LinkedHashSet<Integer> changed = new java.util.LinkedHashSet<>();
            List<Insertion> out = new ArrayList<>(n);
            for (int j = 0; j < n; j++) {
                int nearest = -1;
                double sim = Double.NEGATIVE_INFINITY;
                for (int i = 0; i < kk; i++) {
                    int slot = (int) top[j * kk + i];
                    if (!changed.contains(slot)) {
                        nearest = slot;
                        sim = topScore[j * kk + i];
                        break;
                    }
                }
                FloatMatrix x = memory.patterns();
                for (int slot : changed) {
                    double c = cosine(units[j], x, slot);
                    // ties: the smaller slot, as the engine's top-k orders them
                    if (c > sim || (c == sim && slot < nearest)) {
                        nearest = slot;
                        sim = c;
                    }
                }
                Insertion ins = apply(units[j], outcomes[j], datesMs[j], nearest, nearest < 0 ? Double.NaN : sim);
                changed.add(ins.slot());
                out.add(ins);
            }
            return out;
        } finally {
            lock.writeLock().unlock();
        }
    }

    /** q·x_slot/(‖q‖·‖x_slot‖) in double, the reference engine's formula. */
    private static double cosine(float[] q, FloatMatrix x, int slot) {
        double qx = 0;
        double qq = 0;
        double xx = 0;
        for (int c = 0; c < q.length; c++) {
            double xc = x.get(slot, c);
            qx += q[c] * xc;
            qq += (double) q[c] * q[c];
            xx += xc * xc;
        }
        double den = Math.sqrt(qq) * Math.sqrt(xx);
        return den == 0 ? 0 : qx / den;
    }

    private void setSlot(int slot, long dateMs) {
        dates[slot] = dateMs;
        merges[slot] = 0;
        hits.set(slot, 0);
        written[slot] = ++clock;
        evictionOrder.put(slot, evictionKey(slot));
    }

    private void merge(int slot, float[] u, double outcome, long dateMs) {
        double a = config.mergeRate();
        FloatMatrix x = memory.patterns();
        float[] old = x.row(slot);
        float[] merged = new float[old.length];
        for (int c = 0; c < old.length; c++) {
            merged[c] = (float) ((1 - a) * old[c] + a * u[c]);
        }
        // (1−α)u_j + αu has norm ≥ ~0.99 for cos > 0.95, so renormalising is well conditioned; for a low merge
        // threshold the two may nearly cancel, in which case the new observation is taken as is.
        if (!tryNormalise(merged)) {
            merged = u.clone();
        }
        double y = (1 - a) * memory.values().get(slot, 0) + a * outcome;
        writeRow(slot, merged, (float) y);
        dates[slot] = Math.max(dates[slot], dateMs);
        merges[slot]++;
        written[slot] = ++clock;
        evictionOrder.put(slot, evictionKey(slot));
    }

    /** Overwrites pattern, outcome and norm of {@code slot} in the memory. */
    private void writeRow(int slot, float[] unit, float outcome) {
        memory.replace(slot, unit, new float[] {outcome});
    }

    /** The slot to evict: the heap minimum after folding in query hits (which only raise keys) lazily. */
    private int victim() {
        while (true) {
            int s = evictionOrder.peekMin();
            double fresh = evictionKey(s);
            if (fresh <= evictionOrder.key(s)) {
                return s;
            }
            evictionOrder.put(s, fresh);
        }
    }

    private double evictionKey(int slot) {
        return written[slot] / config.halfLife() + log2(1.0 + merges[slot] + hits.get(slot));
    }

    private static double log2(double x) {
        return Math.log(x) / Math.log(2);
    }

    /**
     * The outcome-weighted prediction for one feature vector, its confidence, and the {@code k} most similar stored
     * patterns (fewer when fewer are stored).
     *
     * @param features length d, finite, not all zero
     * @param k        neighbours to return, ≥ 0
     */
    public Prediction query(float[] features, int k) {
        float[] u = checkedUnit(features);
        try (FloatMatrix q = FloatMatrix.of(u, 1, config.dim())) {
            return queryUnit(q, k).getFirst();
        }
    }

    /**
     * {@link #query(float[], int)} for a batch: one pass of the engine over the memory for all B queries.
     *
     * @param features B×d
     */
    public List<Prediction> query(FloatMatrix features, int k) {
        Objects.requireNonNull(features, "features");
        Checks.columns("features", features, config.dim());
        features.requireFinite("features");
        long b = features.rows();
        try (FloatMatrix q = FloatMatrix.allocate(b, config.dim())) {
            float[] row = new float[config.dim()];
            for (long r = 0; r < b; r++) {
                features.copyRow(r, row, 0);
                normalise("features row " + r, row);
                for (int c = 0; c < row.length; c++) {
                    q.set(r, c, row[c]);
                }
            }
            return queryUnit(q, k);
        }
    }

    private List<Prediction> queryUnit(FloatMatrix q, int k) {
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0, got " + k);
        }
        int batch = (int) q.rows();
        lock.readLock().lock();
        try {
            requireOpen();
            int size = (int) memory.size();
            List<Prediction> out = new ArrayList<>(batch);
            if (size == 0) {
                for (int b = 0; b < batch; b++) {
                    out.add(new Prediction(0, 0, List.of()));
                }
                return out;
            }
            int kk = Math.min(k, size);
            RetrievalResult r = engine.retrieve(memory, q, new RetrievalParams(config.beta(), kk));
            FloatMatrix values = memory.values();
            for (int b = 0; b < batch; b++) {
                List<Neighbor> nb = new ArrayList<>(kk);
                for (int i = 0; i < kk; i++) {
                    int slot = (int) r.topIndices()[b * kk + i];
                    nb.add(new Neighbor(slot, r.topScores()[b * kk + i], dates[slot], values.get(slot, 0)));
                }
                if (kk > 0) {
                    hits.incrementAndGet(nb.getFirst().slot());
                }
                out.add(new Prediction(r.output()[b], r.confidence()[b], List.copyOf(nb)));
            }
            return out;
        } finally {
            lock.readLock().unlock();
        }
    }

    private float[] checkedUnit(float[] features) {
        Objects.requireNonNull(features, "features");
        Checks.length("features", features.length, config.dim());
        Checks.finite("features", features);
        float[] u = features.clone();
        normalise("features", u);
        return u;
    }

    private static void normalise(String name, float[] v) {
        if (!tryNormalise(v)) {
            throw new IllegalArgumentException(name + " is the zero vector; its cosine similarity is undefined");
        }
    }

    private static boolean tryNormalise(float[] v) {
        double sq = 0;
        for (float f : v) {
            sq += (double) f * f;
        }
        double n = Math.sqrt(sq);
        if (!(n > 1e-30) || !Double.isFinite(n)) {
            return false;
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (v[i] / n);
        }
        return true;
    }

    /**
     * Writes the store to {@code file} atomically (temporary file beside it, then a move), in the versioned format
     * of {@link PatternStoreFile}. Readers may query meanwhile; inserts wait.
     */
    public void save(Path file) throws IOException {
        lock.readLock().lock();
        try {
            requireOpen();
            int size = (int) memory.size();
            int[] h = new int[size];
            for (int i = 0; i < size; i++) {
                h[i] = hits.get(i);
            }
            float[] outcomes = memory.values().toArray();
            PatternStoreFile.write(file, new PatternStoreFile.Contents(config, clock, memory.patterns(), outcomes,
                    java.util.Arrays.copyOf(dates, size), java.util.Arrays.copyOf(merges, size), h,
                    java.util.Arrays.copyOf(written, size)));
        } finally {
            lock.readLock().unlock();
        }
    }

    /**
     * Reads a store written by {@link #save}; the format version, shapes, checksum and finiteness are checked and a
     * bad file is rejected with a message naming the file and the problem.
     */
    public static PatternStore load(Path file, Backend engine) throws IOException {
        return PatternStoreFile.read(file, contents -> {
            PatternStore s = new PatternStore(contents.config(), engine);
            try (FloatMatrix values = FloatMatrix.of(contents.outcomes(), contents.outcomes().length, 1)) {
                s.memory.append(contents.patterns(), values);
            }
            int n = contents.outcomes().length;
            System.arraycopy(contents.dates(), 0, s.dates, 0, n);
            System.arraycopy(contents.merges(), 0, s.merges, 0, n);
            System.arraycopy(contents.written(), 0, s.written, 0, n);
            for (int i = 0; i < n; i++) {
                s.hits.set(i, contents.hits()[i]);
                s.evictionOrder.put(i, s.evictionKey(i));
            }
            s.clock = contents.clock();
            return s;
        });
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the pattern store is closed");
        }
    }

    /** Frees the off-heap memory; waits for running queries. */
    @Override
    public void close() {
        lock.writeLock().lock();
        try {
            if (!closed) {
                closed = true;
                memory.close();
            }
        } finally {
            lock.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "PatternStore[M=" + size() + "/" + config.capacity() + ", d=" + config.dim() + ", beta=" + config.beta()
                + ", engine=" + engine.name() + "]";
    }
}
