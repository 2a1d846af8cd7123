package dev.engram.trading.backtest;

import dev.engram.engine.Backends;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.data.SyntheticMarket;
import dev.engram.trading.metrics.Annualisation;
import dev.engram.trading.metrics.PerformanceMetrics;
import dev.engram.trading.strategy.MemoryStrategy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's backtest example, as written except for a shorter sample and windows (seconds, not minutes). */
class ReadmeTradingExampleTest {
    @TempDir
    Path dir;

    @Test
    void readmeExampleRuns() throws Exception {
        SyntheticMarket.write(dir.resolve("sample"), SyntheticMarket.Params.defaults().withBars(3000));
        BarSeries btc = CsvBars.read(dir.resolve("sample/SYNBTC-60.csv"));
        Annualisation ann = Annualisation.of(btc);                                  // 24/7 hourly: 8760 bars a year
        MarketData data = MarketData.of(btc, ann.barsPerYear());                    // bars + causal unit-norm patterns
        WalkForward wf = new WalkForward(1000, 480, 1, 0, true);                    // train, test, horizon, embargo, anchored
        try (MemoryStrategy s = new MemoryStrategy(MemoryStrategy.Config.defaults(Backends.select("auto")))) {
            BacktestResult r = Backtester.run(data, List.of(data), s, Backtester.Settings.of(wf, new Costs(5, 2)));
            PerformanceMetrics m = PerformanceMetrics.of(r, ann);
            PerformanceMetrics hold = PerformanceMetrics.of(Backtester.buyAndHold(data, r), ann);
            System.out.printf("Sharpe %.2f vs %.2f, β per fold %s%n", m.sharpe(), hold.sharpe(), s.fits());
            assertEquals(8760, ann.barsPerYear(), 0);
            assertEquals(r.folds().size(), s.fits().size());
            assertTrue(Double.isFinite(m.sharpe()) && Double.isFinite(hold.sharpe()));
        }
    }
}
