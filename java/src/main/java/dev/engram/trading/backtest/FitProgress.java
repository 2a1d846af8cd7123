package dev.engram.trading.backtest;

/**
 * Progress of a strategy's fit through its long phase (building the memory, inserting into the store, the dense
 * memory's training rounds, the HNN's epochs): called on the fitting thread as units complete, {@code done} rising to
 * {@code total}; a phase that stops early (early stopping) reports {@code done == total} when it ends. For progress
 * bars; it must not throw.
 */
@FunctionalInterface
public interface FitProgress {
    /** Reports nothing. */
    FitProgress NONE = (phase, done, total) -> { };

    /**
     * @param phase what is being done, e.g. "epochs"
     * @param done  units done, 0 ≤ done ≤ total
     * @param total units in the phase
     */
    void update(String phase, long done, long total);
}
