package dev.engram.trading.features;

import dev.engram.hnn.train.DerivativeTargets;

/**
 * A causal momentum estimator p_t ≈ dx/dt per bar (Δt = 1 bar) from x_t and earlier values only — never central
 * differences, which read x_{t+1}. Entries without enough history are NaN (the phase-space builders drop them).
 */
public sealed interface Momentum {
    /** p_t = x_t − x_{t−1}. */
    record BackwardDifference() implements Momentum {
    }

    /** The backward difference of an EMA of x with weight {@code alpha} ∈ (0, 1] (smoother, lags ≈ (1−α)/α bars). */
    record Ema(double alpha) implements Momentum {
    }

    /** The slope at the right end of a least-squares polynomial through the last {@code window} values. */
    record SavitzkyGolay(int window, int order) implements Momentum {
    }

    /** The estimates for a whole series. */
    default double[] apply(double[] x) {
        return switch (this) {
            case BackwardDifference b -> DerivativeTargets.backwardDifference(x, 1);
            case Ema e -> DerivativeTargets.emaBackwardDifference(x, 1, e.alpha());
            case SavitzkyGolay sg -> DerivativeTargets.causalSavitzkyGolay(x, 1, sg.window(), sg.order());
        };
    }
}
