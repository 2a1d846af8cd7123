package dev.engram.trading.strategy;

import dev.engram.engine.Backends;
import dev.engram.trading.backtest.BacktestResult;
import dev.engram.trading.backtest.Backtester;
import dev.engram.trading.backtest.Costs;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.WalkForward;
import dev.engram.trading.data.SyntheticMarket;
import dev.engram.trading.data.TimedValues;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every model kind of the HNN strategy runs a walk-forward on the synthetic market (seed 20240101, 1200 hourly bars
 * of SYNBTC, train 600, test 200), and the port model's inputs u(t) (funding rate, open-interest change) are causal:
 * a huge funding rate planted after bar t changes nothing the strategy decided up to t.
 */
class HnnKindsTest {
    static final WalkForward WF = new WalkForward(600, 200, 1, 0, true);
    static final SyntheticMarket.SymbolData SYN = SyntheticMarket.generate(SyntheticMarket.Params.defaults()
            .withBars(1200)).get("SYNBTC");

    static HnnStrategy strategy(HnnStrategy.Kind kind, List<TimedValues> inputs) {
        HnnStrategy.Config c = new HnnStrategy.Config(Backends.select("cpu"), new int[] {16, 16}, 10, 500, 20, 50, 5,
                0.05, 0.02, 1, 1, 100, 3);
        return new HnnStrategy(c, kind, inputs);
    }

    static List<TimedValues> inputs(TimedValues funding) {
        return List.of(funding, SYN.openInterest().relativeChange("open_interest_change"));
    }

    static BacktestResult run(HnnStrategy s) {
        MarketData m = MarketData.of(SYN.bars(), 8760);
        try (s) {
            return Backtester.run(m, List.of(m), s, Backtester.Settings.of(WF, new Costs(5, 2)));
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(HnnStrategy.Kind.class)
    void everyKindForecastsAndTrades(HnnStrategy.Kind kind) {
        HnnStrategy s = strategy(kind, kind == HnnStrategy.Kind.PORT ? inputs(SYN.funding()) : List.of());
        BacktestResult r = run(s);
        int folds = WF.folds(MarketData.of(SYN.bars(), 8760).features().first(), SYN.bars().size()).size();
        assertEquals(folds, s.fits().size(), kind + ": one fit per fold");
        assertTrue(folds >= 2, "at least two folds, got " + folds);
        int decided = 0;
        for (int i = 0; i < r.bars(); i++) {
            if (r.confidence()[i] > 0) {
                decided++;
                assertTrue(r.lower()[i] <= r.signal()[i] && r.signal()[i] <= r.upper()[i], kind + " bar " + i
                        + ": the median forecast lies in its 5-95% band: " + r.lower()[i] + " " + r.signal()[i] + " "
                        + r.upper()[i]);
            }
        }
        assertTrue(decided > r.bars() / 2, kind + ": most bars get an ensemble forecast, " + decided + " of " + r.bars());
        for (HnnStrategy.Fit f : s.fits()) {
            assertTrue(Double.isFinite(f.validationLoss()) && Double.isFinite(f.noise()), kind + ": finite fit " + f);
        }
        System.out.printf("%s: %d folds, %d of %d bars forecast, equity %.4f%n", kind.label(), folds, decided,
                r.bars(), r.finalEquity());
    }

    @Test
    void theInputsReachThePortModel() {
        BacktestResult real = run(strategy(HnnStrategy.Kind.PORT, inputs(SYN.funding())));
        double[] flat = new double[SYN.funding().size()];
        Arrays.fill(flat, 1e-4);
        BacktestResult constant = run(strategy(HnnStrategy.Kind.PORT,
                inputs(new TimedValues("funding_rate", SYN.funding().times(), flat))));
        assertFalse(Arrays.equals(real.signal(), constant.signal()), "a different funding path changes the forecasts");
    }

    @Test
    void aHugeFundingRatePlantedAfterTChangesNothingUpToT() {
        BacktestResult clean = run(strategy(HnnStrategy.Kind.PORT, inputs(SYN.funding())));
        int first = clean.firstBar();
        int t = first + 300; // inside the second test window
        long after = SYN.bars().startMs(t);
        TimedValues f = SYN.funding();
        double[] planted = f.values();
        for (int k = 0; k < planted.length; k++) {
            if (f.time(k) > after) {
                planted[k] = 1e3; // ten million times a normal funding rate
            }
        }
        BacktestResult dirty = run(strategy(HnnStrategy.Kind.PORT,
                inputs(new TimedValues(f.name(), f.times(), planted))));
        int upTo = t - first;
        assertArrayEquals(head(clean.signal(), upTo), head(dirty.signal(), upTo));
        assertArrayEquals(head(clean.confidence(), upTo), head(dirty.confidence(), upTo));
        assertArrayEquals(head(clean.lower(), upTo), head(dirty.lower(), upTo));
        assertArrayEquals(head(clean.upper(), upTo), head(dirty.upper(), upTo));
        assertArrayEquals(head(clean.target(), upTo), head(dirty.target(), upTo));
        assertArrayEquals(head(clean.equity(), upTo), head(dirty.equity(), upTo));
        assertFalse(Arrays.equals(clean.signal(), dirty.signal()), "the planted funding did change what came after t");
    }

    @Test
    void inputsAreRefusedWhereTheyDoNothing() {
        assertThrows(IllegalArgumentException.class, () -> strategy(HnnStrategy.Kind.PORT, List.of()));
        assertThrows(IllegalArgumentException.class, () -> strategy(HnnStrategy.Kind.DISSIPATIVE,
                inputs(SYN.funding())));
        assertThrows(IllegalArgumentException.class, () -> HnnStrategy.Kind.parse("lagrangian"));
    }

    static double[] head(double[] v, int upTo) {
        return Arrays.copyOf(v, upTo + 1);
    }
}
