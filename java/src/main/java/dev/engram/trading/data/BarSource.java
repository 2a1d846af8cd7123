package dev.engram.trading.data;

/** Where bars come from: an exchange endpoint for one market (Bybit linear, Binance spot, …). */
public interface BarSource {
    /** A file-name-safe key for the cache: "bybit-linear", "binance-spot". */
    String cacheKey();

    /** Closed bars with start in [fromMs, toMs), oldest first. */
    BarSeries klines(String symbol, Interval interval, long fromMs, long toMs, FetchProgress progress)
            throws ExchangeException;
}
