package dev.engram.trading.backtest;

import dev.engram.tensor.AtomicFiles;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The books of one backtest, bar by bar from the first decision bar to the last bar of the series. Arrays are
 * indexed j = bar − {@link #firstBar()}; accessors return copies.
 * <p>
 * Per bar j (bar t): the decision taken at t's close (signal, confidence, forecast band; NaN when none), the
 * position held at t's close as a fraction of equity (the decision of t−1, filled at t's open), the P&L of bar t
 * (equity change from t−1's close, costs of t's fill included), the equity at t's close, the fees, slippage and
 * traded notional of t's fill, and the realised forward return c_{t+h}/c_t − 1 (NaN past the end; for evaluating
 * forecasts only — the simulation never reads it).
 */
public final class BacktestResult {
    private final String strategy;
    private final String symbol;
    private final int firstBar;
    private final int horizon;
    private final Backtester.Settings settings;
    private final List<WalkForward.Fold> folds;
    private final long[] times;
    private final double[] close;
    private final double[] signal;
    private final double[] confidence;
    private final double[] lower;
    private final double[] upper;
    private final boolean[] anomaly;
    private final boolean[] decided;
    private final double[] target;
    private final double[] position;
    private final double[] pnl;
    private final double[] equity;
    private final double[] fees;
    private final double[] slippage;
    private final double[] notional;
    private final double[] forward;
    private final List<Trade> trades;

    private BacktestResult(Builder b) {
        this.strategy = b.strategy;
        this.symbol = b.data.symbol();
        this.firstBar = b.first;
        this.horizon = b.settings.walkForward().horizon();
        this.settings = b.settings;
        this.folds = List.copyOf(b.folds);
        this.times = b.times;
        this.close = b.close;
        this.signal = b.signal;
        this.confidence = b.confidence;
        this.lower = b.lower;
        this.upper = b.upper;
        this.anomaly = b.anomaly;
        this.decided = b.decided;
        this.target = b.target;
        this.position = b.position;
        this.pnl = b.pnl;
        this.equity = b.equity;
        this.fees = b.fees;
        this.slippage = b.slippage;
        this.notional = b.notional;
        this.forward = b.forward;
        this.trades = List.copyOf(b.trades);
    }

    public String strategy() {
        return strategy;
    }

    public String symbol() {
        return symbol;
    }

    /** Bar index (in the traded series) of array entry 0: the first decision bar. */
    public int firstBar() {
        return firstBar;
    }

    /** Number of bars in the books. */
    public int bars() {
        return times.length;
    }

    public int horizon() {
        return horizon;
    }

    public Backtester.Settings settings() {
        return settings;
    }

    public List<WalkForward.Fold> folds() {
        return folds;
    }

    public long[] times() {
        return times.clone();
    }

    public double[] close() {
        return close.clone();
    }

    public double[] signal() {
        return signal.clone();
    }

    public double[] confidence() {
        return confidence.clone();
    }

    public double[] lower() {
        return lower.clone();
    }

    public double[] upper() {
        return upper.clone();
    }

    public boolean[] anomaly() {
        return anomaly.clone();
    }

    /** Whether the strategy was asked for a decision at this bar (false on the last bar). */
    public boolean[] decided() {
        return decided.clone();
    }

    /** The position the decision at this bar asked for (0 where none). */
    public double[] target() {
        return target.clone();
    }

    /** The position held at this bar's close, as a fraction of equity. */
    public double[] position() {
        return position.clone();
    }

    public double[] pnl() {
        return pnl.clone();
    }

    public double[] equity() {
        return equity.clone();
    }

    public double[] fees() {
        return fees.clone();
    }

    public double[] slippage() {
        return slippage.clone();
    }

    public double[] notional() {
        return notional.clone();
    }

    public double[] forwardReturns() {
        return forward.clone();
    }

    public List<Trade> trades() {
        return trades;
    }

    public double initialEquity() {
        return settings.initialEquity();
    }

    public double finalEquity() {
        return equity[equity.length - 1];
    }

    /**
     * Writes the per-bar CSV {@code time,close,signal,confidence,position,pnl,equity} (ISO-8601 UTC times, NaN as an
     * empty field), replacing the file atomically.
     */
    public void writeCsv(Path file) throws IOException {
        StringBuilder sb = new StringBuilder(64 * times.length + 64);
        sb.append("time,close,signal,confidence,position,pnl,equity\n");
        for (int j = 0; j < times.length; j++) {
            sb.append(Instant.ofEpochMilli(times[j])).append(',').append(close[j]).append(',')
                    .append(num(signal[j])).append(',').append(num(confidence[j])).append(',')
                    .append(position[j]).append(',').append(pnl[j]).append(',').append(equity[j]).append('\n');
        }
        AtomicFiles.writeString(file, sb.toString());
    }

    private static String num(double v) {
        return Double.isNaN(v) ? "" : Double.toString(v);
    }

    /** Filled by the backtester. */
    static final class Builder {
        final String strategy;
        final MarketData data;
        final int first;
        final Backtester.Settings settings;
        final List<WalkForward.Fold> folds;
        final long[] times;
        final double[] close;
        final double[] signal;
        final double[] confidence;
        final double[] lower;
        final double[] upper;
        final boolean[] anomaly;
        final boolean[] decided;
        final double[] target;
        final double[] position;
        final double[] pnl;
        final double[] equity;
        final double[] fees;
        final double[] slippage;
        final double[] notional;
        final double[] forward;
        final List<Trade> trades = new ArrayList<>();

        Builder(String strategy, MarketData data, int first, int len, Backtester.Settings settings,
                List<WalkForward.Fold> folds) {
            this.strategy = strategy;
            this.data = data;
            this.first = first;
            this.settings = settings;
            this.folds = folds;
            times = new long[len];
            close = new double[len];
            signal = new double[len];
            confidence = new double[len];
            lower = new double[len];
            upper = new double[len];
            anomaly = new boolean[len];
            decided = new boolean[len];
            target = new double[len];
            position = new double[len];
            pnl = new double[len];
            equity = new double[len];
            fees = new double[len];
            slippage = new double[len];
            notional = new double[len];
            forward = new double[len];
            Arrays.fill(signal, Double.NaN);
            Arrays.fill(confidence, Double.NaN);
            Arrays.fill(lower, Double.NaN);
            Arrays.fill(upper, Double.NaN);
            int h = settings.walkForward().horizon();
            for (int j = 0; j < len; j++) {
                int t = first + j;
                times[j] = data.series().startMs(t);
                close[j] = data.series().close(t);
                forward[j] = t + h < data.size() ? data.forwardReturn(t, h) : Double.NaN;
            }
        }

        void bar(int j, Decision d, double pos, double barPnl, double eq) {
            if (d != null) {
                decided[j] = true;
                target[j] = d.position();
                signal[j] = d.signal();
                confidence[j] = d.confidence();
                lower[j] = d.lower();
                upper[j] = d.upper();
                anomaly[j] = d.anomaly();
            }
            position[j] = pos;
            pnl[j] = barPnl;
            equity[j] = eq;
        }

        void fill(int j, double fee, double slip, double tradedNotional) {
            fees[j] += fee;
            slippage[j] += slip;
            notional[j] += tradedNotional;
        }

        void trade(Trade t) {
            trades.add(t);
        }

        BacktestResult build() {
            return new BacktestResult(this);
        }
    }
}
