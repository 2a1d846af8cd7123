package dev.engram.trading.backtest;

import java.util.ArrayList;
import java.util.List;

/**
 * A trading strategy under walk-forward testing. Before each test window the backtester calls {@link #fit} with
 * what was known at the window's first decision (labels purged of outcomes not yet realised); the strategy is then
 * frozen for the window and decides each bar from a {@link MarketView} that ends at that bar.
 * <p>
 * Decisions must not depend on the strategy's own fills: the backtester may ask for a whole window at once
 * ({@link #decideAll}), which is how the memory strategies run one batched retrieval per window.
 */
public interface Strategy extends AutoCloseable {
    /** A short name for tables and files ("memory", "hnn", …). */
    String name();

    /** Learns from the training set; replaces whatever was learned before. */
    void fit(TrainingSet training);

    /** The decision at the close of bar {@code view.now()}. */
    Decision decide(MarketView view);

    /**
     * Decisions for consecutive bars of one test window, in order (views of increasing {@code now()}). The default
     * asks {@link #decide} bar by bar; batched strategies answer in one pass. Each view still refuses access past
     * its own bar.
     */
    default List<Decision> decideAll(List<MarketView> views) {
        List<Decision> out = new ArrayList<>(views.size());
        for (MarketView v : views) {
            out.add(decide(v));
        }
        return out;
    }

    /**
     * Where the next fits report the progress of their long phase ({@link FitProgress#NONE} to stop); strategies
     * without one ignore it.
     */
    default void setProgress(FitProgress progress) {
    }

    /** Frees engine memories and the like. */
    @Override
    default void close() {
    }
}
