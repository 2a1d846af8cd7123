package dev.engram.trading.strategy;

/**
 * The associative-memory text's risk rules, applied to a position f from {@link SignalRule}:
 * <ul>
 * <li><b>novelty</b>: when the most similar retrieved pattern has cosine similarity below {@code minSimilarity},
 * the situation is unlike anything in memory: no position;</li>
 * <li><b>consensus</b>: when fewer than {@code minConsensus} of the top-k retrieved patterns had an outcome of the
 * forecast's sign: no position;</li>
 * <li><b>volatility scaling</b>: f ← f · min(1, σ_y/σ̂), σ̂ the dispersion of the retrieved outcomes and σ_y that of
 * all training outcomes (the target): positions shrink where the memory's own outcomes disagree widely.</li>
 * </ul>
 * A rule whose input is NaN (a model without top-k or dispersion) is skipped.
 *
 * @param minSimilarity     cosine in [−1, 1]
 * @param minConsensus      share in [0, 1]
 * @param volatilityScaling whether to scale by dispersion
 */
public record RiskRules(double minSimilarity, double minConsensus, boolean volatilityScaling) {
    public RiskRules {
        if (!(minSimilarity >= -1 && minSimilarity <= 1)) {
            throw new IllegalArgumentException("novelty threshold (min similarity) must be in [-1, 1], got "
                    + minSimilarity);
        }
        if (!(minConsensus >= 0 && minConsensus <= 1)) {
            throw new IllegalArgumentException("consensus threshold must be in [0, 1], got " + minConsensus);
        }
    }

    /** Similarity ≥ 0.5, consensus ≥ 0.5, volatility scaling on. */
    public static RiskRules defaults() {
        return new RiskRules(0.5, 0.5, true);
    }

    /** No rule active. */
    public static RiskRules none() {
        return new RiskRules(-1, 0, false);
    }

    /** The position after the rules. */
    public double apply(double position, MemoryForecast f, double outcomeStd) {
        if (position == 0) {
            return 0;
        }
        if (!Double.isNaN(f.similarity()) && f.similarity() < minSimilarity) {
            return 0;
        }
        if (!Double.isNaN(f.consensus()) && f.consensus() < minConsensus) {
            return 0;
        }
        if (volatilityScaling && f.dispersion() > 0 && outcomeStd > 0) {
            position *= Math.min(1, outcomeStd / f.dispersion());
        }
        return position;
    }
}
