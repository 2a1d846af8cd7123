package dev.engram.trading.features;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.TimedValues;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.List;

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

    @ParameterizedTest(name = "seed {0}, plant after bar {1}")
    @CsvSource({"21, 250", "22, 600", "23, 1100"})
    void phaseSpacesAndInputsIgnoreTheFuture(long seed, int t) {
        BarSeries s = RandomBars.series("P", seed, 1400, seed == 22);
        BarSeries other = RandomBars.series("Q", seed + 100, 1400, false);
        BarSeries planted = RandomBars.plantFuture(s, t);
        for (Momentum m : List.of(new Momentum.BackwardDifference(), new Momentum.Ema(0.3),
                new Momentum.SavitzkyGolay(9, 2))) {
            assertPrefixEqual(s, t, flat(PhaseSpaces.price(s, 20, m)), flat(PhaseSpaces.price(planted, 20, m)));
            assertPrefixEqual(s, t, flat(PhaseSpaces.multiAsset(List.of(other, s), 20, m)),
                    flat(PhaseSpaces.multiAsset(List.of(other, planted), 20, m)));
            PhaseSpace sl = CanonicalTransform.signedLog().apply(PhaseSpaces.price(s, 20, m));
            assertPrefixEqual(s, t, flat(sl), flat(CanonicalTransform.signedLog().apply(PhaseSpaces.price(planted, 20,
                    m))));
        }
        assertPrefixEqual(s, t, flat(PhaseSpaces.crypto(s, 20)), flat(PhaseSpaces.crypto(planted, 20)));
        // inputs: values published after bar t's start are planted
        long cut = s.startMs(t);
        long[] ft = new long[s.size() / 8];
        double[] fv = new double[ft.length];
        double[] fvPlanted = new double[ft.length];
        for (int k = 0; k < ft.length; k++) {
            ft[k] = s.startMs(0) + k * 8 * 3_600_000L - 1800_000L; // published mid-bar
            fv[k] = 1e-4 * (k % 7);
            fvPlanted[k] = ft[k] > cut ? 1e6 : fv[k];
        }
        TimedValues f = new TimedValues("funding_rate", ft, fv);
        TimedValues fp = new TimedValues("funding_rate", ft, fvPlanted);
        assertPrefixEqual(s, t, ExternalInputs.of(s, List.of(f)), ExternalInputs.of(s, List.of(fp)));
    }

    static FeatureMatrix flat(PhaseSpace ps) {
        int n = ps.dof();
        double[] v = new double[ps.rows() * 2 * n];
        for (int r = 0; r < ps.rows(); r++) {
            for (int i = 0; i < n; i++) {
                v[r * 2 * n + i] = ps.q(r, i);
                v[r * 2 * n + n + i] = ps.p(r, i);
            }
        }
        List<String> names = new java.util.ArrayList<>();
        for (String s : ps.names()) {
            names.add("q_" + s);
        }
        for (String s : ps.names()) {
            names.add("p_" + s);
        }
        return new FeatureMatrix(names, ps.times(), v);
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
