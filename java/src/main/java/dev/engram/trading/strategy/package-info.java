/**
 * The traders: softmax retrieval over a pattern memory, the pattern store, the trained dense associative memory and
 * the Hamiltonian neural network, with the signal and risk rules and the calibration of β to the memory.
 */
package dev.engram.trading.strategy;
