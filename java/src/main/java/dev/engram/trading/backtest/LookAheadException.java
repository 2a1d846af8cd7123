package dev.engram.trading.backtest;

/**
 * A strategy asked a {@link MarketView} for data after its decision bar: the backtest stops, because a result
 * computed with the future is worthless. The message names the bar asked for and the decision bar.
 */
public final class LookAheadException extends IllegalStateException {
    private final int requested;
    private final int now;

    public LookAheadException(String what, int requested, int now) {
        super(what + " of bar " + requested + " asked for at decision bar " + now
                + ": a strategy sees only bars up to its decision bar (look-ahead refused)");
        this.requested = requested;
        this.now = now;
    }

    /** The bar index asked for. */
    public int requested() {
        return requested;
    }

    /** The decision bar of the view. */
    public int now() {
        return now;
    }
}
