/**
 * Causal features of bar series: the market pattern of the associative-memory text, its past-only normalisation,
 * phase spaces for the HNN, canonical transforms, external inputs u(t), and labels (kept apart from the features).
 * Every value at bar t is a function of bars 0 … t only; tests plant a huge value after t and check that nothing up
 * to t changes.
 */
package dev.engram.trading.features;
