package dev.engram.trading.strategy;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.trading.backtest.FitProgress;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketView;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code engram train}'s progress: each model kind reports its long phase (the memory's build and β calibration, the
 * store's inserts, the dense memory's rounds, the HNN's epochs) from 0 up to its total, never backwards, ending
 * done; and reporting it changes nothing the fit learns.
 */
class FitProgressTest {
    record Update(String phase, long done, long total) {
    }

    @BeforeAll
    static void sample() {
        TrainedModelTest.sample();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"memory", "store", "dense", "hnn"})
    void eachKindReportsItsLongPhaseToTheEndAndLearnsTheSame(String kind) {
        Backend engine = Backends.select("auto");
        MarketData b = TrainedModelTest.features.of(TrainedModelTest.btc.slice(0, TrainedModelTest.S));
        List<Update> updates = new ArrayList<>();
        FitProgress recorder = (phase, done, total) -> updates.add(new Update(phase, done, total));
        MarketData full = TrainedModelTest.features.of(TrainedModelTest.btc);
        List<MarketView> views = new ArrayList<>();
        for (int t = TrainedModelTest.S; t < TrainedModelTest.S + 50; t++) {
            views.add(full.viewAt(t));
        }
        try (TrainedModel with = TrainedModel.train(kind, TrainedModelTest.settings(engine), HnnStrategy.Kind.HNN,
                List.of(), TrainedModelTest.features, b, List.of(b), b.features().first(), TrainedModelTest.S, 1, 0,
                recorder);
             TrainedModel without = TrainedModel.train(kind, TrainedModelTest.settings(engine), HnnStrategy.Kind.HNN,
                     List.of(), TrainedModelTest.features, b, List.of(b), b.features().first(), TrainedModelTest.S, 1,
                     0)) {
            assertEquals(without.strategy().decideAll(views), with.strategy().decideAll(views),
                    kind + ": reporting progress changed the fit");
        }
        assertTrue(updates.size() >= 3, kind + ": " + updates);
        Update last = updates.getLast();
        assertEquals(last.total(), last.done(), kind + " ends done: " + updates);
        assertTrue(last.total() > 1, kind + ": " + updates);
        for (int i = 0; i < updates.size(); i++) {
            Update u = updates.get(i);
            assertTrue(u.done() >= 0 && u.done() <= u.total(), kind + ": " + u);
            if (i > 0 && updates.get(i - 1).total() == u.total()) {
                assertTrue(u.done() >= updates.get(i - 1).done(), kind + " went backwards: " + updates);
            }
        }
        assertEquals(0, updates.getFirst().done(), kind + " starts at 0: " + updates);
    }
}
