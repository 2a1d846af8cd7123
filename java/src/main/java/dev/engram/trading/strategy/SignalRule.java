package dev.engram.trading.strategy;

/**
 * From a forecast to a position, as the associative-memory text trades: long when the forecast return exceeds a
 * threshold, short below minus it, flat in between; stand aside below a confidence threshold; size ∝ prediction ×
 * confidence × scale. Forecasts are measured in units of σ_y, the standard deviation of the training window's
 * outcomes, so one rule fits hourly crypto and daily stocks:
 * <pre>
 *   z = ŷ / σ_y
 *   f = 0                                   if c &lt; minConfidence or |z| ≤ threshold
 *   f = clamp(z · c · scale, ±maxPosition)  otherwise
 * </pre>
 *
 * @param threshold     |ŷ| must exceed threshold·σ_y, ≥ 0
 * @param minConfidence stand aside below this confidence, in [0, 1]
 * @param scale         position per (σ_y of forecast × unit confidence), &gt; 0
 * @param maxPosition   largest |position|, in (0, 10]
 */
public record SignalRule(double threshold, double minConfidence, double scale, double maxPosition) {
    public SignalRule {
        if (!(threshold >= 0) || !Double.isFinite(threshold)) {
            throw new IllegalArgumentException("signal threshold must be >= 0 (in units of the outcomes' std), got "
                    + threshold);
        }
        if (!(minConfidence >= 0 && minConfidence <= 1)) {
            throw new IllegalArgumentException("confidence threshold must be in [0, 1], got " + minConfidence);
        }
        if (!(scale > 0) || !Double.isFinite(scale)) {
            throw new IllegalArgumentException("position scale must be > 0, got " + scale);
        }
        if (!(maxPosition > 0 && maxPosition <= 10)) {
            throw new IllegalArgumentException("max position must be in (0, 10], got " + maxPosition);
        }
    }

    /** Threshold 0.1 σ, confidence ≥ 0.3, scale 5, positions up to ±1. */
    public static SignalRule defaults() {
        return new SignalRule(0.1, 0.3, 5, 1);
    }

    /** The position for forecast ŷ with confidence c, given σ_y > 0. */
    public double position(double predicted, double confidence, double outcomeStd) {
        if (!(confidence >= minConfidence) || !(outcomeStd > 0)) {
            return 0;
        }
        double z = predicted / outcomeStd;
        if (!(Math.abs(z) > threshold)) {
            return 0;
        }
        return Math.max(-maxPosition, Math.min(maxPosition, z * confidence * scale));
    }
}
