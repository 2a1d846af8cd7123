package dev.engram.trading.features;

import dev.engram.trading.data.BarSeries;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Causality: every bar after t is replaced by an absurd one; every feature row up to bar t must be bit-for-bit the
 * same, and (so the test can fail) some row after t must differ.
 */
class PlantedFutureTest {

    @ParameterizedTest(name = "seed {0}, plant after bar {1}")
    @CsvSource({"11, 300", "12, 777", "13, 1500"})
    void marketPatternAndNormalisationIgnoreTheFuture(long seed, int t) {
        BarSeries s = RandomBars.series("P", seed, 2000, seed == 12);
        BarSeries planted = RandomBars.plantFuture(s, t);
        assertPrefixEqual(s, t, MarketPattern.of(s, 20), MarketPattern.of(planted, 20));
        assertPrefixEqual(s, t, MarketPattern.of(s, 45), MarketPattern.of(planted, 45));
        assertPrefixEqual(s, t, RollingZScore.normalise(MarketPattern.of(s, 20), 100),
                RollingZScore.normalise(MarketPattern.of(planted, 20), 100));
    }

    /** Rows at bars ≤ t equal; some row after t differs. */
    static void assertPrefixEqual(BarSeries s, int t, FeatureMatrix clean, FeatureMatrix planted) {
        assertArrayEquals(clean.times(), planted.times());
        long last = s.startMs(t);
        int rows = 0;
        while (rows < clean.rows() && clean.times()[rows] <= last) {
            rows++;
        }
        int d = clean.dim();
        assertArrayEquals(Arrays.copyOf(clean.values(), rows * d), Arrays.copyOf(planted.values(), rows * d),
                "rows up to bar " + t + " changed when the future changed");
        assertEquals(clean.values().length, planted.values().length);
        assertNotEquals(Arrays.toString(Arrays.copyOfRange(clean.values(), rows * d, clean.values().length)),
                Arrays.toString(Arrays.copyOfRange(planted.values(), rows * d, planted.values().length)),
                "the planted future did not change anything: the test would not notice a leak");
    }
}
