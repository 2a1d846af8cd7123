package dev.engram.trading.backtest;

import dev.engram.engine.Backends;
import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.strategy.MemoryStrategy;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The future is out of reach: by construction (the view) and in effect (planting it changes nothing before it). */
class LookAheadTest {
    static final WalkForward WF = new WalkForward(300, 100, 1, 0, true);

    /** A canary that trades on the next bar's close: the one thing it must never see. */
    static final class Canary implements Strategy {
        @Override
        public String name() {
            return "canary";
        }

        @Override
        public void fit(TrainingSet training) {
        }

        @Override
        public Decision decide(MarketView view) {
            double next = view.close(view.now() + 1);
            return Decision.of(next > view.close(view.now()) ? 1 : -1, Double.NaN, Double.NaN);
        }
    }

    @Test
    void aStrategyThatReadsTheNextBarIsRefused() {
        MarketData m = MarketData.of(Walks.randomWalk("RW", 1, 800), 8760);
        LookAheadException e = assertThrows(LookAheadException.class,
                () -> Backtester.run(m, List.of(), new Canary(), Backtester.Settings.of(WF, Costs.none())));
        assertEquals(e.now() + 1, e.requested());
        assertTrue(e.getMessage().contains("look-ahead refused"), e.getMessage());
    }

    @Test
    void everyAccessorOfTheViewAndTheTrainingHistoryRefusesLaterBars() {
        MarketData m = MarketData.of(Walks.randomWalk("RW", 2, 400), 8760);
        MarketView v = m.viewAt(200);
        assertEquals(v.close(200), m.series().close(200));
        List<Runnable> peeks = List.of(() -> v.close(201), () -> v.open(201), () -> v.high(201), () -> v.low(201),
                () -> v.volume(201), () -> v.bar(201), () -> v.startMs(201), () -> v.features(201),
                () -> v.hasFeatures(201));
        for (Runnable p : peeks) {
            assertThrows(LookAheadException.class, p::run);
        }
        assertEquals(201, v.closes().length, "closes() stops at the decision bar");
        WalkForward.Fold fold = WF.folds(m.features().first(), m.size()).getFirst();
        TrainingSet ts = TrainingSet.of(m, List.of(m), fold, WF);
        assertThrows(LookAheadException.class, () -> ts.history().close(fold.testFrom()));
    }

    /** The series with every bar after {@code t} replaced: returns that are the next bar's, i.e. pure future. */
    static BarSeries plantFuture(BarSeries s, int t, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        BarSeries.Builder b = new BarSeries.Builder(s.symbol(), s.interval());
        double price = s.close(t);
        for (int i = 0; i < s.size(); i++) {
            if (i <= t) {
                b.add(s.bar(i));
                continue;
            }
            double o = price;
            price *= 1 + 0.05 * (rnd.nextDouble() - 0.5);
            b.add(Bar.of(s.startMs(i), o, Math.max(o, price) * 1.01, Math.min(o, price) * 0.99, price,
                    5000 * rnd.nextDouble()));
        }
        return b.build();
    }

    /** Every strategy the CLI offers, on the reference engine: a planted future changes nothing up to bar t. */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.FieldSource("dev.engram.trading.strategy.Strategies#NAMES")
    void plantingTheFutureChangesNothingUpToTheDecisionBar(String strategy) {
        BarSeries a = Walks.randomWalk("A", 5, 1200);
        BarSeries b = Walks.randomWalk("B", 6, 1200);
        int t = 810; // inside the fourth test window (decisions from bar 670 on)
        BacktestResult clean = run(strategy, a, b);
        BacktestResult planted = run(strategy, plantFuture(a, t, 1), plantFuture(b, t, 2));
        int upTo = t - clean.firstBar(); // entries 0..upTo are bars up to t
        assertTrue(upTo > 100, "enough bars before the planted future");
        assertArrayEquals(slice(clean.equity(), upTo), slice(planted.equity(), upTo));
        assertArrayEquals(slice(clean.signal(), upTo), slice(planted.signal(), upTo));
        assertArrayEquals(slice(clean.target(), upTo), slice(planted.target(), upTo));
        assertArrayEquals(slice(clean.confidence(), upTo), slice(planted.confidence(), upTo));
        assertNotEquals(clean.finalEquity(), planted.finalEquity(), "the planted future did change what came after");
    }

    static BacktestResult run(String strategy, BarSeries traded, BarSeries other) {
        MarketData a = MarketData.of(traded, 8760);
        MarketData b = MarketData.of(other, 8760);
        dev.engram.trading.strategy.Strategies.Settings settings = new dev.engram.trading.strategy.Strategies.Settings(
                Backends.select(dev.engram.engine.Capability.INTEGRATION, "reference"), Double.NaN, 0.5, 10,
                dev.engram.trading.strategy.SignalRule.defaults(), dev.engram.trading.strategy.RiskRules.defaults(), 0);
        try (Strategy s = dev.engram.trading.strategy.Strategies.create(strategy, settings)) {
            return Backtester.run(a, List.of(a, b), s, Backtester.Settings.of(WF, new Costs(5, 2)));
        }
    }

    static double[] slice(double[] v, int upTo) {
        return java.util.Arrays.copyOf(v, upTo + 1);
    }

    @Test
    void purgeKeepsExactlyThePatternsWhoseOutcomeWasRealisedForEverySymbol() {
        int h = 5;
        int e = 3;
        WalkForward wf = new WalkForward(300, 100, h, e, false);
        MarketData a = MarketData.of(Walks.randomWalk("A", 7, 1000), 8760);
        // B starts 30 minutes later: its bars straddle A's
        MarketData b = MarketData.of(Walks.randomWalk("B", 8, 1000, Walks.T0 + 1_800_000L), 8760);
        for (WalkForward.Fold fold : wf.folds(a.features().first(), a.size())) {
            TrainingSet ts = TrainingSet.of(a, List.of(a, b), fold, wf);
            int s = fold.testFrom();
            int lastA = -1;
            int lastB = -1;
            List<Integer> barsA = new ArrayList<>();
            for (int r = 0; r < ts.size(); r++) {
                int bar = ts.bar(r);
                MarketData m = ts.symbol(r) == 0 ? a : b;
                assertTrue(ts.time(r) >= a.series().startMs(fold.trainFrom()), "inside the sliding window");
                long realised = m.series().startMs(bar + h) + 3_600_000L;
                assertTrue(realised <= a.series().startMs(s) - e * 3_600_000L, "outcome realised before the embargo");
                assertEquals(m.forwardReturn(bar, h), ts.outcome(r), 0);
                if (ts.symbol(r) == 0) {
                    lastA = Math.max(lastA, bar);
                    barsA.add(bar);
                } else {
                    lastB = Math.max(lastB, bar);
                }
            }
            assertEquals(s - 1 - h - e, lastA, "the traded symbol: the window minus its last h + e bars");
            assertEquals(s - 2 - h - e, lastB, "B's bar ending half an hour later is one bar earlier");
            assertEquals(s - h - e - fold.trainFrom(), barsA.size(), "no pattern of the window is lost either");
        }
    }
}
