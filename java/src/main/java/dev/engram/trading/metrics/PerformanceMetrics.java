package dev.engram.trading.metrics;

import dev.engram.trading.backtest.BacktestResult;
import dev.engram.trading.backtest.Trade;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a quant asks of a backtest, computed from the equity curve and the trades. Notation: N bars, equity E_j at
 * bar j's close, E_{−1} the initial equity, per-bar returns r_j = E_j/E_{j−1} − 1, P bars per year
 * ({@link Annualisation}); undefined values (a ratio over 0) are NaN. Risk-free rate 0.
 *
 * @param totalReturn    E_{N−1}/E_{−1} − 1
 * @param cagr           (E_{N−1}/E_{−1})^{P/N} − 1 (compound annual growth rate)
 * @param annualVol      s(r)·√P, s the sample standard deviation (divisor N − 1)
 * @param sharpe         mean(r)/s(r)·√P
 * @param sortino        mean(r)/DD·√P, DD = √(mean(min(r_j, 0)²)) over all N bars (downside deviation, target 0)
 * @param calmar         CAGR / max drawdown
 * @param drawdown       maximum drawdown with its duration and recovery ({@link Drawdown})
 * @param trades         number of trades (including one still open at the end)
 * @param winRate        share of trades with P&L > 0
 * @param profitFactor   Σ P&L of winning trades / |Σ P&L of losing trades|
 * @param expectancy     mean trade return ρ_k = P&L_k / equity at entry
 * @param averageWin     mean ρ_k of winning trades
 * @param averageLoss    mean ρ_k of losing trades (≤ 0)
 * @param exposure       share of bars with a position at the close
 * @param turnover       traded notional per year / mean equity: Σ|Δunits·open| · (P/N) / mean(E)
 * @param totalFees      commission paid, in money
 * @param totalSlippage  slippage paid, in money
 * @param bars           N
 * @param annualisation  P and how it was chosen
 */
public record PerformanceMetrics(double totalReturn, double cagr, double annualVol, double sharpe, double sortino,
                                 double calmar, Drawdown drawdown, int trades, double winRate, double profitFactor,
                                 double expectancy, double averageWin, double averageLoss, double exposure,
                                 double turnover, double totalFees, double totalSlippage, int bars,
                                 Annualisation annualisation) {

    /** The metrics of a backtest's books. */
    public static PerformanceMetrics of(BacktestResult r, Annualisation a) {
        double[] eq = r.equity();
        double[] pos = r.position();
        int held = 0;
        for (double p : pos) {
            if (p != 0) {
                held++;
            }
        }
        double[] notional = r.notional();
        return of(r.initialEquity(), eq, r.trades(), (double) held / eq.length, sum(notional), sum(r.fees()),
                sum(r.slippage()), a);
    }

    /**
     * @param initial        E_{−1}
     * @param equity         E_0 … E_{N−1}
     * @param trades         the trades
     * @param exposure       share of bars with a position
     * @param tradedNotional Σ|Δunits·price| over all fills
     */
    public static PerformanceMetrics of(double initial, double[] equity, List<Trade> trades, double exposure,
                                        double tradedNotional, double fees, double slippage, Annualisation a) {
        if (equity.length == 0) {
            throw new IllegalArgumentException("an equity curve needs at least one bar");
        }
        double p = a.barsPerYear();
        double[] r = returns(initial, equity);
        int n = r.length;
        double total = equity[n - 1] / initial - 1;
        double cagr = cagr(initial, equity[n - 1], n, p);
        Drawdown dd = Drawdown.of(initial, equity);
        double[] rho = new double[trades.size()];
        for (int k = 0; k < rho.length; k++) {
            rho[k] = trades.get(k).returnOnEquity();
        }
        double meanEquity = (sum(equity)) / n;
        return new PerformanceMetrics(total, cagr, std(r) * Math.sqrt(p), sharpe(r, p), sortino(r, p),
                dd.max() > 0 ? cagr / dd.max() : Double.NaN, dd, trades.size(), winRate(rho), profitFactor(trades),
                mean(rho), meanWhere(rho, true), meanWhere(rho, false), exposure, tradedNotional * (p / n) / meanEquity,
                fees, slippage, n, a);
    }

    /** r_j = E_j/E_{j−1} − 1 with E_{−1} = initial. */
    public static double[] returns(double initial, double[] equity) {
        double[] r = new double[equity.length];
        double prev = initial;
        for (int j = 0; j < equity.length; j++) {
            r[j] = equity[j] / prev - 1;
            prev = equity[j];
        }
        return r;
    }

    /** (end/start)^{P/N} − 1; NaN when the end equity is ≤ 0 (ruin has no growth rate). */
    public static double cagr(double start, double end, int n, double barsPerYear) {
        return end > 0 ? Math.pow(end / start, barsPerYear / n) - 1 : Double.NaN;
    }

    /** Sharpe ratio mean(r)/s(r)·√P (risk-free 0); NaN when s(r) = 0 or fewer than 2 returns. */
    public static double sharpe(double[] r, double barsPerYear) {
        double s = std(r);
        return s > 0 ? mean(r) / s * Math.sqrt(barsPerYear) : Double.NaN;
    }

    /** Sortino ratio mean(r)/DD·√P, DD = √(mean(min(r, 0)²)); NaN when no return is negative. */
    public static double sortino(double[] r, double barsPerYear) {
        double d2 = 0;
        for (double v : r) {
            d2 += v < 0 ? v * v : 0;
        }
        double dd = Math.sqrt(d2 / r.length);
        return dd > 0 ? mean(r) / dd * Math.sqrt(barsPerYear) : Double.NaN;
    }

    /** Share of values > 0; NaN for none. */
    static double winRate(double[] rho) {
        if (rho.length == 0) {
            return Double.NaN;
        }
        int w = 0;
        for (double v : rho) {
            w += v > 0 ? 1 : 0;
        }
        return (double) w / rho.length;
    }

    /** Σ P&L⁺ / |Σ P&L⁻|; NaN without losing trades. */
    static double profitFactor(List<Trade> trades) {
        double win = 0;
        double loss = 0;
        for (Trade t : trades) {
            if (t.pnl() > 0) {
                win += t.pnl();
            } else {
                loss -= t.pnl();
            }
        }
        return loss > 0 ? win / loss : Double.NaN;
    }

    static double meanWhere(double[] v, boolean positive) {
        double s = 0;
        int c = 0;
        for (double x : v) {
            if (positive ? x > 0 : x <= 0) {
                s += x;
                c++;
            }
        }
        return c == 0 ? Double.NaN : s / c;
    }

    static double mean(double[] v) {
        return v.length == 0 ? Double.NaN : sum(v) / v.length;
    }

    /** Sample standard deviation (divisor n − 1); NaN for fewer than 2 values. */
    static double std(double[] v) {
        if (v.length < 2) {
            return Double.NaN;
        }
        double m = mean(v);
        double s = 0;
        for (double x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / (v.length - 1));
    }

    static double sum(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s;
    }

    /** The metrics with snake_case keys, in table order (NaN stays NaN; writers turn it into null). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("total_return", totalReturn);
        m.put("cagr", cagr);
        m.put("annual_volatility", annualVol);
        m.put("sharpe", sharpe);
        m.put("sortino", sortino);
        m.put("calmar", calmar);
        m.put("max_drawdown", drawdown.max());
        m.put("max_drawdown_duration_bars", drawdown.durationBars());
        m.put("max_drawdown_recovery_bars", drawdown.recoveryBars() < 0 ? null : drawdown.recoveryBars());
        m.put("longest_drawdown_bars", drawdown.longestBars());
        m.put("win_rate", winRate);
        m.put("profit_factor", profitFactor);
        m.put("expectancy", expectancy);
        m.put("average_win", averageWin);
        m.put("average_loss", averageLoss);
        m.put("n_trades", trades);
        m.put("exposure", exposure);
        m.put("turnover", turnover);
        m.put("total_fees", totalFees);
        m.put("total_slippage", totalSlippage);
        m.put("bars", bars);
        m.put("bars_per_year", annualisation.barsPerYear());
        m.put("annualisation", annualisation.basis());
        return m;
    }
}
