package dev.engram.trading.metrics;

import dev.engram.trading.backtest.Trade;
import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.Interval;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every metric on small curves worked out by hand. */
class MetricsKnownAnswersTest {
    static final Annualisation FOUR = new Annualisation(4, "test: 4 bars per year");

    @Test
    void returnRatiosOfAThreeBarCurve() {
        // E: 1 → 1.1 → 0.99 → 1.089: returns +10%, −10%, +10%
        double[] eq = {1.1, 0.99, 1.089};
        List<Trade> trades = List.of(new Trade(0, 1, 1, 1, 0.02, false), new Trade(1, 2, -1, 1, -0.01, false),
                new Trade(2, 2, 1, 2, 0.03, true));
        PerformanceMetrics m = PerformanceMetrics.of(1, eq, trades, 2.0 / 3, 6.0, 0.004, 0.001, FOUR);
        assertEquals(0.089, m.totalReturn(), 1e-12);
        // mean 1/30, sample std √((2·(1/15)² + (2/15)²)/2) = √(1/75) = 0.11547
        double mean = 1.0 / 30;
        double sd = Math.sqrt(1.0 / 75);
        assertEquals(sd * 2, m.annualVol(), 1e-12, "std × √4");
        assertEquals(mean / sd * 2, m.sharpe(), 1e-12);
        assertEquals(0.5773502691896258, m.sharpe(), 1e-12);
        // downside deviation √(0.01/3)
        assertEquals(mean / Math.sqrt(0.01 / 3) * 2, m.sortino(), 1e-12);
        assertEquals(1.1547005383792515, m.sortino(), 1e-12);
        assertEquals(Math.pow(1.089, 4.0 / 3) - 1, m.cagr(), 1e-12);
        assertEquals(0.1, m.drawdown().max(), 1e-12, "1 − 0.99/1.1");
        assertEquals(0, m.drawdown().peakBar());
        assertEquals(1, m.drawdown().troughBar());
        assertEquals(1, m.drawdown().durationBars());
        assertEquals(-1, m.drawdown().recoveryBars(), "1.089 < 1.1: never recovered");
        assertEquals(2, m.drawdown().longestBars(), "bars 1 and 2 below the peak of bar 0");
        assertEquals(m.cagr() / 0.1, m.calmar(), 1e-12);
        assertEquals(3, m.trades());
        assertEquals(2.0 / 3, m.winRate(), 1e-12);
        assertEquals(0.05 / 0.01, m.profitFactor(), 1e-12);
        // trade returns 0.02, −0.01, 0.015
        assertEquals((0.02 - 0.01 + 0.015) / 3, m.expectancy(), 1e-12);
        assertEquals(0.0175, m.averageWin(), 1e-12);
        assertEquals(-0.01, m.averageLoss(), 1e-12);
        assertEquals(2.0 / 3, m.exposure(), 0);
        // 6 traded over 3 bars at 4 bars a year = 8 a year, over mean equity 1.0596…
        assertEquals(6 * 4.0 / 3 / ((1.1 + 0.99 + 1.089) / 3), m.turnover(), 1e-12);
        assertEquals(0.004, m.totalFees(), 0);
        assertEquals("test: 4 bars per year", m.toMap().get("annualisation"));
        assertEquals(0.1, (double) m.toMap().get("max_drawdown"), 1e-12);
    }

    @Test
    void drawdownRecoveryAndLongestStretch() {
        // initial 100; peak 120 at bar 1; trough 90 at bar 3 (25%); back to 120 at bar 5; later a 2-bar dip
        double[] eq = {110, 120, 100, 90, 110, 120, 130, 125, 126, 131};
        Drawdown d = Drawdown.of(100, eq);
        assertEquals(0.25, d.max(), 1e-12);
        assertEquals(1, d.peakBar());
        assertEquals(3, d.troughBar());
        assertEquals(2, d.durationBars());
        assertEquals(2, d.recoveryBars());
        assertEquals(3, d.longestBars(), "bars 2, 3, 4 below 120 (bar 5 equals it)");
        Drawdown up = Drawdown.of(1, new double[] {1.1, 1.2});
        assertEquals(0, up.max());
        assertEquals(0, up.longestBars());
    }

    @Test
    void undefinedRatiosAreNaNNotInfinity() {
        double[] eq = {1.01, 1.02, 1.03};
        PerformanceMetrics m = PerformanceMetrics.of(1, eq, List.of(), 0, 0, 0, 0, FOUR);
        assertTrue(Double.isNaN(m.sortino()), "no losing bar: no downside deviation");
        assertTrue(Double.isNaN(m.calmar()), "no drawdown");
        assertTrue(Double.isNaN(m.winRate()) && Double.isNaN(m.profitFactor()), "no trades");
        PerformanceMetrics flat = PerformanceMetrics.of(1, new double[] {1, 1, 1}, List.of(), 0, 0, 0, 0, FOUR);
        assertTrue(Double.isNaN(flat.sharpe()), "zero volatility");
        assertEquals(0, flat.totalReturn());
    }

    @Test
    void annualisationFromTheBarInterval() {
        assertEquals(8760, Annualisation.around(Interval.H1).barsPerYear(), 0, "hourly crypto: 24 × 365");
        assertEquals(365, Annualisation.around(Interval.D1).barsPerYear(), 0);
        assertEquals(252, Annualisation.of(days(true)).barsPerYear(), 0, "a daily file with weekdays only");
        assertEquals(365, Annualisation.of(days(false)).barsPerYear(), 0, "a daily file with weekends: 24/7");
        assertTrue(Annualisation.of(days(true)).basis().contains("252"));
    }

    /** Daily bars from Monday 2024-01-01 for 4 weeks, weekends skipped or not. */
    static BarSeries days(boolean weekdaysOnly) {
        BarSeries.Builder b = new BarSeries.Builder("S", Interval.D1);
        for (int i = 0; i < 28; i++) {
            if (weekdaysOnly && i % 7 >= 5) {
                continue;
            }
            b.add(Bar.of(1_704_067_200_000L + i * 86_400_000L, 10, 11, 9, 10, 100));
        }
        return b.build();
    }

    @Test
    void forecastMetricsHitRateCalibrationBrierAndBand() {
        double nan = Double.NaN;
        //                   bar:   0      1      2      3     4
        double[] signal = {0.01, -0.02, 0.03, 0.01, nan};
        double[] conf = {0.9, 0.5, 0.05, 0.95, nan};
        double[] target = {0.5, -0.5, 0, 0.2, 0};
        double[] lo = {-0.01, nan, nan, 0.02, nan};
        double[] hi = {0.02, nan, nan, 0.03, nan};
        double[] y = {0.015, 0.01, 0.02, -0.01, 0.01};
        boolean[] decided = {true, true, true, true, false};
        boolean[] anomaly = {false, false, true, false, false};
        ForecastMetrics f = ForecastMetrics.of(signal, conf, target, lo, hi, y, decided, anomaly);
        assertEquals(4, f.bars());
        assertEquals(1.0 / 3, f.hitRate(), 1e-12, "traded bars 0, 1, 3: only bar 0 right");
        assertEquals(0.5, f.signalHitRate(), 1e-12, "signals: bars 0 and 2 right, 1 and 3 wrong");
        assertEquals(0.75, f.coverage(), 1e-12);
        assertEquals((0.9 + 0.5 + 0.95) / 3, f.meanConfidenceTrading(), 1e-12);
        // p_up: 0.95 (up: 0.0025), 0.25 (up: 0.5625), 0.525 (up: 0.225625), 0.975 (down: 0.950625)
        assertEquals((0.0025 + 0.5625 + 0.225625 + 0.950625) / 4, f.brier(), 1e-12);
        assertEquals(2, f.calibration().get(9).count(), "confidences 0.9 and 0.95 in [0.9, 1]");
        assertEquals(0.5, f.calibration().get(9).hitRate(), 0, "bar 0 right, bar 3 wrong");
        assertEquals(0.925, f.calibration().get(9).meanConfidence(), 1e-12);
        assertEquals(0, f.calibration().get(3).count());
        assertEquals(1, f.calibration().get(0).hitRate(), 0, "confidence 0.05: right");
        assertEquals(0.5, f.bandCoverage(), 0, "bar 0 inside [−0.01, 0.02], bar 3 outside [0.02, 0.03]");
        assertEquals(1, f.anomalies());
        double rmse = Math.sqrt((0.005 * 0.005 + 0.03 * 0.03 + 0.01 * 0.01 + 0.02 * 0.02) / 4);
        assertEquals(rmse, f.forecastRmse(), 1e-12);
        assertEquals(0.7, f.confidenceQuantiles()[2], 1e-12, "median of 0.05, 0.5, 0.9, 0.95 (type 7): 0.7");
    }
}
