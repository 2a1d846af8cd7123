package dev.engram.trading.strategy;

/**
 * A stored past pattern similar to the current one.
 *
 * @param timeMs     start of the pattern's bar, UTC ms
 * @param symbol     its symbol ("" when the model does not record it)
 * @param similarity cosine similarity to the current pattern, in [−1, 1]
 * @param outcome    the forward return that followed it
 */
public record SimilarPattern(long timeMs, String symbol, double similarity, double outcome) {
}
