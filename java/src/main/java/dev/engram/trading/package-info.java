/**
 * The trading research layer: market data ({@link dev.engram.trading.data}), causal features
 * ({@link dev.engram.trading.features}), strategies ({@link dev.engram.trading.strategy}), the backtester
 * ({@link dev.engram.trading.backtest}) and metrics ({@link dev.engram.trading.metrics}). Imports point down only
 * (hopfield, hnn, engine, tensor); nothing below imports trading.
 */
package dev.engram.trading;
