package dev.engram.trading.strategy;

/**
 * What an associative memory says about the current pattern: the forecast of the forward return and what the risk
 * rules need to judge it.
 *
 * @param predicted  ŷ, the forecast forward return over the horizon
 * @param confidence c in [0, 1] (1 − H/log M for softmax retrieval)
 * @param dispersion σ̂, the standard deviation of the retrieved outcomes (NaN when the model has none)
 * @param similarity the largest cosine similarity among the top-k retrieved patterns (novelty: low = unlike the past)
 * @param consensus  share of the top-k patterns whose outcome has the sign of ŷ (NaN when the model has none)
 */
public record MemoryForecast(double predicted, double confidence, double dispersion, double similarity,
                             double consensus) {
}
