/**
 * What a quant asks of a backtest (returns, risk, drawdown, trades) and of its forecasts (hit rate, calibration,
 * Brier score, forecast bands), annualised from the bar interval. Each formula is in its Javadoc.
 */
package dev.engram.trading.metrics;
