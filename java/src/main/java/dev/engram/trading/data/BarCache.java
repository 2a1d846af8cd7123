package dev.engram.trading.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An on-disk cache of bars per source, symbol and interval: {@code DIR/<source>/<SYMBOL>-<interval>.csv} in the
 * {@link CsvBars} format. A request for [from, to) fetches only what the cache lacks at either end (before its first
 * bar, after its last), merges, and replaces the file by an atomic move ({@link dev.engram.tensor.AtomicFiles}); a fetch that fails
 * leaves the previous file as it was. Only closed bars ever reach it (the sources return no others). Gaps inside the
 * cached span are the exchange's and are not fetched again.
 */
public final class BarCache {
    private final Path dir;

    public BarCache(Path dir) {
        this.dir = dir;
    }

    /** The file holding one series. */
    public Path file(BarSource source, String symbol, Interval interval) {
        return dir.resolve(source.cacheKey()).resolve(safe(symbol) + "-" + interval.bybitName() + ".csv");
    }

    /** What a request would fetch: the parts of [from, to) outside the cached span. */
    public List<long[]> missing(BarSeries cached, long fromMs, long toMs) {
        List<long[]> out = new ArrayList<>();
        if (cached.isEmpty()) {
            out.add(new long[] {fromMs, toMs});
            return out;
        }
        if (fromMs < cached.firstMs()) {
            out.add(new long[] {fromMs, Math.min(toMs, cached.firstMs())});
        }
        long after = cached.interval().next(cached.lastMs());
        if (toMs > after) {
            out.add(new long[] {Math.max(fromMs, after), toMs});
        }
        return out;
    }

    /** The cached series, empty when there is no file. */
    public BarSeries read(BarSource source, String symbol, Interval interval) throws IOException {
        Path f = file(source, symbol, interval);
        if (!Files.exists(f)) {
            return BarSeries.empty(symbol, interval);
        }
        return CsvBars.read(f, CsvBars.Options.defaults().withSymbol(symbol).withInterval(interval));
    }

    /**
     * Bars of [fromMs, toMs), from the cache where it has them and from {@code source} for the rest; the cache file is
     * extended with what was fetched.
     */
    public BarSeries fetch(BarSource source, String symbol, Interval interval, long fromMs, long toMs,
                           FetchProgress progress) throws IOException {
        BybitClient.checkRange(fromMs, toMs);
        BarSeries cached = read(source, symbol, interval);
        BarSeries merged = cached;
        for (long[] range : missing(cached, fromMs, toMs)) {
            BarSeries fetched = source.klines(symbol, interval, range[0], range[1], progress);
            merged = merged.merge(fetched);
        }
        if (merged.size() != cached.size()) {
            CsvBars.write(file(source, symbol, interval), merged);
        }
        return merged.between(fromMs, toMs);
    }

    private static String safe(String symbol) {
        if (!symbol.matches("[A-Za-z0-9._-]+")) {
            throw new IllegalArgumentException("symbol '" + symbol + "' has characters other than letters, digits, "
                    + "'.', '_' and '-'");
        }
        return symbol.toUpperCase(Locale.ROOT);
    }
}
