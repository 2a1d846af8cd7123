package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.report.HtmlReport;
import dev.engram.report.ReportCharts;
import dev.engram.report.ReportSeries;
import dev.engram.tensor.AtomicFiles;
import dev.engram.trading.backtest.BacktestResult;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.metrics.ForecastMetrics;
import dev.engram.trading.metrics.PerformanceMetrics;
import dev.engram.trading.strategy.HnnStrategy;
import dev.engram.trading.strategy.PricePhase;

import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes the main job's report folder: charts, index.html, metrics.json and the per-bar CSVs. */
final class RunReport {
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").withZone(ZoneOffset.UTC);
    /** Rolling windows of the report, in hourly bars. */
    static final int SHARPE_WINDOW = 720;
    static final int CONFIDENCE_SMOOTHING = 24;
    static final int ENERGY_WINDOW = 100;
    static final int PHASE_BARS = 120;

    private RunReport() {
    }

    static void write(RunCommand.Report r) throws Exception {
        Path out = r.out;
        String sym = r.traded.symbol();
        BacktestResult any = r.results.values().iterator().next();
        long[] times = any.times();
        double init = any.initialEquity();
        String period = DAY.format(Instant.ofEpochMilli(times[0])) + " .. " + DAY.format(Instant.ofEpochMilli(
                times[times.length - 1])) + " UTC";
        HtmlReport html = new HtmlReport("Engram main job: " + sym + " on the synthetic sample");

        // per-bar CSVs
        List<String> csvs = new ArrayList<>();
        for (Map.Entry<String, BacktestResult> e : r.results.entrySet()) {
            String f = "bars-" + e.getKey() + ".csv";
            e.getValue().writeCsv(out.resolve(f));
            csvs.add(f);
        }
        r.bh.writeCsv(out.resolve("bars-buy-and-hold.csv"));
        csvs.add("bars-buy-and-hold.csv");

        // summary
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("strategy", "total return", "CAGR", "Sharpe", "Sortino", "max drawdown", "trades", "win rate",
                "exposure", "fees + slippage", "hit rate", "mean confidence"));
        Map<String, PerformanceMetrics> pms = new LinkedHashMap<>();
        Map<String, ForecastMetrics> fms = new LinkedHashMap<>();
        for (Map.Entry<String, BacktestResult> e : r.results.entrySet()) {
            PerformanceMetrics m = PerformanceMetrics.of(e.getValue(), r.ann);
            ForecastMetrics fm = ForecastMetrics.of(e.getValue());
            pms.put(e.getKey(), m);
            fms.put(e.getKey(), fm);
            rows.add(row(e.getKey(), m, fm));
        }
        PerformanceMetrics bhm = PerformanceMetrics.of(r.bh, r.ann);
        rows.add(row("buy & hold", bhm, null));
        html.section("summary", "Summary",
                HtmlReport.p("Walk-forward backtests of " + sym + " hourly bars, " + period + " (" + any.bars()
                        + " decision bars, " + any.folds().size() + " folds), each beside buy-and-hold over the same"
                        + " bars. Decisions at a bar's close fill at the next bar's open; fees 5 bps and slippage 2 bps"
                        + " per side are charged. Annualised with " + r.ann.basis() + ".")
                        + HtmlReport.table(rows));
        html.section("reading", "What these results show and do not show",
                HtmlReport.p("They show how each strategy would have traded this data under the stated rules and"
                        + " costs, with every model fitted only on data available before each test window (purged"
                        + " of outcomes not yet realised).")
                        + HtmlReport.p("They do not show that any strategy works on real markets: the data are"
                        + " SYNTHETIC (a seeded process with regimes, documented in SyntheticMarket; the symbols are"
                        + " made up), the period is short, there is one run per strategy with one seed and no"
                        + " confidence interval, and no parameter was tuned out of sample. Hourly trading with these"
                        + " costs is dominated by the costs; a negative result here is a result, not a bug.")
                        + HtmlReport.p("The Monte-Carlo fan is the spread of one fitted HNN's paths under its own"
                        + " noise model; it is not a calibrated probability of prices."));

        // equity and underwater
        Map<String, double[]> eq = new LinkedHashMap<>();
        Map<String, double[]> uw = new LinkedHashMap<>();
        Map<String, double[]> rs = new LinkedHashMap<>();
        for (Map.Entry<String, BacktestResult> e : r.results.entrySet()) {
            eq.put(e.getKey(), e.getValue().equity());
            uw.put(e.getKey(), ReportSeries.underwater(init, e.getValue().equity()));
            rs.put(e.getKey(), ReportSeries.rollingSharpe(init, e.getValue().equity(), SHARPE_WINDOW,
                    r.ann.barsPerYear()));
        }
        eq.put("buy & hold", r.bh.equity());
        uw.put("buy & hold", ReportSeries.underwater(init, r.bh.equity()));
        rs.put("buy & hold", ReportSeries.rollingSharpe(init, r.bh.equity(), SHARPE_WINDOW, r.ann.barsPerYear()));
        String costs = "fees 5 + slippage 2 bps/side";
        ReportCharts.timeLines(out.resolve("equity.png"), "Equity of each strategy vs buy-and-hold, " + sym
                + " hourly, walk-forward, " + costs, String.format(Locale.ROOT, "equity (start %,.0f)", init), times,
                eq, init >= 100 ? "#,##0" : "0.00");
        ReportCharts.timeLines(out.resolve("underwater.png"), "Underwater curve (drawdown from the running peak), "
                + sym + " hourly", "drawdown from the peak (%)", times, uw, "0%");
        ReportCharts.timeLines(out.resolve("rolling-sharpe.png"), "Rolling Sharpe ratio, " + SHARPE_WINDOW
                        + "-bar (30-day) window, annualised, " + sym, "Sharpe ratio (annualised)", times, rs, "0.0");
        html.section("equity", "Equity and drawdown",
                HtmlReport.figure("equity.png", "equity curves", "Equity of each strategy (after costs) and of"
                        + " buy-and-hold over the same bars.")
                        + HtmlReport.figure("underwater.png", "underwater curves", "Fraction below the running peak"
                        + " of equity.")
                        + HtmlReport.figure("rolling-sharpe.png", "rolling Sharpe", "Sharpe ratio of the last "
                        + SHARPE_WINDOW + " hourly returns, annualised with " + r.ann.basis() + "."));

        // monthly heatmaps
        StringBuilder months = new StringBuilder();
        Map<String, BacktestResult> withBh = new LinkedHashMap<>(r.results);
        withBh.put("buy-and-hold", r.bh);
        for (Map.Entry<String, BacktestResult> e : withBh.entrySet()) {
            ReportSeries.Monthly mo = ReportSeries.monthly(times, init, e.getValue().equity());
            String f = "monthly-" + e.getKey() + ".png";
            ReportCharts.monthlyHeatmap(out.resolve(f), "Monthly returns (%), " + e.getKey() + ", " + sym
                    + " (UTC months)", mo.years(), mo.returns());
            months.append(HtmlReport.figure(f, "monthly returns of " + e.getKey(), "Monthly returns of "
                    + e.getKey() + " in percent (the first and last months are partial)."));
        }
        html.section("monthly", "Monthly returns", months.toString());

        // calibration and confidence
        Map<String, double[][]> cal = new LinkedHashMap<>();
        Map<String, double[]> conf = new LinkedHashMap<>();
        for (Map.Entry<String, ForecastMetrics> e : fms.entrySet()) {
            List<double[]> pts = new ArrayList<>();
            for (ForecastMetrics.Bin b : e.getValue().calibration()) {
                if (b.count() >= 20 && Double.isFinite(b.hitRate())) {
                    pts.add(new double[] {b.meanConfidence(), b.hitRate()});
                }
            }
            cal.put(e.getKey() + " (bins with >= 20 forecasts)", new double[][] {
                    pts.stream().mapToDouble(p -> p[0]).toArray(), pts.stream().mapToDouble(p -> p[1]).toArray()});
            if (!e.getKey().equals("hnn")) {
                conf.put(e.getKey(), smooth(r.results.get(e.getKey()).confidence(), CONFIDENCE_SMOOTHING));
            }
        }
        ReportCharts.calibration(out.resolve("calibration.png"), "Calibration: hit rate per confidence bin, "
                + sym + ", horizon " + any.horizon() + " bar", cal);
        StringBuilder calHtml = new StringBuilder(HtmlReport.figure("calibration.png", "calibration",
                "A calibrated forecaster's points lie on the diagonal; points near 0.5 mean the sign is a coin toss."));
        if (!conf.isEmpty()) {
            ReportCharts.timeLines(out.resolve("confidence.png"), "Retrieval confidence 1 - H(attention)/log M, "
                            + CONFIDENCE_SMOOTHING + "-bar mean, " + sym, "confidence (0 = uniform, 1 = one pattern)",
                    times, conf, "0.00");
            calHtml.append(HtmlReport.figure("confidence.png", "retrieval confidence over time", "Confidence of the"
                    + " memory strategies' retrievals, averaged over " + CONFIDENCE_SMOOTHING + " bars; β is"
                    + " calibrated at every fit so the held-out mean confidence is 0.5."));
        }
        html.section("forecasts", "Forecast quality", calHtml.toString());

        // similar patterns
        RunCommand.Similar s = r.similar;
        List<String> labels = new ArrayList<>();
        double[] outcomes = new double[s.top().size()];
        List<List<String>> simRows = new ArrayList<>();
        simRows.add(List.of("rank", "bar (UTC)", "symbol", "cosine similarity", "realised next-bar return"));
        for (int i = 0; i < s.top().size(); i++) {
            RunCommand.Match m = s.top().get(i);
            labels.add(String.format(Locale.ROOT, "%s %s (%.2f)", DateTimeFormatter.ofPattern("MM-dd HH:mm")
                    .withZone(ZoneOffset.UTC).format(Instant.ofEpochMilli(m.timeMs())), m.symbol(), m.similarity()));
            outcomes[i] = m.outcome();
            simRows.add(List.of(Integer.toString(i + 1), DAY.format(Instant.ofEpochMilli(m.timeMs())), m.symbol(),
                    String.format(Locale.ROOT, "%.3f", m.similarity()), BacktestCommand.pct(m.outcome())));
        }
        ReportCharts.similarPatterns(out.resolve("similar.png"), "Top-" + s.top().size()
                + " past patterns most similar to the latest bar (" + DAY.format(Instant.ofEpochMilli(s.timeMs()))
                + "), cross-asset memory of " + s.memorySize(), labels, outcomes);
        html.section("similar", "Patterns most similar to the latest bar",
                HtmlReport.p(String.format(Locale.ROOT, "The latest bar of %s (%s UTC) against the memory of all %d"
                                + " realised patterns of %s; softmax retrieval at β = %.2f forecasts %s for the next bar"
                                + " with confidence %.3f.", sym, DAY.format(Instant.ofEpochMilli(s.timeMs())),
                        s.memorySize(), String.join(", ", r.universe.stream().map(MarketData::symbol).toList()),
                        s.beta(), BacktestCommand.pct(s.forecast()), s.confidence()))
                        + HtmlReport.figure("similar.png", "similar past patterns", "Each bar is one past pattern"
                        + " (bar time, symbol, similarity); its height is what the price did over the next bar.")
                        + HtmlReport.table(simRows));

        // HNN
        if (r.hnn != null) {
            hnnSections(r, html, times);
        }

        // settings, engines, machine
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode machine = Machine.describe(json);
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("data", "synthetic sample (SyntheticMarket defaults, seed 20240101), last bars per symbol");
        settings.put("symbols", r.universe.stream().map(MarketData::symbol).toList());
        settings.put("traded", sym);
        settings.put("bars_per_symbol", r.traded.size());
        settings.put("period", period);
        settings.put("strategies", new ArrayList<>(r.results.keySet()));
        settings.put("walk_forward", any.folds().size() + " anchored folds, first training window "
                + (any.folds().getFirst().testFrom() - any.folds().getFirst().trainFrom()) + " bars, test "
                + any.folds().getFirst().testSize() + " bars, horizon " + any.horizon() + ", no embargo");
        settings.put("costs", "fee 5 bps + slippage 2 bps per side");
        settings.put("features", "market pattern, lookback 20, z-score window 50");
        settings.put("signal", "trade when |forecast| > 0.1 sigma of training outcomes, confidence >= 0.5, "
                + "position 5 per sigma x confidence, |position| <= 1; novelty, consensus and volatility rules on");
        settings.put("beta", "calibrated per fit to mean confidence 0.5");
        settings.put("top_k", s.top().size());
        if (r.ahead != null) {
            settings.put("monte_carlo", r.ahead.paths() + " paths, " + (r.ahead.price()[0].length - 1) + " bars, "
                    + r.ahead.stepsPerBar() + " Tao steps per bar, initial perturbation 0.05, momentum noise as fitted");
        }
        settings.put("seconds", Math.round(r.totalSeconds * 10) / 10.0);
        List<List<String>> setRows = new ArrayList<>();
        setRows.add(List.of("setting", "value"));
        settings.forEach((k, v) -> setRows.add(List.of(k, String.valueOf(v))));
        List<List<String>> engRows = new ArrayList<>();
        engRows.add(List.of("what", "value"));
        engRows.add(List.of("retrieval engine", r.retrievalEngine.name()));
        engRows.add(List.of("ensemble engine", r.ensembleEngine.name()));
        machine.fields().forEachRemaining(e -> engRows.add(List.of(e.getKey(), e.getValue().asText())));
        html.section("settings", "Settings", HtmlReport.table(setRows));
        html.section("machine", "Engines and machine", HtmlReport.table(engRows));
        html.section("files", "Files", HtmlReport.p("metrics.json (every number above), per-bar CSVs: "
                + String.join(", ", csvs) + " (time, close, signal, confidence, position, pnl, equity)."));

        // metrics.json
        ObjectNode root = json.createObjectNode();
        ObjectNode strat = root.putObject("strategies");
        for (String name : r.results.keySet()) {
            ObjectNode n = BacktestCommand.toJson(pms.get(name).toMap());
            n.set("forecast", BacktestCommand.toJson(fms.get(name).toMap()));
            n.set("fits", BacktestCommand.toJson(r.fits.get(name)));
            n.put("seconds", r.seconds.get(name));
            strat.set(name, n);
        }
        root.set("buy_and_hold", BacktestCommand.toJson(bhm.toMap()));
        ObjectNode sim = root.putObject("latest_bar");
        sim.put("time", Instant.ofEpochMilli(s.timeMs()).toString());
        sim.put("memory_size", s.memorySize());
        sim.put("beta", s.beta());
        sim.put("forecast", s.forecast());
        sim.put("confidence", s.confidence());
        ArrayNode top = sim.putArray("top_k");
        for (RunCommand.Match m : s.top()) {
            ObjectNode t = top.addObject();
            t.put("time", Instant.ofEpochMilli(m.timeMs()).toString());
            t.put("symbol", m.symbol());
            t.put("similarity", m.similarity());
            t.put("outcome", m.outcome());
        }
        if (r.ahead != null) {
            root.set("monte_carlo", forecastJson(json, r.ahead));
            root.set("monte_carlo_hindcast", forecastJson(json, r.hindcast));
        }
        root.set("settings", BacktestCommand.toJson(settings));
        ObjectNode eng = root.putObject("engines");
        eng.put("retrieval", r.retrievalEngine.name());
        eng.put("ensemble", r.ensembleEngine.name());
        root.set("machine", machine);
        AtomicFiles.writeString(out.resolve("metrics.json"), json.writeValueAsString(root));
        html.write(out.resolve("index.html"));
    }

    private static ObjectNode forecastJson(ObjectMapper json, RunCommand.Forecast f) {
        ObjectNode n = json.createObjectNode();
        n.put("from", Instant.ofEpochMilli(f.fromMs()).toString());
        n.put("paths", f.paths());
        n.put("diverged", f.diverged());
        n.put("start_close", f.startClose());
        String[] names = {"p5", "p25", "p50", "p75", "p95"};
        for (int l = 0; l < 5; l++) {
            ArrayNode a = n.putArray(names[l]);
            for (double v : f.price()[l]) {
                a.add(v);
            }
        }
        ArrayNode real = n.putArray("realised");
        for (double v : f.realised()) {
            if (Double.isFinite(v)) {
                real.add(v);
            } else {
                real.addNull();
            }
        }
        return n;
    }

    private static void hnnSections(RunCommand.Report r, HtmlReport html, long[] times) throws Exception {
        HnnStrategy.Latest h = r.hnn;
        String sym = r.traded.symbol();
        int n = r.traded.size();
        double[] closes = r.traded.series().closes();
        double[][] st = PricePhase.states(closes, h.window());
        int off = PricePhase.first(h.window()); // state i belongs to bar i + off
        double[] q = new double[st[0].length];
        double[] p = new double[st[0].length];
        for (int i = 0; i < q.length; i++) {
            q[i] = st[0][i] / h.qScale();
            p[i] = st[1][i] / h.pScale();
        }
        // phase portrait: H on a grid around the last PHASE_BARS states
        int from = Math.max(0, q.length - PHASE_BARS);
        double[] tq = Arrays.copyOfRange(q, from, q.length);
        double[] tp = Arrays.copyOfRange(p, from, p.length);
        double[] xr = range(tq);
        double[] yr = range(tp);
        int g = 90;
        double[] xs = new double[g];
        double[] ys = new double[g];
        for (int i = 0; i < g; i++) {
            xs[i] = xr[0] + (xr[1] - xr[0]) * i / (g - 1);
            ys[i] = yr[0] + (yr[1] - yr[0]) * i / (g - 1);
        }
        double[][] z = new double[g][g];
        double[] all = new double[g * g];
        for (int j = 0; j < g; j++) {
            for (int i = 0; i < g; i++) {
                z[j][i] = h.hamiltonian().energy(new double[] {xs[i]}, new double[] {ys[j]});
                all[j * g + i] = z[j][i];
            }
        }
        Arrays.sort(all);
        double[] levels = new double[9];
        for (int l = 0; l < levels.length; l++) {
            levels[l] = ForecastMetrics.quantile(all, (l + 1) / 10.0);
        }
        String model = "HNN 2-32-32-1 of the last fold, w = " + h.window();
        ReportCharts.phasePortrait(r.out.resolve("phase-portrait.png"), "Learned H(q, p): contours and the last " + tq.length
                        + " bars of " + sym + " (last fold's HNN)",
                "q = (log close - " + h.window() + "-bar mean of log close) / " + fmt(h.qScale()),
                "p = last log return / " + fmt(h.pScale()), xs, ys, z, levels, tq, tp);
        // energy over the test period with the strategy's anomaly rule (|z| > 2 against the trailing energies)
        BacktestResult any = r.results.values().iterator().next();
        int firstBar = any.firstBar();
        double[] energy = new double[times.length];
        boolean[] anomaly = new boolean[times.length];
        double[] e = new double[q.length];
        for (int i = 0; i < q.length; i++) {
            e[i] = h.hamiltonian().energy(new double[] {q[i]}, new double[] {p[i]});
        }
        for (int j = 0; j < times.length; j++) {
            int si = firstBar + j - off;
            energy[j] = si >= 0 && si < e.length ? e[si] : Double.NaN;
            if (si >= ENERGY_WINDOW) {
                double[] tr = Arrays.copyOfRange(e, si - ENERGY_WINDOW, si);
                double mu = Arrays.stream(tr).average().orElse(0);
                double sd = Math.sqrt(Arrays.stream(tr).map(x -> (x - mu) * (x - mu)).sum() / (tr.length - 1));
                anomaly[j] = sd > 0 && Math.abs(e[si] - mu) / sd > 2;
            }
        }
        ReportCharts.energy(r.out.resolve("energy.png"), "Energy H(q, p) of each bar's state, test period, "
                + sym + " (" + model + ")", times, energy, anomaly);
        html.section("hnn", "Hamiltonian neural network",
                HtmlReport.p("The HNN strategy learns H(q, p) on each training window, where q is the log price's"
                        + " deviation from its moving average and p the last log return (both scaled by their"
                        + " training standard deviation). Shown: the model of the last fold.")
                        + HtmlReport.figure("phase-portrait.png", "phase portrait", "Contour lines of the learned H"
                        + " (marching squares on a 90 x 90 grid, levels at the deciles of H on the grid) and the"
                        + " realised trajectory of the last bars.")
                        + HtmlReport.figure("energy.png", "energy over time", "Energy of the realised state under"
                        + " the last fold's model; diamonds mark bars whose energy is more than 2 standard"
                        + " deviations from the previous " + ENERGY_WINDOW + " bars' (the strategy's anomaly rule)."));
        // Monte-Carlo fans
        StringBuilder mc = new StringBuilder();
        RunCommand.Forecast[] fs = {r.ahead, r.hindcast};
        String[] names = {"forecast.png", "forecast-hindcast.png"};
        String[] what = {"from the latest bar (" + DAY.format(Instant.ofEpochMilli(r.ahead.fromMs())) + ")",
                "from " + DAY.format(Instant.ofEpochMilli(r.hindcast.fromMs())) + " (hindcast)"};
        for (int i = 0; i < 2; i++) {
            RunCommand.Forecast f = fs[i];
            int len = f.price()[0].length;
            double[] x = new double[len];
            for (int k = 0; k < len; k++) {
                x[k] = k;
            }
            boolean known = Arrays.stream(f.realised()).anyMatch(Double::isFinite) && len > 1
                    && Double.isFinite(f.realised()[1]);
            ReportCharts.fan(r.out.resolve(names[i]), "Monte-Carlo fan of " + sym + " close " + what[i] + ", "
                            + f.paths() + " HNN paths",
                    "hours (hourly bars) ahead", "close (price units)", x, f.price(), known ? f.realised() : null);
            mc.append(HtmlReport.figure(names[i], "Monte-Carlo fan " + what[i], "Filled bands: 5-95% and 25-75% of"
                    + " the paths; line: the median" + (known ? "; black: what the price did." : ".")));
        }
        List<List<String>> qt = new ArrayList<>();
        qt.add(List.of("bars ahead", "5%", "25%", "median", "75%", "95%", "realised (hindcast)"));
        int len = r.ahead.price()[0].length;
        for (int k : new int[] {1, 6, 12, 24, len - 1}) {
            if (k >= len) {
                continue;
            }
            List<String> row = new ArrayList<>();
            row.add(Integer.toString(k));
            for (int l = 0; l < 5; l++) {
                row.add(String.format(Locale.ROOT, "%,.2f", r.ahead.price()[l][k]));
            }
            double rv = r.hindcast.realised()[k] / r.hindcast.startClose() - 1;
            double lo = r.hindcast.price()[0][k] / r.hindcast.startClose() - 1;
            double hi = r.hindcast.price()[4][k] / r.hindcast.startClose() - 1;
            row.add(String.format(Locale.ROOT, "%s (band %s .. %s)", BacktestCommand.pct(rv), BacktestCommand.pct(lo),
                    BacktestCommand.pct(hi)));
            qt.add(row);
        }
        mc.append(HtmlReport.p("Quantiles of the close from the latest bar (last close "
                + String.format(Locale.ROOT, "%,.2f", r.ahead.startClose()) + "); the last column is the hindcast's"
                + " realised return with its 5-95% band, as returns from its start."));
        mc.append(HtmlReport.table(qt));
        html.section("monte-carlo", "Monte-Carlo forecast", mc.toString());
    }

    private static double[] range(double[] v) {
        double lo = Arrays.stream(v).min().orElse(-1);
        double hi = Arrays.stream(v).max().orElse(1);
        double pad = 0.1 * Math.max(hi - lo, 1e-6);
        return new double[] {lo - pad, hi + pad};
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4g", v);
    }

    private static List<String> row(String name, PerformanceMetrics m, ForecastMetrics f) {
        return List.of(name, BacktestCommand.pct(m.totalReturn()), BacktestCommand.pct(m.cagr()),
                BacktestCommand.num(m.sharpe()), BacktestCommand.num(m.sortino()),
                BacktestCommand.pct(m.drawdown().max()), Integer.toString(m.trades()), BacktestCommand.pct(m.winRate()),
                BacktestCommand.pct(m.exposure()), BacktestCommand.pct(m.totalFees() + m.totalSlippage()),
                f == null ? "-" : BacktestCommand.pct(f.hitRate()), f == null ? "-" : BacktestCommand.num(f.meanConfidence()));
    }

    /** Trailing mean over {@code w} bars of the finite values (NaN when none). */
    static double[] smooth(double[] v, int w) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            double s = 0;
            int c = 0;
            for (int j = Math.max(0, i - w + 1); j <= i; j++) {
                if (Double.isFinite(v[j])) {
                    s += v[j];
                    c++;
                }
            }
            o[i] = c == 0 ? Double.NaN : s / c;
        }
        return o;
    }
}
