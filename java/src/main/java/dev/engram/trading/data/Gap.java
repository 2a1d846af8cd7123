package dev.engram.trading.data;

/**
 * Missing bars between two consecutive bars of a series: the bar at {@code lastBeforeMs} is followed by the one at
 * {@code firstAfterMs} although {@code missing} interval starts lie between them.
 */
public record Gap(long lastBeforeMs, long firstAfterMs, long missing) {
}
