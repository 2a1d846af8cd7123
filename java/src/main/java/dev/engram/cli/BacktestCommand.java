package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.tensor.AtomicFiles;
import dev.engram.trading.backtest.BacktestResult;
import dev.engram.trading.backtest.Backtester;
import dev.engram.trading.backtest.Costs;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketFeatures;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.WalkForward;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.data.Interval;
import dev.engram.trading.data.TimedValues;
import dev.engram.trading.metrics.Annualisation;
import dev.engram.trading.metrics.ForecastMetrics;
import dev.engram.trading.metrics.PerformanceMetrics;
import dev.engram.trading.strategy.HnnStrategy;
import dev.engram.trading.strategy.Strategies;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code engram backtest}: one strategy walk-forward over a CSV file, beside buy-and-hold over the same bars; prints
 * the metrics table and writes the JSON and the per-bar CSV.
 */
@Command(name = "backtest", mixinStandardHelpOptions = true,
        description = {"Walk-forward backtest of a strategy on an OHLCV CSV file (any file `engram data info` reads),",
                "beside buy-and-hold over the same bars. Decisions at a bar's close fill at the next open.",
                "Example: engram backtest --data sample/SYNBTC-60.csv --strategy memory --memory-data "
                        + "sample/SYNETH-60.csv,sample/SYNSOL-60.csv"})
final class BacktestCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "the traded symbol's CSV file")
    Path data;

    @Option(names = "--memory-data", split = ",", description = "more symbols' CSV files whose patterns the memory "
            + "also holds (cross-asset; purged in time like the traded one)")
    List<Path> memoryData = new ArrayList<>();

    @Option(names = "--strategy", defaultValue = "memory",
            description = "memory, store, dense or hnn (default: ${DEFAULT-VALUE})")
    String strategy;

    @Option(names = "--hnn-kind", defaultValue = "hnn", description = "model of --strategy hnn: hnn (general H), "
            + "separable (T(p) + V(q)), dissipative (learned damping) or port (driven by --funding / --open-interest)"
            + " (default: ${DEFAULT-VALUE})")
    String hnnKind;

    @Option(names = "--funding", description = "funding-rate CSV (time,value; e.g. SYMBOL-funding.csv from engram data"
            + " synthetic): an input u(t) of --hnn-kind port")
    Path funding;

    @Option(names = "--open-interest", description = "open-interest CSV (time,value): its relative change is an input "
            + "u(t) of --hnn-kind port")
    Path openInterest;

    @Option(names = "--train-bars", description = "bars in the first (anchored) or every (--sliding) training window "
            + "(default: half the bars after the feature warm-up, at most 5000)")
    Integer trainBars;

    @Option(names = "--test-bars", description = "decision bars per test window (default: a tenth of the bars after "
            + "the warm-up, between 5 and 720)")
    Integer testBars;

    @Option(names = "--sliding", description = "sliding training windows (default: anchored)")
    boolean sliding;

    @Option(names = "--horizon", defaultValue = "1", description = "outcome horizon h in bars (default: ${DEFAULT-VALUE})")
    int horizon;

    @Option(names = "--embargo", defaultValue = "0", description = "bars dropped after the purge (default: ${DEFAULT-VALUE})")
    int embargo;

    @Option(names = "--fee-bps", defaultValue = "5", description = "fee per side in bps (default: ${DEFAULT-VALUE})")
    double feeBps;

    @Option(names = "--slippage-bps", defaultValue = "2", description = "slippage per side in bps (default: ${DEFAULT-VALUE})")
    double slippageBps;

    @Mixin
    final StrategyOptions strategyOptions = new StrategyOptions();

    @Option(names = "--interval", description = "bar interval (default: inferred from the file)")
    String interval;

    @Option(names = "--adjusted", description = "adjust prices by the adj close column (stock files)")
    boolean adjusted;

    @Option(names = "--json", description = "the metrics JSON (default: OUT/backtest-STRATEGY.json)")
    Path json;

    @Option(names = "--out", defaultValue = "out/backtest", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--backend", defaultValue = "auto", description = "engine: auto, reference, cpu, … (default: ${DEFAULT-VALUE})")
    String backend;

    @Option(names = "--seed", defaultValue = "0", description = "seed of the trained strategies (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        BarSeries traded = read(data);
        List<BarSeries> others = new ArrayList<>();
        for (Path p : memoryData) {
            BarSeries s = read(p);
            if (s.interval() != traded.interval()) {
                throw new IllegalArgumentException("--memory-data " + p + " has interval " + s.interval()
                        + " but --data " + data + " has " + traded.interval() + ": use files of one interval");
            }
            others.add(s);
        }
        Annualisation ann = Annualisation.of(traded);
        MarketData tradedData = MarketData.of(traded, ann.barsPerYear());
        List<MarketData> universe = new ArrayList<>(List.of(tradedData));
        for (BarSeries s : others) {
            universe.add(MarketData.of(s, Annualisation.of(s).barsPerYear()));
        }
        int first = tradedData.features().first();
        int usable = traded.size() - first - 1;
        if (usable < 20) {
            throw new IllegalArgumentException(data + " has " + traded.size() + " bars; the features need "
                    + first + " bars of warm-up and a backtest at least 20 more (" + (first + 21) + " bars in all)");
        }
        int train = trainBars != null ? trainBars : Math.max(horizon + embargo + 2, Math.min(5000, usable / 2));
        int test = testBars != null ? testBars : Math.clamp(usable / 10, 5, 720);
        WalkForward wf = new WalkForward(train, test, horizon, embargo, !sliding);
        Backtester.Settings settings = Backtester.Settings.of(wf, new Costs(feeBps, slippageBps));
        Backend engine = Backends.select(backend);
        Strategies.Settings ss = strategyOptions.settings(engine, seed);
        long t0 = System.nanoTime();
        BacktestResult r;
        Map<String, Object> fits;
        boolean terminal = System.console() != null && System.console().isTerminal();
        HnnStrategy.Kind kind = HnnStrategy.Kind.parse(hnnKind);
        List<TimedValues> inputs = new ArrayList<>();
        if (funding != null) {
            inputs.add(readInputs("--funding", funding));
        }
        if (openInterest != null) {
            inputs.add(readInputs("--open-interest", openInterest).relativeChange("open_interest_change"));
        }
        try (Strategy s = Strategies.create(strategy, ss, kind, inputs)) {
            r = Backtester.run(tradedData, universe, s, settings, (fold, n) -> {
                if (terminal) {
                    System.err.printf("\r  fold %d/%d", fold.index() + 1, n);
                }
            });
            fits = Strategies.describe(s);
        }
        if (terminal) {
            System.err.println();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        BacktestResult bh = Backtester.buyAndHold(tradedData, r);
        PerformanceMetrics pm = PerformanceMetrics.of(r, ann);
        PerformanceMetrics bhm = PerformanceMetrics.of(bh, ann);
        ForecastMetrics fm = ForecastMetrics.of(r);
        long[] times = r.times();
        System.out.printf("%s on %s (interval %s), %s; %d folds, train %d bars (%s), test %d, horizon %d, embargo %d;"
                        + " fees %s + slippage %s bps per side; engine %s; %.1f s%n", strategy, traded.symbol(),
                traded.interval(), others.isEmpty() ? "memory of 1 symbol" : "memory of " + universe.size() + " symbols",
                r.folds().size(), train, sliding ? "sliding" : "anchored", test, horizon, embargo, fmt(feeBps),
                fmt(slippageBps), engine.name(), seconds);
        System.out.println("test period " + Instant.ofEpochMilli(times[0]) + " .. " + Instant.ofEpochMilli(times[times.length - 1])
                + " (" + r.bars() + " bars); annualised with " + ann.basis());
        System.out.print(table(pm, bhm));
        System.out.printf("forecasts: hit rate %s when trading, coverage %s, mean confidence trading %s, Brier %s"
                        + " (0.25 = coin)%n", pct(fm.hitRate()), pct(fm.coverage()), num(fm.meanConfidenceTrading()),
                num(fm.brier()));
        double[] q = fm.confidenceQuantiles();
        System.out.printf("confidence distribution: 5%% %s, 25%% %s, median %s, 75%% %s, 95%% %s%n", num(q[0]),
                num(q[1]), num(q[2]), num(q[3]), num(q[4]));
        if (!Double.isNaN(fm.bandCoverage())) {
            System.out.printf("forecast at the horizon: RMSE %s, inside the 5-95%% band %s, energy anomalies %d%n",
                    num(fm.forecastRmse()), pct(fm.bandCoverage()), fm.anomalies());
        }
        Files.createDirectories(out);
        Path csv = out.resolve("backtest-" + strategy + "-bars.csv");
        r.writeCsv(csv);
        Path jsonFile = json != null ? json : out.resolve("backtest-" + strategy + ".json");
        ObjectNode root = JsonNodeFactory.instance.objectNode();
        ObjectNode sNode = toJson(pm.toMap());
        sNode.set("forecast", toJson(fm.toMap()));
        sNode.set("fits", toJson(fits));
        root.set("strategy", sNode);
        root.set("buy_and_hold", toJson(bhm.toMap()));
        ObjectNode period = root.putObject("period");
        period.put("first", Instant.ofEpochMilli(times[0]).toString());
        period.put("last", Instant.ofEpochMilli(times[times.length - 1]).toString());
        period.put("bars", r.bars());
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("strategy", strategy);
        st.put("data", data.toString());
        st.put("symbol", traded.symbol());
        st.put("memory_symbols", universe.stream().map(MarketData::symbol).toList());
        st.put("interval", traded.interval().toString());
        if (strategy.equals("hnn")) {
            st.put("hnn_kind", kind.label());
            st.put("inputs", inputs.stream().map(TimedValues::name).toList());
        }
        st.put("train_bars", train);
        st.put("test_bars", test);
        st.put("windows", sliding ? "sliding" : "anchored");
        st.put("folds", r.folds().size());
        st.put("horizon", horizon);
        st.put("embargo", embargo);
        st.put("fee_bps", feeBps);
        st.put("slippage_bps", slippageBps);
        st.put("beta", strategyOptions.beta == null ? "calibrated" : strategyOptions.beta);
        st.put("target_confidence", strategyOptions.targetConfidence);
        st.put("confidence_threshold", strategyOptions.minConfidence);
        st.put("threshold_sigma", strategyOptions.threshold);
        st.put("scale", strategyOptions.scale);
        st.put("k", strategyOptions.k);
        st.put("risk_rules", !strategyOptions.noRisk);
        st.put("feature_lookback", MarketFeatures.DEFAULT_LOOKBACK);
        st.put("feature_z_window", MarketFeatures.DEFAULT_Z_WINDOW);
        st.put("engine", engine.name());
        st.put("seed", seed);
        st.put("seconds", seconds);
        root.set("settings", toJson(st));
        AtomicFiles.writeString(jsonFile, new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                .writeValueAsString(root));
        System.out.println("wrote " + jsonFile + " and " + csv);
        return 0;
    }

    private static TimedValues readInputs(String option, Path p) throws Exception {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(option + " " + p + ": no such file");
        }
        return TimedValues.read(p);
    }

    private BarSeries read(Path p) throws Exception {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(p + ": no such file");
        }
        CsvBars.Options o = CsvBars.Options.defaults().withPrices(adjusted ? CsvBars.Prices.ADJUSTED : CsvBars.Prices.RAW);
        if (interval != null) {
            o = o.withInterval(Interval.parse(interval));
        }
        return CsvBars.read(p, o);
    }

    static String table(PerformanceMetrics s, PerformanceMetrics b) {
        StringBuilder sb = new StringBuilder();
        String f = "%-22s %14s %14s%n";
        sb.append(String.format(f, "", "strategy", "buy & hold"));
        row(sb, f, "total return", pct(s.totalReturn()), pct(b.totalReturn()));
        row(sb, f, "CAGR", pct(s.cagr()), pct(b.cagr()));
        row(sb, f, "annual volatility", pct(s.annualVol()), pct(b.annualVol()));
        row(sb, f, "Sharpe", num(s.sharpe()), num(b.sharpe()));
        row(sb, f, "Sortino", num(s.sortino()), num(b.sortino()));
        row(sb, f, "Calmar", num(s.calmar()), num(b.calmar()));
        row(sb, f, "max drawdown", pct(s.drawdown().max()), pct(b.drawdown().max()));
        row(sb, f, "  duration (bars)", Integer.toString(s.drawdown().durationBars()),
                Integer.toString(b.drawdown().durationBars()));
        row(sb, f, "  recovery (bars)", rec(s.drawdown()), rec(b.drawdown()));
        row(sb, f, "trades", Integer.toString(s.trades()), Integer.toString(b.trades()));
        row(sb, f, "win rate", pct(s.winRate()), pct(b.winRate()));
        row(sb, f, "profit factor", num(s.profitFactor()), num(b.profitFactor()));
        row(sb, f, "expectancy / trade", pct(s.expectancy()), pct(b.expectancy()));
        row(sb, f, "average win", pct(s.averageWin()), pct(b.averageWin()));
        row(sb, f, "average loss", pct(s.averageLoss()), pct(b.averageLoss()));
        row(sb, f, "exposure", pct(s.exposure()), pct(b.exposure()));
        row(sb, f, "turnover / year", num(s.turnover()), num(b.turnover()));
        row(sb, f, "fees + slippage", pct(s.totalFees() + s.totalSlippage()), pct(b.totalFees() + b.totalSlippage()));
        return sb.toString();
    }

    private static String rec(dev.engram.trading.metrics.Drawdown d) {
        return d.recoveryBars() < 0 ? (d.max() > 0 ? "not yet" : "-") : Integer.toString(d.recoveryBars());
    }

    private static void row(StringBuilder sb, String f, String name, String a, String b) {
        sb.append(String.format(f, name, a, b));
    }

    static String pct(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.2f%%", 100 * v);
    }

    static String num(double v) {
        return Double.isNaN(v) ? "n/a" : String.format("%.3f", v);
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? Long.toString((long) v) : Double.toString(v);
    }

    /** Maps, lists, numbers and strings to JSON; NaN and infinities become null (JSON has no NaN). */
    static ObjectNode toJson(Map<String, ?> m) {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        m.forEach((key, v) -> o.set(key, node(v)));
        return o;
    }

    @SuppressWarnings("unchecked")
    private static JsonNode node(Object v) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        return switch (v) {
            case null -> f.nullNode();
            case Double d -> Double.isFinite(d) ? f.numberNode(d) : f.nullNode();
            case Float x -> Float.isFinite(x) ? f.numberNode(x) : f.nullNode();
            case Integer i -> f.numberNode(i);
            case Long l -> f.numberNode(l);
            case Boolean b -> f.booleanNode(b);
            case Map<?, ?> mm -> toJson((Map<String, ?>) mm);
            case List<?> list -> {
                ArrayNode a = f.arrayNode();
                list.forEach(x -> a.add(node(x)));
                yield a;
            }
            case double[] arr -> {
                ArrayNode a = f.arrayNode();
                for (double x : arr) {
                    a.add(node(x));
                }
                yield a;
            }
            default -> f.textNode(v.toString());
        };
    }
}
