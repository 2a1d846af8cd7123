package dev.engram.trading.backtest;

/**
 * One trade: a position from the fill that opened it (from flat, or a reversal) to the fill that closed it.
 *
 * @param entryBar    bar whose open filled the entry
 * @param exitBar     bar whose open filled the exit; for a trade still open at the end, the last bar
 * @param direction   +1 long, −1 short
 * @param entryEquity equity at the entry fill (at the open price, before costs)
 * @param pnl         profit and loss in money, all costs of its fills included
 * @param open        whether it was still open at the end (then marked to the last close)
 */
public record Trade(int entryBar, int exitBar, int direction, double entryEquity, double pnl, boolean open) {
    /** pnl / entry equity. */
    public double returnOnEquity() {
        return pnl / entryEquity;
    }
}
