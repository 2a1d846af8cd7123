package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.report.HtmlReport;
import dev.engram.report.ReportCharts;
import dev.engram.report.ReportSeries;
import dev.engram.tensor.AtomicFiles;
import dev.engram.tensor.FloatMatrix;
import dev.engram.trading.backtest.BacktestResult;
import dev.engram.trading.backtest.Backtester;
import dev.engram.trading.backtest.Costs;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketFeatures;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.TrainingSet;
import dev.engram.trading.backtest.WalkForward;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.SyntheticMarket;
import dev.engram.trading.metrics.Annualisation;
import dev.engram.trading.metrics.ForecastMetrics;
import dev.engram.trading.metrics.PerformanceMetrics;
import dev.engram.trading.strategy.HnnStrategy;
import dev.engram.trading.strategy.MemoryStrategy;
import dev.engram.trading.strategy.PricePhase;
import dev.engram.trading.strategy.RiskRules;
import dev.engram.trading.strategy.SignalRule;
import dev.engram.trading.strategy.Strategies;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * The main job: the bundled synthetic sample (three symbols, hourly) → the cross-asset pattern memory, the
 * associative-memory strategies and the HNN strategy walk-forward beside buy-and-hold, the top-k similar past
 * patterns of the latest bar, a Monte-Carlo forecast from the latest state with the last fitted HNN, and a report
 * folder (index.html, PNG charts, metrics.json, per-bar CSVs).
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"The main job on the bundled synthetic sample (no network, no GPU): the cross-asset pattern",
                "memory, the memory strategies and the HNN strategy walk-forward beside buy-and-hold, a Monte-Carlo",
                "forecast from the latest state, and a report folder (index.html, charts, metrics.json, CSVs).",
                "Example (small, about 20 s): engram run --bars 1500 --train-bars 600 --test-bars 300 --strategies memory,hnn "
                        + "--paths 100 --horizon-bars 12 --k 5 --out out/run-small"})
final class RunCommand implements Callable<Integer> {
    @Mixin
    final EngineOptions engineOptions = new EngineOptions();

    @Mixin
    final SeedOption seedOption = new SeedOption(0);

    @Mixin
    final OutputOption output = new OutputOption("out/run");

    @Option(names = "--strategies", split = ",", defaultValue = "memory,store,dense,hnn",
            description = "strategies, any of memory, store, dense, hnn (default: ${DEFAULT-VALUE})")
    List<String> strategies;

    @Option(names = "--bars", defaultValue = "6000",
            description = "the last N hourly bars of each sample symbol are used (default: ${DEFAULT-VALUE})")
    int bars;

    @Option(names = "--train-bars", defaultValue = "2000",
            description = "bars of the first (anchored) training window (default: ${DEFAULT-VALUE})")
    int trainBars;

    @Option(names = "--test-bars", defaultValue = "500",
            description = "decision bars per walk-forward test window (default: ${DEFAULT-VALUE})")
    int testBars;

    @Option(names = "--horizon-bars", defaultValue = "48",
            description = "Monte-Carlo forecast horizon in bars (default: ${DEFAULT-VALUE})")
    int forecastBars;

    @Option(names = "--paths", defaultValue = "1000",
            description = "Monte-Carlo paths (default: ${DEFAULT-VALUE})")
    int paths;

    @Option(names = "--k", defaultValue = "10", description = "top-k similar past patterns (default: ${DEFAULT-VALUE})")
    int k;

    private static final int HORIZON = 1;
    private static final double FEE_BPS = 5;
    private static final double SLIPPAGE_BPS = 2;

    @Override
    public Integer call() throws Exception {
        long t0 = System.nanoTime();
        validate();
        Path out = output.out;
        Files.createDirectories(out);
        boolean terminal = System.console() != null && System.console().isTerminal();
        Backend retrievalEngine = engineOptions.select(Capability.RETRIEVAL);
        Backend ensembleEngine = engineOptions.select(Capability.INTEGRATION);

        // data: the bundled synthetic sample, generated from its seed (the same bits as `engram data sample`)
        Map<String, SyntheticMarket.SymbolData> sample = SyntheticMarket.generate(SyntheticMarket.Params.defaults());
        List<MarketData> universe = new ArrayList<>();
        Annualisation ann = null;
        for (SyntheticMarket.SymbolData sd : sample.values()) {
            BarSeries s = sd.bars();
            if (bars > s.size()) {
                throw new IllegalArgumentException("--bars " + bars + " exceeds the sample's " + s.size()
                        + " bars per symbol; use at most " + s.size());
            }
            BarSeries last = s.slice(s.size() - bars, s.size());
            if (ann == null) {
                ann = Annualisation.of(last);
            }
            universe.add(MarketData.of(last, ann.barsPerYear()));
        }
        MarketData traded = universe.getFirst();
        int first = traded.features().first();
        if (trainBars + first + testBars > bars - 2) {
            throw new IllegalArgumentException("--train-bars " + trainBars + " + --test-bars " + testBars
                    + " + the feature warm-up " + first + " must fit in --bars " + bars + " (minus 2)");
        }
        WalkForward wf = new WalkForward(trainBars, testBars, HORIZON, 0, true);
        Backtester.Settings settings = Backtester.Settings.of(wf, new Costs(FEE_BPS, SLIPPAGE_BPS));
        int folds = wf.folds(first, traded.size()).size();
        SignalRule rule = new SignalRule(0.1, 0.5, 5, 1.0);
        Strategies.Settings ss = new Strategies.Settings(retrievalEngine, Double.NaN, 0.5, k, rule,
                RiskRules.defaults(), seedOption.seed);

        // walk-forward backtests
        Map<String, BacktestResult> results = new LinkedHashMap<>();
        Map<String, Map<String, Object>> fits = new LinkedHashMap<>();
        Map<String, Double> seconds = new LinkedHashMap<>();
        float memoryBeta = Float.NaN;
        HnnStrategy.Latest hnn = null;
        try (ProgressBar pb = terminal ? new ProgressBarBuilder().setTaskName("walk-forward folds")
                .setInitialMax((long) folds * strategies.size()).build() : null) {
            for (String name : strategies) {
                long s0 = System.nanoTime();
                Strategies.Settings use = name.equals("hnn")
                        ? new Strategies.Settings(ensembleEngine, ss.beta(), ss.targetConfidence(), ss.k(),
                        ss.signal(), ss.risk(), ss.seed()) : ss;
                try (Strategy s = Strategies.create(name, use)) {
                    if (pb != null) {
                        pb.setExtraMessage(name);
                    }
                    results.put(name, Backtester.run(traded, universe, s, settings, (f, n) -> {
                        if (pb != null) {
                            pb.step();
                        }
                    }));
                    fits.put(name, Strategies.describe(s));
                    if (s instanceof MemoryStrategy ms && !ms.fits().isEmpty()) {
                        memoryBeta = ms.fits().getLast().beta();
                    }
                    if (s instanceof HnnStrategy hs) {
                        hnn = hs.latest().orElse(null);
                    }
                }
                seconds.put(name, (System.nanoTime() - s0) / 1e9);
            }
        }
        BacktestResult any = results.values().iterator().next();
        BacktestResult bh = Backtester.buyAndHold(traded, any);

        // the latest bar against the whole cross-asset memory of realised patterns
        Similar similar = similar(traded, universe, retrievalEngine,
                Float.isNaN(memoryBeta) ? (float) dev.engram.hopfield.PatternStore.DEFAULT_BETA : memoryBeta);

        // Monte-Carlo from the latest state (and from the state forecastBars earlier, whose outcome is known)
        Forecast ahead = null;
        Forecast hindcast = null;
        if (hnn != null) {
            ahead = forecast(hnn, traded.series(), traded.size() - 1, ensembleEngine, seedOption.seed, paths,
                    forecastBars);
            hindcast = forecast(hnn, traded.series(), traded.size() - 1 - forecastBars, ensembleEngine,
                    seedOption.seed + 1, paths, forecastBars);
        }
        double total = (System.nanoTime() - t0) / 1e9;

        Report rep = new Report(out, traded, universe, ann, results, bh, fits, seconds, similar, hnn, ahead, hindcast,
                retrievalEngine, ensembleEngine, total);
        rep.write();
        printSummary(rep);
        System.out.printf(Locale.ROOT, "report: %s (open it in a browser); %.1f s%n",
                out.resolve("index.html").toAbsolutePath(), (System.nanoTime() - t0) / 1e9);
        return 0;
    }

    private void validate() {
        for (String s : strategies) {
            if (!Strategies.NAMES.contains(s)) {
                throw new IllegalArgumentException("--strategies " + s + " is not one of " + Strategies.NAMES);
            }
        }
        if (strategies.isEmpty() || bars < 500 || trainBars < 100 || testBars < 10 || forecastBars < 1 || paths < 20
                || k < 1) {
            throw new IllegalArgumentException("need at least one strategy, --bars >= 500, --train-bars >= 100, "
                    + "--test-bars >= 10, --horizon-bars >= 1, --paths >= 20, --k >= 1; got --bars " + bars
                    + ", --train-bars " + trainBars + ", --test-bars " + testBars + ", --horizon-bars "
                    + forecastBars + ", --paths " + paths + ", --k " + k);
        }
    }

    /** One similar past pattern: its symbol, bar time, cosine similarity and realised forward return. */
    record Match(String symbol, long timeMs, double similarity, double outcome) {
    }

    /** The latest bar's retrieval: forecast, confidence and its top-k. */
    record Similar(long timeMs, int memorySize, float beta, double forecast, double confidence, List<Match> top) {
    }

    private Similar similar(MarketData traded, List<MarketData> universe, Backend engine, float beta) {
        int last = traded.size() - 1;
        WalkForward wf = new WalkForward(last - traded.features().first(), 1, HORIZON, 0, true);
        TrainingSet ts = TrainingSet.of(traded, universe, new WalkForward.Fold(0, traded.features().first(), last,
                last + 1), wf);
        int m = ts.size();
        int d = ts.dim();
        float[] v = new float[m];
        for (int r = 0; r < m; r++) {
            v[r] = (float) ts.outcome(r);
        }
        int kk = Math.min(k, m);
        try (FloatMatrix x = FloatMatrix.of(ts.patterns(), m, d); FloatMatrix vm = FloatMatrix.of(v, m, 1);
             PatternMemory mem = PatternMemory.of(x, vm);
             FloatMatrix q = FloatMatrix.of(traded.features().row(last), 1, d)) {
            RetrievalResult r = engine.retrieve(mem, q, new RetrievalParams(beta, kk));
            List<Match> top = new ArrayList<>();
            long[] idx = r.topIndices(0);
            float[] sc = r.topScores(0);
            for (int i = 0; i < kk; i++) {
                int row = (int) idx[i];
                top.add(new Match(ts.symbolNames().get(ts.symbol(row)), ts.time(row), sc[i], ts.outcome(row)));
            }
            return new Similar(traded.series().startMs(last), m, beta, r.output(0)[0], r.confidence()[0], top);
        }
    }

    /**
     * A Monte-Carlo price fan from the state at bar {@code at}.
     *
     * @param price   5 × (H+1) quantiles of the close, k = 0 … H bars ahead
     * @param realised H+1 realised closes (NaN past the data)
     */
    record Forecast(long fromMs, double startClose, double[][] price, double[] realised, int paths, int diverged,
                    int stepsPerBar) {
    }

    /**
     * Paths of (q, p) from the state at bar {@code at} perturbed by N(0, 0.05²) in each scaled coordinate, integrated
     * with Tao's scheme, momentum noise at the fitted level; the price path follows from q, the deviation of the log
     * close from its w-bar moving average, given the last w log closes (exact bar by bar).
     */
    static Forecast forecast(HnnStrategy.Latest h, BarSeries series, int at, Backend engine, long seed, int paths,
                             int forecastBars) {
        int w = h.window();
        int from = Math.max(0, at - w - 5);
        double[] c = new double[at + 1 - from];
        for (int i = from; i <= at; i++) {
            c[i - from] = series.close(i);
        }
        double[][] st = PricePhase.states(c, w);
        int lastState = st[0].length - 1;
        float q0 = (float) (st[0][lastState] / h.qScale());
        float p0 = (float) (st[1][lastState] / h.pScale());
        int stepsPerBar = 10;
        int steps = stepsPerBar * forecastBars;
        EnsembleSpec spec = new EnsembleSpec(h.model().toEnsembleModel(), new float[] {q0}, new float[] {p0}, null,
                paths, 1f / stepsPerBar, steps, 0.05f, 0.05f, (float) h.noise(), seed, stepsPerBar, true,
                EnsembleSpec.FAN, EnsembleSpec.Scheme.TAO, EnsembleSpec.DEFAULT_TAO_OMEGA);
        EnsembleResult r = engine.integrate(spec);
        int samples = r.sampleSteps().length; // forecastBars + 1
        double c0 = c[c.length - 1];
        // the last w log closes up to bar `at`: the moving average the path's q is measured from
        double[] window = new double[w];
        double ma0 = 0;
        for (int j = 0; j < w; j++) {
            window[j] = Math.log(c[c.length - w + j]);
            ma0 += window[j] / w;
        }
        double[][] prices = new double[samples][paths];
        double[] ring = new double[w];
        int diverged = 0;
        for (int i = 0; i < paths; i++) {
            if (r.divergedAtStep()[i] >= 0) {
                diverged++;
            }
            System.arraycopy(window, 0, ring, 0, w);
            double ma = ma0;
            prices[0][i] = c0;
            for (int s = 1; s < samples; s++) {
                // q = L − MA with MA' = MA + (L − L_old)/w  ⇒  L = (q + MA − L_old/w) / (1 − 1/w)
                int oldest = (s - 1) % w;
                double lOld = ring[oldest];
                double l = (h.qScale() * r.path(s, i, 0) + ma - lOld / w) / (1 - 1.0 / w);
                ma += (l - lOld) / w;
                ring[oldest] = l;
                prices[s][i] = Math.exp(l);
            }
        }
        double[][] q = new double[5][samples];
        for (int s = 0; s < samples; s++) {
            double[] v = Arrays.stream(prices[s]).filter(Double::isFinite).sorted().toArray();
            for (int l = 0; l < 5; l++) {
                q[l][s] = v.length == 0 ? Double.NaN : ForecastMetrics.quantile(v, EnsembleSpec.FAN[l]);
            }
        }
        double[] real = new double[samples];
        for (int s = 0; s < samples; s++) {
            real[s] = at + s < series.size() ? series.close(at + s) : Double.NaN;
        }
        return new Forecast(series.startMs(at), c0, q, real, paths, diverged, stepsPerBar);
    }

    private void printSummary(Report rep) {
        Annualisation ann = rep.ann;
        PerformanceMetrics b = PerformanceMetrics.of(rep.bh, ann);
        BacktestResult any = rep.results.values().iterator().next();
        long[] times = any.times();
        System.out.printf(Locale.ROOT, "engram run: synthetic sample (SYNTHETIC data, made-up symbols), %s traded, "
                        + "memory of %s; last %d hourly bars each; walk-forward %d folds: first training window %d "
                        + "bars (anchored), test %d bars, horizon %d bar; fees %s + slippage %s bps per side%n",
                rep.traded.symbol(), String.join("+", rep.universe.stream().map(MarketData::symbol).toList()), bars,
                any.folds().size(), trainBars, testBars, HORIZON, (int) FEE_BPS, (int) SLIPPAGE_BPS);
        System.out.printf(Locale.ROOT, "test period %s .. %s (%d bars); engines: retrieval %s, ensembles %s%n",
                Instant.ofEpochMilli(times[0]), Instant.ofEpochMilli(times[times.length - 1]), any.bars(),
                rep.retrievalEngine.name(), rep.ensembleEngine.name());
        String f = "%-14s %10s %8s %10s %8s %8s%n";
        System.out.printf(f, "strategy", "return", "Sharpe", "max DD", "trades", "seconds");
        for (Map.Entry<String, BacktestResult> e : rep.results.entrySet()) {
            PerformanceMetrics m = PerformanceMetrics.of(e.getValue(), ann);
            System.out.printf(f, e.getKey(), BacktestCommand.pct(m.totalReturn()), BacktestCommand.num(m.sharpe()),
                    BacktestCommand.pct(m.drawdown().max()), m.trades(),
                    String.format(Locale.ROOT, "%.1f", rep.seconds.get(e.getKey())));
        }
        System.out.printf(f, "buy & hold", BacktestCommand.pct(b.totalReturn()), BacktestCommand.num(b.sharpe()),
                BacktestCommand.pct(b.drawdown().max()), b.trades(), "");
        if (rep.ahead != null) {
            Forecast a = rep.ahead;
            int hEnd = a.price[0].length - 1;
            System.out.printf(Locale.ROOT, "Monte-Carlo (%d paths, HNN of the last fold) %d bars ahead of %s: median %.2f,"
                            + " 5-95%% %.2f .. %.2f (last close %.2f)%n", a.paths, hEnd,
                    Instant.ofEpochMilli(a.fromMs), a.price[2][hEnd], a.price[0][hEnd], a.price[4][hEnd], a.startClose);
        }
    }

    /** Everything the report shows, and how it is written. */
    static final class Report {
        final Path out;
        final MarketData traded;
        final List<MarketData> universe;
        final Annualisation ann;
        final Map<String, BacktestResult> results;
        final BacktestResult bh;
        final Map<String, Map<String, Object>> fits;
        final Map<String, Double> seconds;
        final Similar similar;
        final HnnStrategy.Latest hnn;
        final Forecast ahead;
        final Forecast hindcast;
        final Backend retrievalEngine;
        final Backend ensembleEngine;
        final double totalSeconds;

        Report(Path out, MarketData traded, List<MarketData> universe, Annualisation ann,
               Map<String, BacktestResult> results, BacktestResult bh, Map<String, Map<String, Object>> fits,
               Map<String, Double> seconds, Similar similar, HnnStrategy.Latest hnn, Forecast ahead,
               Forecast hindcast, Backend retrievalEngine, Backend ensembleEngine, double totalSeconds) {
            this.out = out;
            this.traded = traded;
            this.universe = universe;
            this.ann = ann;
            this.results = results;
            this.bh = bh;
            this.fits = fits;
            this.seconds = seconds;
            this.similar = similar;
            this.hnn = hnn;
            this.ahead = ahead;
            this.hindcast = hindcast;
            this.retrievalEngine = retrievalEngine;
            this.ensembleEngine = ensembleEngine;
            this.totalSeconds = totalSeconds;
        }

        void write() throws Exception {
            RunReport.write(this);
        }
    }
}
