/**
 * Market data: one bar type, validated immutable series per symbol and interval, CSV import/export, Bybit and
 * Binance clients, an incremental on-disk cache, and a seeded synthetic sample. Times are UTC epoch milliseconds; a
 * bar's time is its start.
 */
package dev.engram.trading.data;
