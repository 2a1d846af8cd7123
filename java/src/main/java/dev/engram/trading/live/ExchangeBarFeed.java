package dev.engram.trading.live;

import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSource;
import dev.engram.trading.data.FetchProgress;
import dev.engram.trading.data.Interval;

import java.io.IOException;
import java.util.List;

/**
 * Bars from an exchange client ({@code BybitClient.source}, {@code BinanceClient.source}), which keeps only closed
 * bars by its own clock and retries transient failures with backoff before giving up with one line.
 */
public final class ExchangeBarFeed implements BarFeed {
    private final BarSource source;
    private final String symbol;
    private final Interval interval;

    public ExchangeBarFeed(BarSource source, String symbol, Interval interval) {
        this.source = source;
        this.symbol = symbol;
        this.interval = interval;
    }

    @Override
    public String symbol() {
        return symbol;
    }

    @Override
    public Interval interval() {
        return interval;
    }

    @Override
    public List<Bar> closedBars(long fromMs, long nowMs) throws IOException {
        return source.klines(symbol, interval, fromMs, nowMs, FetchProgress.NONE).bars().stream()
                .filter(b -> interval.next(b.startMs()) <= nowMs).toList();
    }
}
