package dev.engram.cli;

import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.data.Gap;
import dev.engram.trading.data.Interval;
import dev.engram.trading.data.SyntheticMarket;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code engram data info FILE} and {@code engram data sample --out DIR}. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = {"Market data files: describe one, or write the synthetic sample.",
                "Example: engram data info sample/SYNBTC-60.csv"},
        subcommands = {DataCommand.Info.class, DataCommand.Sample.class})
final class DataCommand implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(new PrintWriter(System.out, true));
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = {"Rows, time range, interval, gaps, first and last bar of an OHLCV CSV file.",
                    "Example: engram data info sample/SYNBTC-60.csv"})
    static final class Info implements Callable<Integer> {
        @Parameters(index = "0", description = "the CSV file")
        Path file;

        @Option(names = "--interval", description = "the bar interval (default: inferred from the most common step)")
        String interval;

        @Option(names = "--adjusted", description = "use adj close to adjust prices (stock layout)")
        boolean adjusted;

        @Option(names = "--zone", defaultValue = "UTC",
                description = "zone of times without one (default: ${DEFAULT-VALUE})")
        String zone;

        @Override
        public Integer call() throws Exception {
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file + ": no such file");
            }
            ZoneId z;
            try {
                z = ZoneId.of(zone);
            } catch (java.time.DateTimeException e) {
                throw new IllegalArgumentException("--zone " + zone + " is not a zone (UTC, Europe/Berlin, +02:00)");
            }
            CsvBars.Options o = CsvBars.Options.defaults().withZone(z)
                    .withPrices(adjusted ? CsvBars.Prices.ADJUSTED : CsvBars.Prices.RAW);
            if (interval != null) {
                o = o.withInterval(Interval.parse(interval));
            }
            BarSeries s = CsvBars.read(file, o);
            System.out.println("file       " + file);
            System.out.println("symbol     " + s.symbol());
            System.out.println("rows       " + s.size());
            System.out.println("interval   " + s.interval() + (interval == null ? " (inferred)" : ""));
            if (s.isEmpty()) {
                return 0;
            }
            System.out.println("range      " + Instant.ofEpochMilli(s.firstMs()) + " .. "
                    + Instant.ofEpochMilli(s.lastMs()) + " (bar starts, UTC)");
            List<Gap> gaps = s.gaps();
            System.out.println("gaps       " + gaps.size() + " (" + s.missingBars() + " missing bars; not filled)");
            for (int i = 0; i < Math.min(10, gaps.size()); i++) {
                Gap g = gaps.get(i);
                System.out.println("           " + g.missing() + " missing after " + Instant.ofEpochMilli(g.lastBeforeMs())
                        + ", next bar " + Instant.ofEpochMilli(g.firstAfterMs()));
            }
            if (gaps.size() > 10) {
                System.out.println("           … and " + (gaps.size() - 10) + " more");
            }
            System.out.println("first bar  " + describe(s.bar(0)));
            System.out.println("last bar   " + describe(s.bar(s.size() - 1)));
            return 0;
        }

        private static String describe(Bar b) {
            return Instant.ofEpochMilli(b.startMs()) + " open " + b.open() + " high " + b.high() + " low " + b.low()
                    + " close " + b.close() + " volume " + b.volume()
                    + (b.hasTurnover() ? " turnover " + b.turnover() : "");
        }
    }

    @Command(name = "sample", mixinStandardHelpOptions = true,
            description = {"Writes the SYNTHETIC sample (seeded; see sample.json for the process and parameters):",
                    "hourly bars, funding, open interest and true regimes for three made-up symbols.",
                    "Example: engram data sample --out sample"})
    static final class Sample implements Callable<Integer> {
        @Mixin
        final OutputOption output = new OutputOption("out/sample");

        @Mixin
        final SeedOption seedOption = new SeedOption(SyntheticMarket.Params.defaults().seed());

        @Option(names = "--bars", description = "hourly bars per symbol (default: 26280, three years)")
        Integer bars;

        @Override
        public Integer call() throws Exception {
            Path out = output.out;
            SyntheticMarket.Params p = SyntheticMarket.Params.defaults().withSeed(seedOption.seed);
            if (bars != null) {
                p = p.withBars(bars);
            }
            Map<String, SyntheticMarket.SymbolData> data = SyntheticMarket.write(out, p);
            for (Map.Entry<String, SyntheticMarket.SymbolData> e : data.entrySet()) {
                System.out.println(FetchCommand.summary(e.getValue().bars()) + " -> "
                        + out.resolve(e.getKey() + "-60.csv"));
            }
            System.out.println("synthetic sample (seed " + p.seed() + "); parameters in " + out.resolve("sample.json"));
            return 0;
        }
    }
}
