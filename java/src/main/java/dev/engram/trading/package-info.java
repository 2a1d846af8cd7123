/**
 * The trading research layer: market data ({@link dev.engram.trading.data}) and causal features
 * ({@link dev.engram.trading.features}). Imports point down only (hnn, engine, tensor); nothing below imports trading.
 */
package dev.engram.trading;
