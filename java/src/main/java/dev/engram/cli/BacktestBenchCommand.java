package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.trading.backtest.BacktestResult;
import dev.engram.trading.backtest.Backtester;
import dev.engram.trading.backtest.Costs;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.WalkForward;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.SyntheticMarket;
import dev.engram.trading.strategy.MemoryStrategy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Speed of the memory strategy's walk-forward over a cross-asset memory, per engine, beside the design text's per-bar
 * loop (bench/peers/backtest_loop.py: a rolling pandas window for the pattern and one PyTorch retrieval per bar).
 * <p>
 * Data: hourly bars of S symbols from {@link SyntheticMarket} (three symbols per seed, seeds 1, 2, …), sliding
 * training windows of W bars, monthly (720-bar) test windows; the memory of a window holds every symbol's patterns
 * whose outcome was realised before the window (M ≈ S·W, d = 11). Two sizes: M ≤ 10^5 (small) and M ≈ 10^6 (large);
 * the reference engine runs the small size only. Bars decided per second = decision bars / wall time of the whole
 * walk-forward (fits, β calibration, batched retrievals, fills), so the engine's figure includes everything the
 * peer's loop leaves out.
 */
@Command(name = "backtest", mixinStandardHelpOptions = true,
        description = {"Times the memory strategy's walk-forward over a cross-asset synthetic memory per engine at",
                "M <= 1e5 and M ~ 1e6 (d = 11) beside the per-bar pandas + PyTorch loop; writes backtest-*.json",
                "to --out.",
                "Example: engram bench backtest --small 2x2000 --large 3x3000 --engines cpu --peer-bars 0"})
final class BacktestBenchCommand implements Callable<Integer> {
    static final int MONTH = 720;

    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Mixin
    final TierOption tier = new TierOption();

    @Option(names = "--small", defaultValue = "10x10000", description = "symbols x training bars of the small memory "
            + "(default: ${DEFAULT-VALUE}, M ~ 1e5)")
    String small;

    @Option(names = "--large", description = "symbols x training bars of the large memory "
            + "(default: 10x40000 quick, M ~ 4e5; 25x40000 full, M ~ 1e6; 40000 hourly bars ~ 4.6 years)")
    String large;

    @Option(names = "--months", defaultValue = "1", description = "monthly test windows timed (default: ${DEFAULT-VALUE})")
    int months;

    @Option(names = "--engines", defaultValue = "reference,cpu", split = ",",
            description = "engines; reference runs the small memory only (default: ${DEFAULT-VALUE})")
    List<String> engines;

    @Option(names = "--peer-bars", defaultValue = "100", description = "bars timed in the per-bar peer "
            + "(default: ${DEFAULT-VALUE}; 0 = no peer)")
    int peerBars;

    @Option(names = "--beta", description = "fixed beta: skips the per-window beta calibration (default: calibrated, "
            + "as engram backtest does)")
    Double beta;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "the peer's Python (default: ${DEFAULT-VALUE})")
    String python;

    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        BenchResults.write(json, output.out, "backtest", measure(json));
        return 0;
    }

    ObjectNode measure(ObjectMapper json) throws Exception {
        String large = this.large != null ? this.large : tier.full() ? "25x40000" : "10x40000";
        if (months < 1 || peerBars < 0) {
            throw new IllegalArgumentException("--months must be >= 1 and --peer-bars >= 0; got " + months + ", "
                    + peerBars);
        }
        int[][] sizes = {parse("--small", small), parse("--large", large)};
        ObjectNode root = json.createObjectNode();
        root.set("machine", Machine.measureAndPrint(json));
        root.put("tier", tier.name());
        root.put("beta", beta == null ? "calibrated per window" : beta.toString());
        root.put("test_bars_per_window", MONTH).put("months", months).put("d", 11).put("strategy", "memory");
        ArrayNode cases = root.putArray("cases");
        Map<String, Double> rate = new HashMap<>();
        int[] memory = new int[2];
        List<MarketData> warmup = universe(3, 2000);
        java.util.Set<String> warmed = new java.util.HashSet<>();
        String[] label = {"small", "large"};
        for (int c = 0; c < 2; c++) {
            int symbols = sizes[c][0];
            int train = sizes[c][1];
            List<MarketData> universe = universe(symbols, train);
            for (String name : engines) {
                if (name.equals("reference") && c == 1) {
                    continue;
                }
                Backend engine = Backends.select(name);
                if (warmed.add(name)) {
                    walkForward(engine, warmup, 2000); // JIT and the engine's first-use costs, untimed
                }
                long t0 = System.nanoTime();
                MemoryRun run = walkForward(engine, universe, train);
                double seconds = (System.nanoTime() - t0) / 1e9;
                BacktestResult r = run.result();
                int m = run.memory();
                memory[c] = m;
                double bps = r.bars() / seconds;
                rate.put(label[c] + "/" + name, bps);
                System.out.printf("%s memory (%d symbols x %d training bars, M = %d, d = 11), %s: %d bars in %d "
                        + "windows, %.2f s, %.0f bars decided/s%n", label[c], symbols, train, m, engine.name(),
                        r.bars(), r.folds().size(), seconds, bps);
                cases.addObject().put("case", label[c]).put("symbols", symbols).put("train_bars", train).put("M", m)
                        .put("engine", engine.name()).put("bars", r.bars()).put("windows", r.folds().size())
                        .put("seconds", seconds).put("bars_per_s", bps);
            }
        }
        if (peerBars > 0) {
            List<PeerResult> peers = new PythonPeer(python).run("backtest_loop.py", "pandas", List.of("--sizes",
                    memory[0] + "," + memory[1], "--bars", Integer.toString(peerBars), "--threads",
                    Integer.toString(Runtime.getRuntime().availableProcessors())));
            ArrayNode pn = root.putArray("peer");
            ObjectNode ratios = root.putObject("ratios_vs_peer");
            for (PeerResult p : peers) {
                pn.add(p.line());
                int m = p.line().path("M").asInt();
                double peerRate = p.line().path("bars_per_s").asDouble();
                int c = m == memory[0] ? 0 : 1;
                System.out.printf("peer %s at M = %d: %.1f bars/s (%s)%n", p.peer(), m, peerRate, p.describeBlas());
                for (String name : engines) {
                    Double mine = rate.get(label[c] + "/" + name);
                    if (mine == null) {
                        continue;
                    }
                    double ratio = mine / peerRate;
                    System.out.println(p.ratioLine(name + " at M = " + m, ratio));
                    if (p.verdict() != PeerResult.Verdict.REFUSE) {
                        ratios.put(label[c] + "/" + name, ratio);
                    }
                }
            }
        }
        return root;
    }

    private record MemoryRun(BacktestResult result, int memory) {
    }

    private MemoryRun walkForward(Backend engine, List<MarketData> universe, int train) {
        WalkForward wf = new WalkForward(train, MONTH, 1, 0, false);
        MemoryStrategy.Config c = MemoryStrategy.Config.defaults(engine);
        if (beta != null) {
            c = new MemoryStrategy.Config(engine, beta, c.targetConfidence(), c.k(), c.signal(), c.risk());
        }
        try (MemoryStrategy s = new MemoryStrategy(c)) {
            BacktestResult r = Backtester.run(universe.getFirst(), universe, s,
                    Backtester.Settings.of(wf, new Costs(5, 2)));
            return new MemoryRun(r, s.fits().getFirst().memorySize());
        }
    }

    /** S symbols (renamed S0, S1, …) of first + W + months·720 + 2 hourly bars, three per generator seed. */
    private List<MarketData> universe(int symbols, int train) {
        int bars = 300 + train + months * MONTH + 2;
        List<MarketData> out = new ArrayList<>();
        for (int seed = 1; out.size() < symbols; seed++) {
            for (SyntheticMarket.SymbolData d : SyntheticMarket.generate(SyntheticMarket.Params.defaults().withSeed(seed)
                    .withBars(bars)).values()) {
                if (out.size() == symbols) {
                    break;
                }
                BarSeries s = d.bars();
                BarSeries.Builder b = new BarSeries.Builder("S" + out.size(), s.interval());
                for (int i = 0; i < s.size(); i++) {
                    b.add(s.bar(i));
                }
                out.add(MarketData.of(b.build(), 24 * 365));
            }
        }
        return out;
    }

    private static int[] parse(String option, String text) {
        String[] parts = text.toLowerCase().split("x");
        try {
            if (parts.length == 2) {
                int s = Integer.parseInt(parts[0].trim());
                int w = Integer.parseInt(parts[1].trim());
                if (s >= 1 && w >= 100) {
                    return new int[] {s, w};
                }
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException(option + " " + text + ": expected SYMBOLSxTRAINING_BARS with symbols >= 1 "
                + "and training bars >= 100, e.g. 10x10000");
    }
}
