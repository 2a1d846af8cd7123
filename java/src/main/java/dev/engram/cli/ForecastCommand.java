package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Capability;
import dev.engram.tensor.AtomicFiles;
import dev.engram.trading.backtest.Decision;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketView;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.strategy.HnnStrategy;
import dev.engram.trading.strategy.MemoryStrategy;
import dev.engram.trading.strategy.SimilarPattern;
import dev.engram.trading.strategy.StoreStrategy;
import dev.engram.trading.strategy.TrainedModel;
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
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code engram forecast}: a trained model's decision and forecast at one bar t (the file's last by default), from
 * the bars up to t only: the file is cut after t before any feature is computed.
 */
@Command(name = "forecast", mixinStandardHelpOptions = true,
        description = {"The signal and forecast of a trained model (`engram train`) at the last bar of a CSV file, or at",
                "--at, from the bars up to that bar only; for an HNN also the Monte-Carlo final-state quantiles of its",
                "ensemble. Prints text; --json writes the same as JSON ('-' for standard output).",
                "Example: engram forecast --model out/models/btc-memory.engram --data sample/SYNBTC-60.csv"
                        + " --json out/forecast.json"})
final class ForecastCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "FILE", description = "a model file from engram train")
    Path model;

    @Option(names = "--data", required = true, paramLabel = "FILE", description = "the traded symbol's CSV file")
    Path data;

    @Option(names = "--at", paramLabel = "TIME", description = "decide at the last bar that starts at or before this "
            + "day or instant (default: the file's last bar)")
    String at;

    @Option(names = "--funding", paramLabel = "FILE", description = "funding-rate CSV, for a port-HNN model")
    Path funding;

    @Option(names = "--open-interest", paramLabel = "FILE", description = "open-interest CSV, for a port-HNN model")
    Path openInterest;

    @Option(names = "--top", defaultValue = "3", description = "similar past patterns shown for memory and store "
            + "models (default: ${DEFAULT-VALUE})")
    int top;

    @Option(names = "--json", paramLabel = "FILE", description = "also write the forecast as JSON to FILE ('-': "
            + "standard output, instead of the text)")
    Path json;

    @Option(names = "--fan", paramLabel = "FILE.png", description = "HNN models: also a Monte-Carlo price fan from the "
            + "state at the bar (5-95% and 25-75% bands, median) as a chart, with its quantile table in the text and JSON")
    Path fan;

    @Option(names = "--bars-ahead", defaultValue = "48", description = "bars the fan reaches ahead (default: ${DEFAULT-VALUE})")
    int barsAhead;

    @Option(names = "--paths", defaultValue = "1000", description = "Monte-Carlo paths of the fan (default: ${DEFAULT-VALUE})")
    int paths;

    @Option(names = "--seed", defaultValue = "1", description = "seed of the fan's paths (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--interval", description = "bar interval (default: inferred from the file)")
    String interval;

    @Mixin
    final EngineOptions engineOptions = new EngineOptions();

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(model)) {
            throw new NoSuchFileException("--model " + model + ": no such file; write one with engram train");
        }
        if (top < 0) {
            throw new IllegalArgumentException("--top must be >= 0, got " + top);
        }
        if (fan != null && (barsAhead < 1 || barsAhead > 10_000 || paths < 10 || paths > 10_000_000)) {
            throw new IllegalArgumentException("--bars-ahead must be in [1, 10000] and --paths in [10, 1e7], got "
                    + barsAhead + " and " + paths);
        }
        BarSeries all = BarFiles.read("--data", data, interval, false);
        int t = all.size() - 1;
        if (at != null) {
            long atMs = FetchCommand.parseDay(at, "--at", false);
            while (t >= 0 && all.startMs(t) > atMs) {
                t--;
            }
            if (t < 0) {
                throw new IllegalArgumentException("--at " + at + " is before the first bar of " + data + " ("
                        + Instant.ofEpochMilli(all.firstMs()) + ")");
            }
        }
        BarSeries upToT = t == all.size() - 1 ? all : all.slice(0, t + 1); // nothing after t reaches the features
        var inputs = BarFiles.inputs(funding, openInterest);
        TrainedModel m = TrainedModel.load(model, engineOptions.select(Capability.RETRIEVAL), inputs);
        if (m.kind().equals("hnn")) { // its ensembles run on the integration engine
            m.close();
            m = TrainedModel.load(model, engineOptions.select(Capability.INTEGRATION), inputs);
        }
        ObjectNode out = forecast(m, upToT, t);
        if (json == null || !json.toString().equals("-")) {
            System.out.print(text(out));
        }
        if (json != null) {
            String s = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
            if (json.toString().equals("-")) {
                System.out.println(s);
            } else {
                AtomicFiles.writeString(json, s + "\n");
                System.out.println("wrote " + json);
            }
        }
        return 0;
    }

    /** The forecast at bar t of {@code bars} (its last bar) as JSON; closes {@code m}. */
    private ObjectNode forecast(TrainedModel m, BarSeries bars, int t) throws Exception {
        try (m) {
            MarketData md = m.marketData(bars, "--data " + data);
            m.checkDecisionTime(bars.startMs(t), "--at bar");
            MarketView v = md.viewAt(t);
            if (!v.hasFeatures(t)) {
                throw new IllegalArgumentException("bar " + Instant.ofEpochMilli(bars.startMs(t)) + " of " + data
                        + " has no features yet (they need " + md.features().first() + " earlier bars)");
            }
            long t0 = System.nanoTime();
            Decision d = m.strategy().decideAll(List.of(v)).getFirst();
            double ms = (System.nanoTime() - t0) / 1e6;
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model", model.toString());
            o.put("kind", !m.kind().equals("hnn") || m.hnnKind() == HnnStrategy.Kind.HNN ? m.kind()
                    : "hnn-" + m.hnnKind().label());
            o.put("symbol", bars.symbol());
            o.put("interval", bars.interval().toString());
            o.put("trained_from", Instant.ofEpochMilli(m.data().firstBarMs()).toString());
            o.put("trained_through", Instant.ofEpochMilli(m.data().lastBarMs()).toString());
            o.put("bar", Instant.ofEpochMilli(bars.startMs(t)).toString());
            o.put("close", bars.close(t));
            o.put("horizon_bars", m.data().horizon());
            o.put("forecast_return", d.signal());
            o.put("confidence", d.confidence());
            o.put("position", d.position());
            o.put("return_p5", d.lower());
            o.put("return_p95", d.upper());
            o.put("anomaly", d.anomaly());
            o.put("milliseconds", ms);
            List<SimilarPattern> similar = switch (m.strategy()) {
                case MemoryStrategy ms2 -> ms2.similar(v, top);
                case StoreStrategy ss -> ss.similar(v, top);
                default -> List.of();
            };
            List<Map<String, Object>> sim = new ArrayList<>();
            for (SimilarPattern p : similar) {
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("time", Instant.ofEpochMilli(p.timeMs()).toString());
                e.put("symbol", p.symbol());
                e.put("similarity", p.similarity());
                e.put("outcome", p.outcome());
                sim.add(e);
            }
            o.put("similar", sim);
            if (m.strategy() instanceof HnnStrategy hs && hs.lastFinalState().isPresent()) {
                HnnStrategy.FinalState f = hs.lastFinalState().get();
                Map<String, Object> mc = new LinkedHashMap<>();
                mc.put("trajectories", f.trajectories());
                mc.put("diverged", f.diverged());
                mc.put("levels", HnnStrategy.LEVELS);
                mc.put("q0", f.q0());
                mc.put("p0", f.p0());
                mc.put("q", f.q());
                mc.put("p", f.p());
                mc.put("energy", f.energy());
                mc.put("forward_return", f.forwardReturn());
                mc.put("engine", m.settings().engine().name());
                o.put("monte_carlo", mc);
            }
            if (fan != null) {
                HnnStrategy.Latest latest = m.strategy() instanceof HnnStrategy hs ? hs.latest().orElse(null) : null;
                if (latest == null) {
                    throw new IllegalArgumentException("--fan needs an HNN model (engram train --strategy hnn); "
                            + model + " is a " + m.kind() + " model");
                }
                // the bars after t were cut before anything was read: the fan cannot see them
                RunCommand.Forecast f = RunCommand.forecast(latest, bars, t, m.settings().engine(), seed, paths,
                        barsAhead);
                double[] x = new double[f.price()[0].length];
                for (int i = 0; i < x.length; i++) {
                    x[i] = i;
                }
                dev.engram.report.ReportCharts.fan(fan, "Monte-Carlo fan of " + bars.symbol() + " close from "
                                + Instant.ofEpochMilli(bars.startMs(t)) + ", " + f.paths() + " HNN paths",
                        "bars ahead (" + bars.interval().binanceName() + " bars)", "close (price units)", x, f.price(), null);
                List<Map<String, Object>> rows = new ArrayList<>();
                for (int k = 0; k < x.length; k++) {
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("bars_ahead", k);
                    r.put("p5", f.price()[0][k]);
                    r.put("p25", f.price()[1][k]);
                    r.put("median", f.price()[2][k]);
                    r.put("p75", f.price()[3][k]);
                    r.put("p95", f.price()[4][k]);
                    rows.add(r);
                }
                Map<String, Object> fo = new LinkedHashMap<>();
                fo.put("chart", fan.toString());
                fo.put("paths", f.paths());
                fo.put("diverged", f.diverged());
                fo.put("quantiles", rows);
                o.put("fan", fo);
            }
            return BacktestCommand.toJson(o);
        }
    }

    static String text(ObjectNode o) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "%s model of %s %s (trained on %s .. %s), bar %s, close %.6g%n",
                o.get("kind").asText(), o.get("symbol").asText(), o.get("interval").asText(),
                o.get("trained_from").asText(), o.get("trained_through").asText(), o.get("bar").asText(),
                o.get("close").asDouble()));
        double pos = o.get("position").asDouble();
        sb.append(String.format(Locale.ROOT, "  forecast return over %d bar(s): %s, confidence %s, position %+.3f (%s)%s%n",
                o.get("horizon_bars").asInt(), pct(o.get("forecast_return")), num(o.get("confidence")), pos,
                pos > 0 ? "long" : pos < 0 ? "short" : "flat", o.get("anomaly").asBoolean() ? ", energy anomaly" : ""));
        if (!o.get("return_p5").isNull()) {
            sb.append("  5-95% band of the return: ").append(pct(o.get("return_p5"))).append(" .. ")
                    .append(pct(o.get("return_p95"))).append('\n');
        }
        for (var e : o.get("similar")) {
            String sym = e.get("symbol").asText();
            sb.append(String.format(Locale.ROOT, "  similar: %s%s similarity %.3f, outcome %s%n", e.get("time").asText(),
                    sym.isEmpty() ? "" : " " + sym, e.get("similarity").asDouble(), pct(e.get("outcome"))));
        }
        var mc = o.get("monte_carlo");
        if (mc != null) {
            sb.append(String.format(Locale.ROOT, "  Monte-Carlo final state after %d bar(s), %d trajectories (%d "
                            + "diverged), engine %s; start q0 %.4f, p0 %.4f%n", o.get("horizon_bars").asInt(),
                    mc.get("trajectories").asInt(), mc.get("diverged").asInt(), mc.get("engine").asText(),
                    mc.get("q0").asDouble(), mc.get("p0").asDouble()));
            sb.append(String.format(Locale.ROOT, "    %-6s %10s %10s %10s %10s%n", "level", "q", "p", "H", "return"));
            for (int j = 0; j < mc.get("levels").size(); j++) {
                sb.append(String.format(Locale.ROOT, "    %-6s %10.4f %10.4f %10.4f %10s%n",
                        Math.round(100 * mc.get("levels").get(j).asDouble()) + "%", mc.get("q").get(j).asDouble(),
                        mc.get("p").get(j).asDouble(), mc.get("energy").get(j).asDouble(),
                        pct(mc.get("forward_return").get(j))));
            }
        }
        var fanNode = o.get("fan");
        if (fanNode != null) {
            sb.append(String.format(Locale.ROOT, "  Monte-Carlo price fan (%d paths, %d diverged), chart %s:%n",
                    fanNode.get("paths").asInt(), fanNode.get("diverged").asInt(), fanNode.get("chart").asText()));
            sb.append("    bars ahead        5%       25%    median       75%       95%\n");
            var q = fanNode.get("quantiles");
            int last = q.size() - 1;
            for (int k : java.util.stream.IntStream.of(1, 6, 12, 24, last).filter(k -> k <= last).distinct().sorted()
                    .toArray()) {
                var r = q.get(k);
                sb.append(String.format(Locale.ROOT, "    %10d %9.6g %9.6g %9.6g %9.6g %9.6g%n", k, r.get("p5").asDouble(),
                        r.get("p25").asDouble(), r.get("median").asDouble(), r.get("p75").asDouble(),
                        r.get("p95").asDouble()));
            }
        }
        return sb.toString();
    }

    private static String pct(com.fasterxml.jackson.databind.JsonNode v) {
        return v == null || v.isNull() ? "n/a" : String.format(Locale.ROOT, "%+.4f%%", 100 * v.asDouble());
    }

    private static String num(com.fasterxml.jackson.databind.JsonNode v) {
        return v == null || v.isNull() ? "n/a" : String.format(Locale.ROOT, "%.3f", v.asDouble());
    }
}
