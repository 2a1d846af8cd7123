package dev.engram.cli;

import dev.engram.trading.data.BarCache;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.BarSource;
import dev.engram.trading.data.BinanceClient;
import dev.engram.trading.data.BybitClient;
import dev.engram.trading.data.FetchProgress;
import dev.engram.trading.data.Gap;
import dev.engram.trading.data.HttpFetcher;
import dev.engram.trading.data.Interval;
import dev.engram.trading.data.TimedValues;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.Console;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** Fetches bars (and optionally funding and open interest) from Bybit or Binance into the local cache. */
@Command(name = "fetch", mixinStandardHelpOptions = true,
        description = {"Fetches closed bars from Bybit or Binance into the cache (only the range the cache lacks),",
                "optionally funding rates and open interest; reports gaps. Dates are UTC days; --to is inclusive.",
                "Example (needs the network): engram fetch --source bybit --symbol BTCUSDT --interval 60"
                        + " --from 2024-01-01 --to 2024-01-31 --cache out/cache"})
final class FetchCommand implements Callable<Integer> {
    @Option(names = "--source", required = true, description = "bybit or binance")
    String source;

    @Option(names = "--symbol", required = true, description = "e.g. BTCUSDT")
    String symbol;

    @Option(names = "--interval", defaultValue = "60",
            description = "1 3 5 15 30 60 120 240 360 720 D W M (or 1m … 1M) (default: ${DEFAULT-VALUE})")
    String interval;

    @Option(names = "--from", required = true, description = "first UTC day (2024-01-01) or instant (2024-01-01T12:00Z)")
    String from;

    @Option(names = "--to", required = true, description = "last UTC day, inclusive (2024-06-30), or an exclusive instant")
    String to;

    @Option(names = "--category", defaultValue = "linear",
            description = "bybit: spot, linear, inverse; binance: spot, linear (USDⓈ-M futures) (default: ${DEFAULT-VALUE})")
    String category;

    @Option(names = "--funding", description = "also fetch funding rates (derivatives only)")
    boolean funding;

    @Option(names = "--open-interest", description = "also fetch open interest at the bar interval (Bybit only)")
    boolean openInterest;

    @Option(names = "--base-url", description = "override the exchange's base URL (Binance: for spot and futures)")
    String baseUrl;

    @Option(names = "--cache", description = "cache folder (default: ~/.cache/engram/market)")
    Path cache;

    @Override
    public Integer call() throws Exception {
        Interval iv = Interval.parse(interval);
        long fromMs = parseDay(from, "--from", false);
        long toMs = parseDay(to, "--to", true);
        if (fromMs >= toMs) {
            throw new IllegalArgumentException("--from " + from + " is not before --to " + to + "; give a range that "
                    + "spans at least one bar");
        }
        if (toMs - fromMs < iv.nominalMillis()) {
            throw new IllegalArgumentException("the range " + from + " .. " + to + " is shorter than one " + iv
                    + " bar");
        }
        Path dir = cache != null ? cache : Path.of(System.getProperty("user.home"), ".cache", "engram", "market");
        BarCache barCache = new BarCache(dir);
        HttpFetcher.Config cfg = HttpFetcher.Config.defaults();
        String cat = category.toLowerCase(Locale.ROOT);
        BarSource src;
        BybitClient bybit = null;
        BinanceClient binance = null;
        switch (source.toLowerCase(Locale.ROOT)) {
            case "bybit" -> {
                bybit = new BybitClient(baseUrl != null ? baseUrl : BybitClient.DEFAULT_BASE_URL, cfg);
                src = bybit.source(cat);
            }
            case "binance" -> {
                binance = new BinanceClient(baseUrl != null ? baseUrl : BinanceClient.DEFAULT_SPOT_URL,
                        baseUrl != null ? baseUrl : BinanceClient.DEFAULT_FUTURES_URL, cfg);
                src = switch (cat) {
                    case "spot" -> binance.source(BinanceClient.Market.SPOT);
                    case "linear" -> binance.source(BinanceClient.Market.FUTURES);
                    default -> throw new IllegalArgumentException("--category " + category
                            + " is not one of spot, linear for binance");
                };
                if (openInterest) {
                    throw new IllegalArgumentException("--open-interest is available from bybit only");
                }
            }
            default -> throw new IllegalArgumentException("--source " + source + " is not one of bybit, binance");
        }
        if ((funding || openInterest) && cat.equals("spot")) {
            throw new IllegalArgumentException("funding and open interest exist for derivatives only; use "
                    + "--category linear");
        }
        BarSeries bars;
        try (Progress progress = Progress.open(src.cacheKey() + " " + symbol)) {
            bars = barCache.fetch(src, symbol, iv, fromMs, toMs, progress);
        }
        Path file = barCache.file(src, symbol, iv);
        System.out.println(summary(bars) + " -> " + file);
        List<Gap> gaps = bars.gaps();
        for (int i = 0; i < Math.min(10, gaps.size()); i++) {
            Gap g = gaps.get(i);
            System.out.println("  gap: " + g.missing() + " bar(s) missing between " + Instant.ofEpochMilli(g.lastBeforeMs())
                    + " and " + Instant.ofEpochMilli(g.firstAfterMs()));
        }
        if (gaps.size() > 10) {
            System.out.println("  … and " + (gaps.size() - 10) + " more gaps");
        }
        if (funding) {
            TimedValues f;
            try (Progress progress = Progress.open("funding " + symbol)) {
                f = bybit != null ? bybit.fundingHistory(cat, symbol, fromMs, toMs, progress)
                        : binance.fundingRates(symbol, fromMs, toMs, progress);
            }
            Path out = file.resolveSibling(file.getFileName().toString().replaceFirst("-[^-]+\\.csv$", "")
                    + "-funding.csv");
            save(out, f);
        }
        if (openInterest) {
            TimedValues oi;
            try (Progress progress = Progress.open("open interest " + symbol)) {
                oi = bybit.openInterest(cat, symbol, iv, fromMs, toMs, progress);
            }
            save(file.resolveSibling(file.getFileName().toString().replace(".csv", "-open-interest.csv")), oi);
        }
        return 0;
    }

    /** Merges with what the file already has and replaces it atomically. */
    private static void save(Path out, TimedValues v) throws IOException {
        TimedValues all = Files.exists(out) ? TimedValues.read(out).merge(v) : v;
        all.write(out);
        System.out.println(v.name() + ": " + v.size() + " values"
                + (v.size() == 0 ? "" : " " + Instant.ofEpochMilli(v.time(0)) + " .. "
                + Instant.ofEpochMilli(v.time(v.size() - 1))) + " -> " + out);
    }

    static String summary(BarSeries bars) {
        if (bars.isEmpty()) {
            return bars.symbol() + " " + bars.interval() + ": no closed bars in the range";
        }
        return bars.symbol() + " " + bars.interval() + ": " + bars.size() + " bars " + Instant.ofEpochMilli(bars.firstMs())
                + " .. " + Instant.ofEpochMilli(bars.lastMs()) + ", " + bars.gaps().size() + " gap(s), "
                + bars.missingBars() + " missing bar(s)";
    }

    /** A UTC day (its start; for an inclusive end, the next day's start) or an ISO instant / local date-time (UTC). */
    static long parseDay(String s, String option, boolean end) {
        try {
            if (s.length() == 10) {
                LocalDate d = LocalDate.parse(s);
                return (end ? d.plusDays(1) : d).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli();
            }
            if (s.endsWith("Z") || s.matches(".*[+-]\\d\\d:\\d\\d$")) {
                return java.time.OffsetDateTime.parse(s).toInstant().toEpochMilli();
            }
            return LocalDateTime.parse(s).toInstant(ZoneOffset.UTC).toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(option + " " + s + " is not a date (2024-01-31) or an instant "
                    + "(2024-01-31T10:00Z)");
        }
    }

    /** A progress bar over the requested range, shown only on a terminal. */
    static final class Progress implements FetchProgress, AutoCloseable {
        private final ProgressBar bar;

        private Progress(ProgressBar bar) {
            this.bar = bar;
        }

        static Progress open(String task) {
            Console c = System.console();
            boolean terminal = c != null && c.isTerminal();
            return new Progress(terminal ? new ProgressBarBuilder().setTaskName(task).setInitialMax(1000)
                    .setUnit("‰", 1).hideEta().build() : null);
        }

        @Override
        public void page(int pages, int rows, long coveredMs, long totalMs) {
            if (bar != null) {
                bar.stepTo(totalMs <= 0 ? 1000 : Math.min(1000, 1000 * coveredMs / totalMs));
                bar.setExtraMessage(pages + " page(s), " + rows + " rows");
            }
        }

        @Override
        public void close() {
            if (bar != null) {
                bar.close();
            }
        }
    }
}
