package dev.engram.cli;

import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.trading.backtest.FitProgress;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketFeatures;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.TimedValues;
import dev.engram.trading.features.MarketPattern;
import dev.engram.trading.metrics.Annualisation;
import dev.engram.trading.strategy.HnnStrategy;
import dev.engram.trading.strategy.Strategies;
import dev.engram.trading.strategy.TrainedModel;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code engram train}: fits one strategy (the pattern memory, the pattern store, the dense memory or an HNN) on a
 * window of bars and writes it as a versioned model file ({@link TrainedModel}) for {@code forecast} and
 * {@code watch}.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Trains a strategy's model (memory, store, dense or hnn) on the bars of a CSV file before --to and",
                "writes it as a versioned model file for `engram forecast` and `engram watch`. Labels are purged as in",
                "a walk-forward fold, so the model decides bars from the window's last bar on without look-ahead.",
                "Example: engram train --data sample/SYNBTC-60.csv --memory-data sample/SYNETH-60.csv --strategy memory"
                        + " --to 2023-10-01 --model out/models/btc-memory.engram",
                "Example: engram train --data sample/SYNBTC-60.csv --strategy store --to 2023-10-01"
                        + " --model out/models/btc-store.engram"})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "FILE", description = "the traded symbol's CSV file")
    Path data;

    @Option(names = "--memory-data", split = ",", paramLabel = "FILE", description = "more symbols' CSV files whose "
            + "patterns the memory also learns from (memory, store and dense)")
    List<Path> memoryData = new ArrayList<>();

    @Option(names = "--strategy", defaultValue = "memory", description = "memory, store, dense or hnn (default: "
            + "${DEFAULT-VALUE})")
    String strategy;

    @Option(names = "--hnn-kind", defaultValue = "hnn", description = "model of --strategy hnn: hnn, separable, "
            + "dissipative or port (default: ${DEFAULT-VALUE})")
    String hnnKind;

    @Option(names = "--funding", paramLabel = "FILE", description = "funding-rate CSV (time,value): an input of "
            + "--hnn-kind port")
    Path funding;

    @Option(names = "--open-interest", paramLabel = "FILE", description = "open-interest CSV (time,value): its "
            + "relative change is an input of --hnn-kind port")
    Path openInterest;

    @Option(names = "--from", paramLabel = "DATE", description = "first bar of the training window (default: the "
            + "first bar with features)")
    String from;

    @Option(names = "--to", paramLabel = "DATE", description = "train on bars that start before this day or instant "
            + "(default: every bar of the file)")
    String to;

    @Option(names = "--train-bars", paramLabel = "N", description = "keep only the last N bars of the window")
    Integer trainBars;

    @Option(names = "--horizon", defaultValue = "1", description = "outcome horizon h in bars (default: ${DEFAULT-VALUE})")
    int horizon;

    @Option(names = "--embargo", defaultValue = "0", description = "bars dropped after the purge (default: ${DEFAULT-VALUE})")
    int embargo;

    @Option(names = "--interval", description = "bar interval (default: inferred from the file)")
    String interval;

    @Option(names = "--model", paramLabel = "FILE", description = "the model file to write (default: "
            + "out/models/SYMBOL-STRATEGY.engram)")
    Path model;

    @Mixin
    StrategyOptions strategyOptions = new StrategyOptions();

    @Mixin
    final EngineOptions engineOptions = new EngineOptions();

    @Mixin
    final SeedOption seedOption = new SeedOption(0);

    @Override
    public Integer call() throws Exception {
        if (!Strategies.NAMES.contains(strategy)) {
            throw new IllegalArgumentException("--strategy " + strategy + " is not one of " + Strategies.NAMES);
        }
        HnnStrategy.Kind kind = HnnStrategy.Kind.parse(hnnKind);
        List<TimedValues> inputs = BarFiles.inputs(funding, openInterest);
        BarSeries traded = BarFiles.read("--data", data, interval, false);
        long toMs = to == null ? Long.MAX_VALUE : FetchCommand.parseDay(to, "--to", false);
        long fromMs = from == null ? Long.MIN_VALUE : FetchCommand.parseDay(from, "--from", false);
        traded = before(traded, toMs);
        double barsPerYear = Annualisation.of(traded).barsPerYear();
        TrainedModel.Features features = new TrainedModel.Features(MarketFeatures.DEFAULT_LOOKBACK,
                MarketFeatures.DEFAULT_Z_WINDOW, MarketPattern.DIM, barsPerYear);
        MarketData tradedData = features.of(traded);
        List<MarketData> universe = new ArrayList<>(List.of(tradedData));
        for (Path p : memoryData) {
            BarSeries s = before(BarFiles.read("--memory-data", p, interval, false), toMs);
            if (s.interval() != traded.interval()) {
                throw new IllegalArgumentException("--memory-data " + p + " has interval " + s.interval()
                        + " but --data " + data + " has " + traded.interval() + ": use files of one interval");
            }
            universe.add(features.of(s));
        }
        int testFrom = traded.size();
        int trainFrom = tradedData.features().first();
        while (trainFrom < testFrom && traded.startMs(trainFrom) < fromMs) {
            trainFrom++;
        }
        if (trainBars != null) {
            if (trainBars < 2) {
                throw new IllegalArgumentException("--train-bars must be >= 2, got " + trainBars);
            }
            trainFrom = Math.max(trainFrom, testFrom - trainBars);
        }
        if (testFrom - trainFrom < horizon + embargo + 2) {
            throw new IllegalArgumentException(data + " has " + (testFrom - trainFrom) + " bars with features in the "
                    + "training window (the features need " + tradedData.features().first() + " bars of warm-up); "
                    + "widen --from/--to or use a longer file");
        }
        Backend engine = engineOptions.select(strategy.equals("hnn") ? Capability.INTEGRATION : Capability.RETRIEVAL);
        Path out = model != null ? model : Path.of("out", "models", traded.symbol() + "-" + strategy + ".engram");
        OutputFolder.check("--model", out.toAbsolutePath().getParent());
        System.out.printf(Locale.ROOT, "training %s on %s %s, bars %s .. %s (%d bars, horizon %d, embargo %d), "
                        + "memory of %d symbol(s), engine %s%n", strategy.equals("hnn") ? "hnn (" + kind.label() + ")"
                        : strategy, traded.symbol(), traded.interval(), Instant.ofEpochMilli(traded.startMs(trainFrom)),
                Instant.ofEpochMilli(traded.startMs(testFrom - 1)), testFrom - trainFrom, horizon, embargo,
                strategy.equals("hnn") ? 1 : universe.size(), engine.name());
        long t0 = System.nanoTime();
        boolean terminal = System.console() != null && System.console().isTerminal();
        TrainedModel trained;
        // the fit's long phase on a progress bar (the memory's build and β calibration, the store's inserts, the dense
        // memory's rounds, the HNN's epochs); nothing when the output is not a terminal
        try (ProgressBar pb = terminal ? new ProgressBarBuilder().setTaskName("training " + strategy)
                .setInitialMax(1).build() : null) {
            trained = TrainedModel.train(strategy, strategyOptions.settings(engine, seedOption.seed), kind,
                    inputs, features, tradedData, strategy.equals("hnn") ? List.of(tradedData) : universe, trainFrom,
                    testFrom, horizon, embargo, pb == null ? FitProgress.NONE : (phase, done, total) -> {
                        pb.maxHint(Math.max(1, total));
                        pb.setExtraMessage(phase);
                        pb.stepTo(done);
                    });
        }
        try (TrainedModel m = trained) {
            double seconds = (System.nanoTime() - t0) / 1e9;
            Files.createDirectories(out.toAbsolutePath().getParent());
            m.save(out);
            System.out.printf(Locale.ROOT, "trained in %.2f s on %d labelled patterns: %s%n", seconds,
                    m.data().patterns(), figures(m.fit()));
            System.out.println("wrote " + out + " (" + Files.size(out) + " bytes, model format version "
                    + TrainedModel.VERSION + "); it decides bars from " + Instant.ofEpochMilli(m.data().lastBarMs())
                    + " on");
        }
        return 0;
    }

    /** The bars that start before {@code toMs}. */
    private static BarSeries before(BarSeries s, long toMs) {
        int n = 0;
        while (n < s.size() && s.startMs(n) < toMs) {
            n++;
        }
        if (n == 0) {
            throw new IllegalArgumentException(s.symbol() + " has no bar before --to " + Instant.ofEpochMilli(toMs));
        }
        return n == s.size() ? s : s.slice(0, n);
    }

    static String figures(Map<String, Object> fit) {
        StringBuilder sb = new StringBuilder();
        fit.forEach((k, v) -> {
            if (!k.equals("seconds")) {
                sb.append(sb.isEmpty() ? "" : ", ").append(k.replace('_', ' ')).append(' ')
                        .append(v instanceof Double d ? String.format(Locale.ROOT, "%.4g", d) : String.valueOf(v));
            }
        });
        return sb.toString();
    }
}
