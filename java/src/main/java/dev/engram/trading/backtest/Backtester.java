package dev.engram.trading.backtest;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a strategy walk-forward over one traded symbol and keeps the books.
 * <p>
 * Time: for each fold the strategy is fitted on the fold's {@link TrainingSet}, then asked for the decisions of the
 * fold's bars, each from a {@link MarketView} ending at that bar. A decision at bar t is filled at bar t+1's open;
 * equity is marked to market at every close. Money is one unit (the quote currency): {@code equity = cash +
 * units·price}; a short holds negative units, so it gains when the price falls.
 * <p>
 * Fills: the target fraction f (clamped to ±{@code maxPosition}) becomes {@code units = f·E_open/open}, E_open the
 * equity at the open price. The book trades only when the target differs from the held fraction by more than the
 * rebalance band, or the target is flat or of the other side (so small size changes do not churn fees). Costs per
 * side as in {@link Costs}. When equity reaches 0 the book is flattened and stops trading.
 */
public final class Backtester {
    private Backtester() {
    }

    /**
     * Settings of a run.
     *
     * @param walkForward   windows, horizon, purge and embargo
     * @param costs         fees and slippage per side
     * @param initialEquity money at the start, > 0
     * @param rebalanceBand the smallest change of the held fraction that trades, in [0, 1)
     * @param maxPosition   largest |fraction of equity| held, in (0, 10]
     */
    public record Settings(WalkForward walkForward, Costs costs, double initialEquity, double rebalanceBand,
                           double maxPosition) {
        public Settings {
            if (walkForward == null || costs == null) {
                throw new IllegalArgumentException("walk-forward and costs must be set");
            }
            if (!(initialEquity > 0) || !Double.isFinite(initialEquity)) {
                throw new IllegalArgumentException("initial equity must be > 0, got " + initialEquity);
            }
            if (!(rebalanceBand >= 0 && rebalanceBand < 1)) {
                throw new IllegalArgumentException("rebalance band must be in [0, 1), got " + rebalanceBand);
            }
            if (!(maxPosition > 0 && maxPosition <= 10)) {
                throw new IllegalArgumentException("max position must be in (0, 10], got " + maxPosition);
            }
        }

        /** Equity 1, a rebalance band of 0.05 of equity, positions up to ±1 (no leverage). */
        public static Settings of(WalkForward wf, Costs costs) {
            return new Settings(wf, costs, 1.0, 0.05, 1.0);
        }
    }

    /** Told when a fold is done (for progress bars). */
    public interface Progress {
        void foldDone(WalkForward.Fold fold, int folds);
    }

    public static BacktestResult run(MarketData traded, List<MarketData> universe, Strategy strategy, Settings settings) {
        return run(traded, universe, strategy, settings, (f, n) -> { });
    }

    /**
     * @param traded   the symbol traded
     * @param universe the symbols whose patterns the strategy may learn from; the traded one is added when missing
     */
    public static BacktestResult run(MarketData traded, List<MarketData> universe, Strategy strategy, Settings settings,
                                     Progress progress) {
        List<MarketData> all = new ArrayList<>(universe);
        if (all.stream().noneMatch(m -> m == traded)) {
            all.addFirst(traded);
        }
        WalkForward wf = settings.walkForward();
        List<WalkForward.Fold> folds = wf.folds(traded.features().first(), traded.size());
        int first = folds.getFirst().testFrom();
        int n = traded.size();
        Decision[] decisions = new Decision[n];
        for (WalkForward.Fold fold : folds) {
            strategy.fit(TrainingSet.of(traded, all, fold, wf));
            List<MarketView> views = new ArrayList<>(fold.testSize());
            for (int t = fold.testFrom(); t < fold.testTo(); t++) {
                views.add(traded.viewAt(t));
            }
            List<Decision> ds = strategy.decideAll(views);
            if (ds.size() != views.size()) {
                throw new IllegalStateException("strategy " + strategy.name() + " returned " + ds.size()
                        + " decisions for " + views.size() + " bars");
            }
            for (int j = 0; j < ds.size(); j++) {
                decisions[fold.testFrom() + j] = ds.get(j);
            }
            progress.foldDone(fold, folds.size());
        }
        return simulate(traded, decisions, first, settings, strategy.name(), folds);
    }

    /**
     * Buy-and-hold over the same bars as {@code like}: long all the equity from the first fill (the open after the
     * first decision bar) to the last close, with the same costs (one entry fill; the rebalance band keeps it from
     * trading again).
     */
    public static BacktestResult buyAndHold(MarketData traded, BacktestResult like) {
        Decision[] d = new Decision[traded.size()];
        for (int t = like.firstBar(); t < traded.size() - 1; t++) {
            d[t] = Decision.of(1.0, Double.NaN, Double.NaN);
        }
        return simulate(traded, d, like.firstBar(), like.settings(), "buy_and_hold", like.folds());
    }

    /**
     * Fills the decisions and marks the book from bar {@code first} to the last bar (also used directly by tests
     * and by buy-and-hold).
     *
     * @param decisions per bar; null where there is none (no change of position)
     */
    static BacktestResult simulate(MarketData traded, Decision[] decisions, int first, Settings settings,
                                   String name, List<WalkForward.Fold> folds) {
        var s = traded.series();
        int n = s.size();
        int len = n - first;
        Book book = new Book(settings);
        BacktestResult.Builder out = new BacktestResult.Builder(name, traded, first, len, settings, folds);
        double prevEquity = settings.initialEquity();
        for (int t = first; t < n; t++) {
            int j = t - first;
            if (t > first && decisions[t - 1] != null) {
                book.fill(t, s.close(t - 1), s.open(t), decisions[t - 1].position(), out, j);
            }
            double equity = book.mark(s.close(t));
            Decision d = decisions[t];
            out.bar(j, d, book.units * s.close(t) / equity, equity - prevEquity, equity);
            prevEquity = equity;
        }
        book.finish(n - 1, s.close(n - 1), out);
        return out.build();
    }

    /** The account: cash and units, and the trade in progress. */
    private static final class Book {
        final Settings settings;
        final double fee;
        final double slip;
        double cash;
        double units;
        double lastMark;
        boolean ruined;
        // the open trade
        int entryBar = -1;
        int direction;
        double entryEquity;
        double tradePnl;

        Book(Settings settings) {
            this.settings = settings;
            this.fee = settings.costs().fee();
            this.slip = settings.costs().slippage();
            this.cash = settings.initialEquity();
        }

        double mark(double close) {
            double e = cash + units * close;
            if (units != 0) {
                tradePnl += units * (close - lastMark);
            }
            lastMark = close;
            return e;
        }

        void fill(int t, double prevClose, double open, double target, BacktestResult.Builder out, int j) {
            if (units != 0) {
                tradePnl += units * (open - prevClose); // the gap from the last close to this open
            }
            lastMark = open;
            double eq = cash + units * open;
            if (eq <= 0) {
                ruined = true;
            }
            double f = ruined ? 0 : Math.max(-settings.maxPosition(), Math.min(settings.maxPosition(), target));
            double held = eq > 0 ? units * open / eq : 0;
            boolean reverse = held != 0 && f != 0 && Math.signum(f) != Math.signum(held);
            boolean trade = f == 0 ? units != 0 : reverse || held == 0 || Math.abs(f - held) > settings.rebalanceBand();
            if (!trade) {
                return;
            }
            double targetUnits = f == 0 ? 0 : f * eq / open;
            if (reverse || f == 0) {
                execute(-units, open, out, j);      // close the trade in full
                closeTrade(t, false, out);
            }
            double du = targetUnits - units;
            if (du != 0) {
                if (units == 0) {
                    entryBar = t;
                    direction = du > 0 ? 1 : -1;
                    entryEquity = cash + units * open;
                    tradePnl = 0;
                }
                execute(du, open, out, j);
            }
        }

        /** Buys (du > 0) or sells du units at the open with slippage and fee. */
        private void execute(double du, double open, BacktestResult.Builder out, int j) {
            double price = open * (1 + Math.signum(du) * slip);
            double notional = Math.abs(du) * price;
            double commission = notional * fee;
            double slipCost = Math.abs(du) * open * slip;
            cash -= du * price + commission;
            units += du;
            if (Math.abs(units) < 1e-15 * Math.abs(du)) {
                units = 0;
            }
            tradePnl -= commission + slipCost;
            out.fill(j, commission, slipCost, Math.abs(du) * open);
        }

        private void closeTrade(int t, boolean open, BacktestResult.Builder out) {
            if (entryBar >= 0) {
                out.trade(new Trade(entryBar, t, direction, entryEquity, tradePnl, open));
            }
            entryBar = -1;
            tradePnl = 0;
        }

        void finish(int last, double close, BacktestResult.Builder out) {
            if (units != 0) {
                closeTrade(last, true, out);
            }
        }
    }
}
