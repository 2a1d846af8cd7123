package dev.engram.trading.live;

import dev.engram.trading.data.Bar;
import dev.engram.trading.data.Interval;

import java.io.IOException;
import java.util.List;

/** Where the live loop gets bars: an exchange or a file that is appended to. */
public interface BarFeed {
    /** The symbol's name, for the log. */
    String symbol();

    /** The bar interval. */
    Interval interval();

    /**
     * The bars that start at or after {@code fromMs} and have closed by {@code nowMs} (start + interval ≤ now), oldest
     * first. The loop asks again for bars it has seen (to notice late ones); it drops duplicates itself.
     *
     * @throws IOException when the source fails (after its own retries); the loop backs off and asks again
     */
    List<Bar> closedBars(long fromMs, long nowMs) throws IOException;
}
