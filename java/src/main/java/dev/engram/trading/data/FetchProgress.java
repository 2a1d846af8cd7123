package dev.engram.trading.data;

/** Told after every page of a fetch; for progress bars. */
@FunctionalInterface
public interface FetchProgress {
    FetchProgress NONE = (pages, rows, coveredMs, totalMs) -> { };

    /**
     * @param pages     pages fetched so far
     * @param rows      rows kept so far
     * @param coveredMs how much of the requested time range the pages have covered, in ms
     * @param totalMs   the requested range's length in ms
     */
    void page(int pages, int rows, long coveredMs, long totalMs);
}
