package dev.engram.cli;

import dev.engram.engine.Capability;
import dev.engram.trading.data.BarSource;
import dev.engram.trading.data.BinanceClient;
import dev.engram.trading.data.BybitClient;
import dev.engram.trading.data.HttpFetcher;
import dev.engram.trading.data.Interval;
import dev.engram.trading.live.BarFeed;
import dev.engram.trading.live.DecisionLog;
import dev.engram.trading.live.ExchangeBarFeed;
import dev.engram.trading.live.FileBarFeed;
import dev.engram.trading.live.SignalLoop;
import dev.engram.trading.strategy.TrainedModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code engram watch}: the live signal loop over an exchange or a file that is appended to. */
@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"The live signal loop: polls Bybit, Binance or a CSV file for each newly closed bar, decides it",
                "with a trained model (`engram train`) from the bars up to it, prints one line and appends it to a",
                "JSON-lines log; a restart resumes from the log without repeating or skipping a bar. With --store and a",
                "store model it also learns online: each pattern whose outcome the closed bars realise is added to the",
                "pattern store file before the next decision (a restart neither adds one twice nor skips one).",
                "Example: engram watch --model out/models/btc-memory.engram --file sample/SYNBTC-60.csv --catch-up 3"
                        + " --max-decisions 3 --log out/watch/btc.jsonl",
                "Example: engram watch --model out/models/btc-store.engram --store out/watch/btc-store.eps"
                        + " --file sample/SYNBTC-60.csv --catch-up 3 --max-decisions 3 --log out/watch/btc-store.jsonl"})
final class WatchCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "a model file from engram train "
            + "(memory, store or dense; an hnn model's decisions depend on the window they are made in, so it is "
            + "refused here: use engram forecast)")
    Path model;

    @Option(names = "--source", defaultValue = "file", description = "bybit, binance or file (default: "
            + "${DEFAULT-VALUE})")
    String source;

    @Option(names = "--symbol", description = "the exchange's symbol, e.g. BTCUSDT")
    String symbol;

    @Option(names = "--file", paramLabel = "FILE", description = "--source file: the CSV file another program "
            + "appends closed bars to")
    Path file;

    @Option(names = "--interval", description = "bar interval; must be the model's (default: the model's)")
    String interval;

    @Option(names = "--category", defaultValue = "linear",
            description = "bybit: spot, linear, inverse; binance: spot, linear (default: ${DEFAULT-VALUE})")
    String category;

    @Option(names = "--base-url", description = "override the exchange's base URL")
    String baseUrl;

    @Option(names = "--log", paramLabel = "FILE", description = "the JSON-lines log (default: "
            + "out/watch/SYMBOL-KIND.jsonl); an existing log is resumed")
    Path log;

    @Option(names = "--store", paramLabel = "FILE", description = "store models: learn online into this pattern "
            + "store file (created from the model's store when missing; an existing one must have grown from this "
            + "model's store), written before each decision that follows a learned pattern and after each poll; "
            + "restart with the same --log and --store together. FILE.through records the bar FILE learned through; "
            + "earlier bars are refused (use the log that grew the store, or a new --store path). FILE.lock keeps "
            + "a second watch off FILE while one runs")
    Path store;

    @Option(names = "--catch-up", defaultValue = "1", description = "on a new log, decide this many of the bars "
            + "already closed at start (default: ${DEFAULT-VALUE})")
    int catchUp;

    @Option(names = "--history-bars", defaultValue = "1000", description = "bars of history an exchange source "
            + "fetches first for the features (a file source reads the whole file) (default: ${DEFAULT-VALUE})")
    int historyBars;

    @Option(names = "--max-decisions", defaultValue = "0", description = "stop after this many decisions (default: "
            + "${DEFAULT-VALUE} = run until stopped)")
    int maxDecisions;

    @Mixin
    final EngineOptions engineOptions = new EngineOptions();

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(model)) {
            throw new NoSuchFileException("--model " + model + ": no such file; write one with engram train");
        }
        if (maxDecisions < 0) {
            throw new IllegalArgumentException("--max-decisions must be >= 0, got " + maxDecisions);
        }
        try (TrainedModel m = TrainedModel.load(model, engineOptions.select(Capability.RETRIEVAL), List.of())) {
            if (m.kind().equals("hnn")) {
                throw new IllegalArgumentException("--model " + model + " is an hnn model: its decision at a bar "
                        + "depends on the bar's place in the window it is decided in (the ensemble's random draws "
                        + "and the energy stop-loss), so deciding bar by bar as the backtest would costs an "
                        + "ensemble over every bar since training; watch runs memory, store and dense models, use "
                        + "engram forecast for an hnn model (why: java/docs/trained-models-and-live-loop.md)");
            }
            Interval iv = m.data().interval();
            if (interval != null && Interval.parse(interval) != iv) {
                throw new IllegalArgumentException("--interval " + interval + " is not the model's interval " + iv
                        + "; train a model on " + interval + " bars");
            }
            BarFeed feed = feed(iv);
            Path logFile = log != null ? log : Path.of("out", "watch", feed.symbol() + "-" + m.kind() + ".jsonl");
            OutputFolder.check("--log", logFile.toAbsolutePath().getParent());
            DecisionLog dl = DecisionLog.open(logFile);
            if (dl.repaired()) {
                System.err.println("engram watch: " + logFile + " ended in a partial line (a run stopped while "
                        + "writing it); cut it off, that bar is decided again");
            }
            SignalLoop.Settings s = SignalLoop.Settings.defaults().withCatchUp(catchUp)
                    .withHistoryBars(file != null ? 0 : historyBars);
            if (store != null) {
                if (!m.kind().equals("store")) {
                    throw new IllegalArgumentException("--store learns into a pattern store, but --model " + model
                            + " is a " + m.kind() + " model; train one with engram train --strategy store");
                }
                OutputFolder.check("--store", store.toAbsolutePath().getParent());
                Files.createDirectories(store.toAbsolutePath().getParent());
            }
            SignalLoop loop;
            try {
                loop = new SignalLoop(m, model.toString(), feed, dl, System::currentTimeMillis,
                        HttpFetcher.Sleeper.REAL, s, System.out, System.err, store);
            } catch (IllegalArgumentException e) {
                if (store == null || e.getMessage() == null || !e.getMessage().startsWith(store + " was not grown")) {
                    throw e;
                }
                throw new IllegalArgumentException("--store " + e.getMessage() + "; give a new --store path (it "
                        + "starts from the model's store) or the file an earlier watch of this model wrote", e);
            }
            System.err.println("engram watch: " + m.kind() + " model " + model + " on " + feed.symbol() + " " + iv
                    + (dl.decisions() > 0 ? ", resuming after " + dl.decisions() + " logged decisions" : "")
                    + "; log " + logFile + (store != null ? "; learning into " + store : ""));
            SignalLoop.Stats st;
            // Ctrl-C ends the JVM without unwinding: the hook releases and deletes the store's lock file then
            Thread unlock = new Thread(() -> {
                try {
                    loop.close();
                } catch (java.io.IOException e) {
                    // the OS releases the lock with the process anyway
                }
            });
            Runtime.getRuntime().addShutdownHook(unlock);
            try (loop) {
                st = loop.run(maxDecisions, Long.MAX_VALUE);
            } finally {
                try {
                    Runtime.getRuntime().removeShutdownHook(unlock);
                } catch (IllegalStateException e) {
                    // already shutting down: the hook runs
                }
            }
            System.err.printf(Locale.ROOT, "engram watch: %d decisions, %d polls, %d duplicate, %d late bars, %d gaps,"
                            + " %d failed polls; decision latency mean %.2f ms, max %.2f ms%n", st.decisions(),
                    st.polls(), st.duplicates(), st.late(), st.gaps(), st.errors(), st.meanLatencyMs(),
                    st.maxLatencyMs());
            if (store != null) {
                System.err.println("engram watch: learned " + st.learned() + " patterns this run; " + store
                        + " holds " + ((dev.engram.trading.strategy.StoreStrategy) m.strategy()).storeSize());
            }
        }
        return 0;
    }

    private BarFeed feed(Interval iv) throws Exception {
        String src = source.toLowerCase(Locale.ROOT);
        if (src.equals("file")) {
            if (file == null) {
                throw new IllegalArgumentException("--source file needs --file FILE.csv");
            }
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException("--file " + file + ": no such file");
            }
            return new FileBarFeed(file, iv);
        }
        if (symbol == null) {
            throw new IllegalArgumentException("--source " + source + " needs --symbol, e.g. --symbol BTCUSDT");
        }
        String cat = category.toLowerCase(Locale.ROOT);
        BarSource bs = switch (src) {
            case "bybit" -> new BybitClient(baseUrl != null ? baseUrl : BybitClient.DEFAULT_BASE_URL,
                    HttpFetcher.Config.defaults()).source(cat);
            case "binance" -> {
                BinanceClient b = new BinanceClient(baseUrl != null ? baseUrl : BinanceClient.DEFAULT_SPOT_URL,
                        baseUrl != null ? baseUrl : BinanceClient.DEFAULT_FUTURES_URL, HttpFetcher.Config.defaults());
                yield switch (cat) {
                    case "spot" -> b.source(BinanceClient.Market.SPOT);
                    case "linear" -> b.source(BinanceClient.Market.FUTURES);
                    default -> throw new IllegalArgumentException("--category " + category
                            + " is not one of spot, linear for binance");
                };
            }
            default -> throw new IllegalArgumentException("--source " + source + " is not one of bybit, binance, file");
        };
        return new ExchangeBarFeed(bs, symbol, iv);
    }
}
