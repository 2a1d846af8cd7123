package dev.engram.trading.backtest;

/**
 * Trading costs per side, in basis points of the traded notional (1 bp = 0.01%). A buy of u units at the open o
 * fills at o·(1 + slippage) and pays a fee of u·o·(1 + slippage)·fee; a sell fills at o·(1 − slippage) and pays
 * u·o·(1 − slippage)·fee.
 *
 * @param feeBps      commission per side, ≥ 0
 * @param slippageBps price slippage per side, ≥ 0
 */
public record Costs(double feeBps, double slippageBps) {
    public Costs {
        if (!(feeBps >= 0) || !Double.isFinite(feeBps)) {
            throw new IllegalArgumentException("fee must be a finite number of bps >= 0, got " + feeBps);
        }
        if (!(slippageBps >= 0) || !Double.isFinite(slippageBps)) {
            throw new IllegalArgumentException("slippage must be a finite number of bps >= 0, got " + slippageBps);
        }
    }

    /** No costs. */
    public static Costs none() {
        return new Costs(0, 0);
    }

    public double fee() {
        return feeBps * 1e-4;
    }

    public double slippage() {
        return slippageBps * 1e-4;
    }
}
