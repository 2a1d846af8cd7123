package dev.engram.trading;

import dev.engram.trading.data.BarCache;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.BybitClient;
import dev.engram.trading.data.FetchProgress;
import dev.engram.trading.data.Interval;
import dev.engram.trading.data.SyntheticMarket;
import dev.engram.trading.data.TimedValues;
import dev.engram.trading.features.CanonicalTransform;
import dev.engram.trading.features.ExternalInputs;
import dev.engram.trading.features.FeatureMatrix;
import dev.engram.trading.features.ForwardReturns;
import dev.engram.trading.features.MarketPattern;
import dev.engram.trading.features.Momentum;
import dev.engram.trading.features.PhaseSpace;
import dev.engram.trading.features.PhaseSpaces;
import dev.engram.trading.features.RollingZScore;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The README's "Market data" examples, as written (the fetch example is compiled, not run: no network in tests). */
class ReadmeExampleTest {
    @Test
    void featuresOfTheSample() {
        Map<String, SyntheticMarket.SymbolData> sample = SyntheticMarket.generate(SyntheticMarket.Params.defaults());
        BarSeries eth = sample.get("SYNETH").bars();
        FeatureMatrix patterns = RollingZScore.normalise(MarketPattern.of(eth, 20), 500);   // T×11 unit vectors
        PhaseSpace ps = CanonicalTransform.signedLog().apply(PhaseSpaces.price(eth, 20, new Momentum.BackwardDifference()));
        FeatureMatrix u = ExternalInputs.of(eth, List.of(sample.get("SYNETH").funding(),
                sample.get("SYNETH").openInterest().relativeChange("open_interest_change")));
        ForwardReturns y = ForwardReturns.of(eth, 24);
        assertEquals(26_280 - 20 - 500, patterns.rows());
        assertEquals(11, patterns.dim());
        assertEquals(26_280 - 19, ps.rows());
        assertEquals(2, u.dim());
        assertEquals(26_280 - 24, y.size());
    }

    @SuppressWarnings("unused")
    static void fetchExample() throws Exception {
        BybitClient bybit = new BybitClient();                                   // or new BybitClient(baseUrl, config)
        long from = Instant.parse("2024-01-01T00:00:00Z").toEpochMilli(), to = Instant.parse("2024-07-01T00:00:00Z").toEpochMilli();
        BarSeries btc = new BarCache(Path.of("cache")).fetch(bybit.source("linear"), "BTCUSDT", Interval.H1, from, to,
                FetchProgress.NONE);
        TimedValues funding = bybit.fundingHistory("linear", "BTCUSDT", from, to, FetchProgress.NONE);
        System.out.println(btc.size() + " bars, gaps: " + btc.gaps());
    }
}
