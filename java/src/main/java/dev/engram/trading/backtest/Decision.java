package dev.engram.trading.backtest;

/**
 * What a strategy decided at the close of bar t. The position is filled at bar t+1's open by the backtester; the
 * other fields are for metrics and reports.
 *
 * @param position   target position as a fraction of equity: +0.5 = long half the equity, −1 = short all of it, 0 =
 *                   flat; finite
 * @param signal     the strategy's forecast of the forward return over the walk-forward horizon h (c_{t+h}/c_t − 1);
 *                   NaN when it makes none
 * @param confidence in [0, 1], NaN when the strategy has none
 * @param lower      the 5% quantile of its forecast of that return, NaN when it has no forecast distribution
 * @param upper      the 95% quantile, NaN likewise
 * @param anomaly    whether the strategy flagged the bar (e.g. an energy anomaly) and stood aside for it
 */
public record Decision(double position, double signal, double confidence, double lower, double upper,
                       boolean anomaly) {
    public Decision {
        if (!Double.isFinite(position)) {
            throw new IllegalArgumentException("position must be finite, got " + position);
        }
        if (!(Double.isNaN(confidence) || confidence >= 0 && confidence <= 1)) {
            throw new IllegalArgumentException("confidence must be in [0, 1] or NaN, got " + confidence);
        }
    }

    /** A position with its forecast and confidence, no forecast band. */
    public static Decision of(double position, double signal, double confidence) {
        return new Decision(position, signal, confidence, Double.NaN, Double.NaN, false);
    }

    /** No position and no forecast. */
    public static Decision none() {
        return of(0, Double.NaN, Double.NaN);
    }
}
