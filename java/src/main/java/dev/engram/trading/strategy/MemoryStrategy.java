package dev.engram.trading.strategy;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import dev.engram.trading.backtest.Decision;
import dev.engram.trading.backtest.MarketView;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.TrainingSet;

import java.util.ArrayList;
import java.util.List;

/**
 * Softmax retrieval over the whole memory, through the engine contract: stored patterns X = the training window's
 * market patterns (unit vectors), values V = (y, y²) with y the realised forward return, so one retrieval
 * {@code a = softmax(β·q·Xᵀ)} gives the forecast ŷ = a·y, the dispersion σ̂ = √(a·y² − ŷ²), the confidence
 * 1 − H(a)/log M and the top-k most similar past patterns (novelty and consensus). A whole test window is one batched
 * retrieval against the memory frozen at the window's start.
 * <p>
 * β: fixed, or (the default) calibrated at every fit with {@link BetaCalibration} so the held-out calibration
 * queries' mean confidence equals a target: the last min(256, M/5) training patterns against a memory of the earlier
 * ones (less h bars per symbol, so no calibration query meets its own outcome). The memory then used for trading
 * holds every training pattern.
 */
public final class MemoryStrategy implements Strategy {
    /**
     * @param engine           the retrieval engine
     * @param beta             fixed β &gt; 0, or NaN to calibrate
     * @param targetConfidence mean confidence β is calibrated to, in (0, 1)
     * @param k                top-k size for novelty and consensus, ≥ 1
     * @param signal           forecast → position
     * @param risk             novelty, consensus, volatility scaling
     */
    public record Config(Backend engine, double beta, double targetConfidence, int k, SignalRule signal,
                         RiskRules risk) {
        public Config {
            if (engine == null) {
                throw new IllegalArgumentException("engine must be set");
            }
            if (!(Double.isNaN(beta) || beta > 0 && Double.isFinite(beta))) {
                throw new IllegalArgumentException("beta must be > 0 (or unset to calibrate), got " + beta);
            }
            if (k < 1) {
                throw new IllegalArgumentException("top-k must be >= 1, got " + k);
            }
        }

        /** Calibrated β (target confidence 0.5), top-10, default signal and risk rules. */
        public static Config defaults(Backend engine) {
            return new Config(engine, Double.NaN, BetaCalibration.DEFAULT_TARGET, 10, SignalRule.defaults(),
                    RiskRules.defaults());
        }
    }

    /**
     * What one fit chose.
     *
     * @param memorySize            M
     * @param beta                  β used
     * @param calibrationConfidence mean confidence of the calibration queries at β (NaN when β was fixed)
     * @param outcomeStd            σ_y of the training outcomes
     */
    public record Fit(int memorySize, float beta, double calibrationConfidence, double outcomeStd) {
    }

    /**
     * What a fit learned, enough to decide as the fitted strategy does ({@link #restore}): the memory's patterns
     * (M×d, row-major), their outcomes, bar start times (UTC ms) and symbols, β and σ_y.
     */
    public record State(int dim, float[] patterns, double[] outcomes, long[] times, int[] symbols,
                        List<String> symbolNames, float beta, double outcomeStd) {
        public State {
            int m = outcomes.length;
            if (dim < 1 || patterns.length != (long) m * dim || times.length != m || symbols.length != m || m < 2) {
                throw new IllegalArgumentException("memory state: " + m + " outcomes, " + patterns.length
                        + " pattern values of width " + dim + ", " + times.length + " times, " + symbols.length
                        + " symbols do not fit together (M >= 2)");
            }
            if (!(beta > 0) || !Float.isFinite(beta)) {
                throw new IllegalArgumentException("memory state: beta must be finite and > 0, got " + beta);
            }
            for (int s : symbols) {
                if (s < 0 || s >= symbolNames.size()) {
                    throw new IllegalArgumentException("memory state: symbol index " + s + " outside the "
                            + symbolNames.size() + " symbols");
                }
            }
        }
    }

    private final Config config;
    private final List<Fit> fits = new ArrayList<>();
    private PatternMemory memory;
    private double[] outcomes;
    private float[] patterns;
    private long[] times;
    private int[] symbols;
    private List<String> symbolNames;
    private float beta;
    private double outcomeStd;
    private int k;

    public MemoryStrategy(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "memory";
    }

    /** One entry per fit, in order. */
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
        close();
        int m = ts.size();
        if (m < 2) {
            throw new IllegalArgumentException("the training window holds " + m + " labelled patterns; the memory "
                    + "needs at least 2 (use more training bars)");
        }
        int d = ts.dim();
        outcomes = ts.outcomes();
        outcomeStd = std(outcomes);
        float[] x = ts.patterns();
        patterns = x;
        times = ts.times();
        symbols = new int[m];
        for (int r = 0; r < m; r++) {
            symbols[r] = ts.symbol(r);
        }
        symbolNames = ts.symbolNames();
        float[] v = new float[2 * m];
        for (int r = 0; r < m; r++) {
            v[2 * r] = (float) outcomes[r];
            v[2 * r + 1] = (float) (outcomes[r] * outcomes[r]);
        }
        double calib = Double.NaN;
        try (FloatMatrix xm = FloatMatrix.of(x, m, d); FloatMatrix vm = FloatMatrix.of(v, m, 2)) {
            progress.update("building the memory", 0, 2);
            memory = PatternMemory.of(xm, vm);
            progress.update("calibrating beta", 1, 2);
            if (Double.isNaN(config.beta())) {
                BetaCalibration.Result r = calibrate(ts, x, d);
                beta = r.beta();
                calib = r.meanConfidence();
            } else {
                beta = (float) config.beta();
            }
        }
        k = (int) Math.min(config.k(), m);
        progress.update("memory built", 2, 2);
        fits.add(new Fit(m, beta, calib, outcomeStd));
    }

    /** The state of the latest fit (copies). */
    public State state() {
        if (memory == null) {
            throw new IllegalStateException("memory strategy: no state before fit");
        }
        return new State(memory.dim(), patterns.clone(), outcomes.clone(), times.clone(), symbols.clone(),
                symbolNames, beta, outcomeStd);
    }

    /** A strategy that decides as the one whose {@link #state()} this is, without fitting. */
    public static MemoryStrategy restore(Config config, State s) {
        MemoryStrategy ms = new MemoryStrategy(config);
        int m = s.outcomes().length;
        int d = s.dim();
        float[] v = new float[2 * m];
        for (int r = 0; r < m; r++) {
            v[2 * r] = (float) s.outcomes()[r];
            v[2 * r + 1] = (float) (s.outcomes()[r] * s.outcomes()[r]);
        }
        try (FloatMatrix xm = FloatMatrix.of(s.patterns().clone(), m, d); FloatMatrix vm = FloatMatrix.of(v, m, 2)) {
            ms.memory = PatternMemory.of(xm, vm);
        }
        ms.patterns = s.patterns().clone();
        ms.outcomes = s.outcomes().clone();
        ms.times = s.times().clone();
        ms.symbols = s.symbols().clone();
        ms.symbolNames = List.copyOf(s.symbolNames());
        ms.beta = s.beta();
        ms.outcomeStd = s.outcomeStd();
        ms.k = Math.min(config.k(), m);
        return ms;
    }

    /**
     * The {@code n} stored patterns most similar (cosine) to the view's latest pattern, most similar first; empty when
     * the bar has no feature row.
     */
    public List<SimilarPattern> similar(MarketView view, int n) {
        if (memory == null) {
            throw new IllegalStateException("memory strategy: similar before fit");
        }
        if (!view.hasFeatures(view.now())) {
            return List.of();
        }
        int d = memory.dim();
        RetrievalResult r;
        try (FloatMatrix qm = FloatMatrix.of(view.features(view.now()), 1, d)) {
            r = config.engine().retrieve(memory, qm, new RetrievalParams(beta, Math.min(n, outcomes.length)));
        }
        long[] idx = r.topIndices(0);
        float[] sim = r.topScores(0);
        List<SimilarPattern> out = new ArrayList<>(idx.length);
        for (int j = 0; j < idx.length; j++) {
            int i = (int) idx[j];
            out.add(new SimilarPattern(times[i], symbolNames.get(symbols[i]), sim[j], outcomes[i]));
        }
        return out;
    }

    private BetaCalibration.Result calibrate(TrainingSet ts, float[] x, int d) {
        int m = ts.size();
        int q = Math.max(1, Math.min(256, m / 5));
        int gap = ts.horizon() * ts.symbolNames().size();
        int held = m - q - gap;
        if (held < 2) {
            return new BetaCalibration.Result(dev.engram.hopfield.PatternStore.DEFAULT_BETA, Double.NaN, 0);
        }
        try (FloatMatrix mem = FloatMatrix.of(java.util.Arrays.copyOf(x, held * d), held, d);
             PatternMemory pm = PatternMemory.of(mem);
             FloatMatrix queries = FloatMatrix.of(java.util.Arrays.copyOfRange(x, (m - q) * d, m * d), q, d)) {
            return BetaCalibration.calibrate(config.engine(), pm, queries, config.targetConfidence());
        }
    }

    @Override
    public Decision decide(MarketView view) {
        return decideAll(List.of(view)).getFirst();
    }

    @Override
    public List<Decision> decideAll(List<MarketView> views) {
        if (memory == null) {
            throw new IllegalStateException("memory strategy: decide before fit");
        }
        int d = memory.dim();
        int[] rowOf = new int[views.size()];
        float[] q = new float[views.size() * d];
        int b = 0;
        for (int i = 0; i < views.size(); i++) {
            MarketView v = views.get(i);
            if (v.hasFeatures(v.now())) {
                System.arraycopy(v.features(v.now()), 0, q, b * d, d);
                rowOf[i] = b++;
            } else {
                rowOf[i] = -1;
            }
        }
        List<Decision> out = new ArrayList<>(views.size());
        if (b == 0) {
            views.forEach(v -> out.add(Decision.none()));
            return out;
        }
        RetrievalResult r;
        try (FloatMatrix qm = FloatMatrix.of(java.util.Arrays.copyOf(q, b * d), b, d)) {
            r = config.engine().retrieve(memory, qm, new RetrievalParams(beta, k));
        }
        for (int i = 0; i < views.size(); i++) {
            if (rowOf[i] < 0) {
                out.add(Decision.none());
                continue;
            }
            MemoryForecast f = forecast(r, rowOf[i]);
            double pos = config.risk().apply(config.signal().position(f.predicted(), f.confidence(), outcomeStd), f,
                    outcomeStd);
            out.add(Decision.of(pos, f.predicted(), f.confidence()));
        }
        return out;
    }

    /** ŷ, σ̂, confidence, best cosine and consensus of query b. */
    MemoryForecast forecast(RetrievalResult r, int b) {
        float[] o = r.output(b);
        double y = o[0];
        double dispersion = Math.sqrt(Math.max(0, o[1] - y * y));
        long[] idx = r.topIndices(b);
        float[] sim = r.topScores(b);
        int agree = 0;
        for (long i : idx) {
            agree += Math.signum(outcomes[(int) i]) == Math.signum(y) ? 1 : 0;
        }
        return new MemoryForecast(y, Math.clamp(r.confidence()[b], 0f, 1f), dispersion,
                sim.length == 0 ? Double.NaN : sim[0], idx.length == 0 ? Double.NaN : (double) agree / idx.length);
    }

    static double std(double[] v) {
        double m = 0;
        for (double x : v) {
            m += x;
        }
        m /= v.length;
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return v.length > 1 ? Math.sqrt(s / (v.length - 1)) : 0;
    }

    @Override
    public void close() {
        if (memory != null) {
            memory.close();
            memory = null;
        }
    }
}
