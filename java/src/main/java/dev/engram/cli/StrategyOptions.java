package dev.engram.cli;

import dev.engram.engine.Backend;
import dev.engram.trading.strategy.RiskRules;
import dev.engram.trading.strategy.SignalRule;
import dev.engram.trading.strategy.Strategies;
import picocli.CommandLine.Option;

/** The strategy settings shared by {@code engram backtest} and {@code engram train}. */
final class StrategyOptions {
    @Option(names = "--beta", description = "fixed beta (default: calibrated to the memory)")
    Double beta;

    @Option(names = "--target-confidence", defaultValue = "0.5",
            description = "mean confidence beta is calibrated to (default: ${DEFAULT-VALUE})")
    double targetConfidence;

    @Option(names = "--confidence-threshold", defaultValue = "0.5",
            description = "stand aside below this confidence (default: ${DEFAULT-VALUE})")
    double minConfidence;

    @Option(names = "--threshold", defaultValue = "0.1",
            description = "trade when |forecast| exceeds this many σ of the training outcomes (default: ${DEFAULT-VALUE})")
    double threshold;

    @Option(names = "--scale", defaultValue = "5",
            description = "position per σ of forecast × confidence (default: ${DEFAULT-VALUE})")
    double scale;

    @Option(names = "--k", defaultValue = "10", description = "top-k for novelty and consensus (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--no-risk", description = "turn the novelty, consensus and volatility rules off")
    boolean noRisk;

    Strategies.Settings settings(Backend engine, long seed) {
        return new Strategies.Settings(engine, beta == null ? Double.NaN : beta, targetConfidence, k,
                new SignalRule(threshold, minConfidence, scale, 1.0), noRisk ? RiskRules.none() : RiskRules.defaults(),
                seed);
    }
}
