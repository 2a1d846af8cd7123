package dev.engram.trading.backtest;

import dev.engram.trading.data.BarSeries;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Fills at the next open, costs, signs of longs and shorts, marking to market: hand-computed answers. */
class BookkeepingTest {
    static final WalkForward WF = new WalkForward(10, 5, 1, 0, true);

    static MarketData data(BarSeries s) {
        return MarketData.of(s, 8760);
    }

    /** Decisions from bar {@code first}: the given positions, then none. */
    static Decision[] decisions(int n, int first, double... positions) {
        Decision[] d = new Decision[n];
        for (int i = 0; i < positions.length; i++) {
            d[first + i] = Decision.of(positions[i], Double.NaN, Double.NaN);
        }
        return d;
    }

    @Test
    void longFillsAtTheNextOpenWithFeeAndSlippageAndIsMarkedAtEachClose() {
        // opens 100, 110, 120, 130 ...; closes = open + 5
        BarSeries s = Walks.ofPrices("X", 6, i -> 100 + 10 * i, i -> 105 + 10 * i);
        Costs costs = new Costs(10, 20); // 0.1% fee, 0.2% slippage
        Backtester.Settings st = new Backtester.Settings(WF, costs, 1000, 0.0, 1.0);
        // decide long 0.5 at bar 0 (filled at bar 1's open 110), flat at bar 2 (filled at bar 3's open 130)
        BacktestResult r = Backtester.simulate(data(s), decisions(6, 0, 0.5, 0.5, 0.0), 0, st, "t", List.of());
        double[] eq = r.equity();
        assertEquals(1000, eq[0], 0, "no position during bar 0");
        // bar 1: units = 0.5·1000/110; buy at 110·1.002, fee 0.1% of that; marked at 115
        double u = 0.5 * 1000 / 110;
        double cash = 1000 - u * 110 * 1.002 - u * 110 * 1.002 * 0.001;
        assertEquals(cash + u * 115, eq[1], 1e-9);
        // bar 2: target 0.5 again; held fraction at the open 120 differs (band 0): rebalance
        double eqOpen2 = cash + u * 120;
        double u2 = 0.5 * eqOpen2 / 120;
        double du = u2 - u;
        double price2 = 120 * (1 + Math.signum(du) * 0.002);
        cash -= du * price2 + Math.abs(du) * price2 * 0.001;
        assertEquals(cash + u2 * 125, eq[2], 1e-9);
        // bar 3: flat at 130·0.998, minus fee
        cash += u2 * 130 * 0.998 - u2 * 130 * 0.998 * 0.001;
        assertEquals(cash, eq[3], 1e-9);
        assertEquals(0, r.position()[3]);
        assertEquals(1, r.trades().size());
        Trade t = r.trades().getFirst();
        assertEquals(1, t.entryBar());
        assertEquals(3, t.exitBar());
        assertEquals(+1, t.direction());
        assertEquals(cash - 1000, t.pnl(), 1e-9, "the trade's P&L is the whole equity change");
        assertFalse(t.open());
        double fees = 0;
        for (double f : r.fees()) {
            fees += f;
        }
        assertEquals((u * 110 * 1.002 + Math.abs(du) * price2 + u2 * 130 * 0.998) * 0.001, fees, 1e-12);
    }

    @Test
    void aShortGainsOnAFallingSeriesAndALongLoses() {
        BarSeries s = Walks.ofPrices("DOWN", 20, i -> 200 - 5 * i, i -> 200 - 5 * (i + 1));
        Backtester.Settings st = new Backtester.Settings(WF, new Costs(5, 2), 1, 0.05, 1.0);
        double[] shortAll = new double[18];
        java.util.Arrays.fill(shortAll, -1);
        double[] longAll = new double[18];
        java.util.Arrays.fill(longAll, 1);
        BacktestResult sh = Backtester.simulate(data(s), decisions(20, 0, shortAll), 0, st, "short", List.of());
        BacktestResult lo = Backtester.simulate(data(s), decisions(20, 0, longAll), 0, st, "long", List.of());
        assertTrue(sh.finalEquity() > 1.2, "short on a falling series gains: " + sh.finalEquity());
        assertTrue(lo.finalEquity() < 0.8, "long on it loses: " + lo.finalEquity());
        assertTrue(sh.position()[5] < -0.9, "held fraction is negative for a short: " + sh.position()[5]);
        // without costs and rebalancing: a short of units u = E0/o_1 entered at o_1 = 195 gains u·(o_1 − c_19)
        Backtester.Settings free = new Backtester.Settings(WF, Costs.none(), 1, 0.99, 1.0);
        BacktestResult exact = Backtester.simulate(data(s), decisions(20, 0, shortAll), 0, free, "s", List.of());
        assertEquals(1 + (1.0 / 195) * (195 - 100), exact.finalEquity(), 1e-12);
        assertEquals(-1, exact.trades().getFirst().direction());
        assertTrue(exact.trades().getFirst().open(), "still open at the end");
    }

    @Test
    void aReversalClosesOneTradeAndOpensAnotherAndTradePnlAddsUpToTheEquityChange() {
        BarSeries s = Walks.randomWalk("RW", 3, 300);
        Decision[] d = new Decision[300];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(9);
        for (int t = 100; t < 299; t++) {
            d[t] = Decision.of(rnd.nextInt(3) - 1 + 0.0, Double.NaN, Double.NaN);
        }
        BacktestResult r = Backtester.simulate(data(s), d, 100, Backtester.Settings.of(WF, new Costs(5, 2)), "x",
                List.of());
        double sum = r.trades().stream().mapToDouble(Trade::pnl).sum();
        assertEquals(r.finalEquity() - r.initialEquity(), sum, 1e-12, "money is only made or lost in trades");
        assertTrue(r.trades().size() > 50, "random −1/0/+1 decisions trade often: " + r.trades().size());
        double pnl = 0;
        for (double p : r.pnl()) {
            pnl += p;
        }
        assertEquals(r.finalEquity() - r.initialEquity(), pnl, 1e-12, "bar P&L sums to the equity change");
    }

    @Test
    void buyAndHoldEntersOnceAndFollowsThePrice() {
        BarSeries s = Walks.randomWalk("RW", 4, 400);
        MarketData m = data(s);
        Decision[] none = new Decision[400];
        BacktestResult flat = Backtester.simulate(m, none, 150, Backtester.Settings.of(WF, Costs.none()), "flat",
                List.of());
        BacktestResult bh = Backtester.buyAndHold(m, flat);
        assertEquals(1, bh.trades().size());
        assertEquals(s.close(399) / s.open(151), bh.finalEquity(), 1e-12, "no costs: equity follows the price");
        assertEquals(1.0, flat.finalEquity(), 0, "no decisions, no trades");
    }
}
