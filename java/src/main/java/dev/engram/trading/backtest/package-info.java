/**
 * The backtester: a {@link dev.engram.trading.backtest.MarketView} that ends at the decision bar, fills at the next
 * open with fees and slippage per side, equity marked at every close, and walk-forward folds with purge and embargo
 * for every symbol of a cross-asset memory.
 */
package dev.engram.trading.backtest;
