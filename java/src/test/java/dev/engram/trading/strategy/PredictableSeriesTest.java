package dev.engram.trading.strategy;

import dev.engram.engine.Backends;
import dev.engram.trading.backtest.BacktestResult;
import dev.engram.trading.backtest.Backtester;
import dev.engram.trading.backtest.Costs;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.WalkForward;
import dev.engram.trading.backtest.Walks;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.features.Momentum;
import dev.engram.trading.features.PhaseSpace;
import dev.engram.trading.features.PhaseSpaces;
import dev.engram.trading.metrics.ForecastMetrics;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where the next move is predictable the strategies find it: a price whose returns repeat a 6-bar cycle (plus a
 * little noise) for the memory models, a price oscillation for the HNN. (The random-walk test shows the other side:
 * where nothing is predictable they earn nothing.)
 */
class PredictableSeriesTest {
    static final double[] CYCLE = {0.01, 0.012, 0.004, -0.01, -0.012, -0.004};

    static BarSeries cyclic(long seed, int n) {
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] close = new double[n];
        double c = 100;
        for (int i = 0; i < n; i++) {
            c *= 1 + CYCLE[i % CYCLE.length] + 0.001 * (rnd.nextDouble() - 0.5);
            close[i] = c;
        }
        return Walks.ofPrices("CYC", n, i -> i == 0 ? 100 : close[i - 1], i -> close[i]);
    }

    static BacktestResult run(Strategy s, BarSeries series) {
        MarketData m = MarketData.of(series, 8760);
        try (s) {
            return Backtester.run(m, List.of(m), s, Backtester.Settings.of(new WalkForward(600, 200, 1, 0, true),
                    new Costs(5, 2)));
        }
    }

    static MemoryStrategy.Config memoryConfig() {
        return MemoryStrategy.Config.defaults(Backends.select("cpu"));
    }

    @Test
    void theMemoryStrategiesPredictACycle() {
        BarSeries s = cyclic(1, 1600);
        for (Strategy strategy : List.of(new MemoryStrategy(memoryConfig()),
                new StoreStrategy(new StoreStrategy.Config(memoryConfig(), 10_000)),
                new DenseMemoryStrategy(DenseMemoryStrategy.Config.defaults(memoryConfig(), 3)))) {
            String name = strategy.name();
            BacktestResult r = run(strategy, s);
            ForecastMetrics f = ForecastMetrics.of(r);
            System.out.printf("%s on a 6-bar cycle: signal hit rate %.3f, traded hit rate %.3f, coverage %.3f, "
                    + "equity %.3f%n", name, f.signalHitRate(), f.hitRate(), f.coverage(), r.finalEquity());
            assertTrue(f.signalHitRate() > 0.8, name + " forecasts the cycle's direction: " + f.signalHitRate());
            assertTrue(f.coverage() > 0.2, name + " trades: " + f.coverage());
            assertTrue(r.finalEquity() > 1.5, name + " earns on it after costs: " + r.finalEquity());
        }
    }

    @Test
    void theHnnForecastsAnOscillation() {
        int n = 1400;
        SplittableRandom rnd = new SplittableRandom(5);
        double[] close = new double[n];
        for (int i = 0; i < n; i++) {
            close[i] = 100 * Math.exp(0.05 * Math.sin(2 * Math.PI * i / 40.0) + 0.0005 * (rnd.nextDouble() - 0.5));
        }
        BarSeries s = Walks.ofPrices("OSC", n, i -> i == 0 ? close[0] : close[i - 1], i -> close[i]);
        HnnStrategy.Config c = HnnStrategy.Config.defaults(Backends.select("cpu"), SignalRule.defaults(), 1);
        HnnStrategy hnn = new HnnStrategy(new HnnStrategy.Config(c.engine(), c.hidden(), 30, 1000, c.window(), 100,
                c.stepsPerBar(), c.sigma0(), 0.02, c.scale(), c.maxPosition(), c.energyWindow(), c.seed()));
        BacktestResult r = run(hnn, s);
        ForecastMetrics f = ForecastMetrics.of(r);
        System.out.printf("hnn on an oscillation: signal hit rate %.3f, coverage %.3f, band %.3f, anomalies %d, "
                + "stops %d, equity %.3f%n", f.signalHitRate(), f.coverage(), f.bandCoverage(), f.anomalies(),
                hnn.stops(), r.finalEquity());
        assertTrue(f.signalHitRate() > 0.7, "the HNN forecasts the oscillation's direction: " + f.signalHitRate());
        assertTrue(f.coverage() > 0.1, "it trades: " + f.coverage());
        assertTrue(f.bandCoverage() > 0 && f.bandCoverage() <= 1, "band coverage is measured: " + f.bandCoverage());
    }

    @Test
    void pricePhaseMatchesThePhaseSpaceOfTheFeatures() {
        BarSeries s = Walks.randomWalk("RW", 3, 500);
        PhaseSpace ps = PhaseSpaces.price(s, 20, new Momentum.BackwardDifference());
        double[][] mine = PricePhase.states(s.closes(), 20);
        assertEquals(ps.rows(), mine[0].length);
        for (int r = 0; r < ps.rows(); r++) {
            assertEquals(ps.q(r, 0), mine[0][r], 1e-12, "q at row " + r);
            assertEquals(ps.p(r, 0), mine[1][r], 1e-12, "p at row " + r);
        }
    }
}
