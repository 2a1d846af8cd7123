package dev.engram.trading.strategy;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.hnn.ModelFormatException;
import dev.engram.trading.backtest.BacktestResult;
import dev.engram.trading.backtest.Backtester;
import dev.engram.trading.backtest.Costs;
import dev.engram.trading.backtest.Decision;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketFeatures;
import dev.engram.trading.backtest.MarketView;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.WalkForward;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.SyntheticMarket;
import dev.engram.trading.features.MarketPattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The trained-model file: a model read back decides every later bar exactly as the fitted strategy does, and as the
 * walk-forward backtest's fold that starts right after the training window does; damaged files are refused with one
 * line naming the problem.
 */
class TrainedModelTest {
    static final int BARS = 2400;
    static final int S = 1700; // the model is trained on bars before S and decides bars from S on
    static BarSeries btc;
    static BarSeries eth;
    static List<dev.engram.trading.data.TimedValues> inputs;
    static TrainedModel.Features features;

    @TempDir
    Path dir;

    @BeforeAll
    static void sample() {
        Map<String, SyntheticMarket.SymbolData> s = SyntheticMarket.generate(SyntheticMarket.Params.defaults()
                .withBars(BARS));
        btc = s.get("SYNBTC").bars();
        eth = s.get("SYNETH").bars();
        inputs = List.of(s.get("SYNBTC").funding(), s.get("SYNBTC").openInterest().relativeChange("open_interest_change"));
        features = new TrainedModel.Features(MarketFeatures.DEFAULT_LOOKBACK, MarketFeatures.DEFAULT_Z_WINDOW,
                MarketPattern.DIM, btc.interval().barsPerYear());
    }

    static Strategies.Settings settings(Backend engine) {
        return new Strategies.Settings(engine, Double.NaN, 0.5, 10, SignalRule.defaults(), RiskRules.defaults(), 3);
    }

    /** Trained on the bars before S only (the series is cut there, so nothing later can reach the fit). */
    static TrainedModel train(String kind, Backend engine) {
        MarketData b = features.of(btc.slice(0, S));
        List<MarketData> universe = kind.equals("hnn") ? List.of(b) : List.of(b, features.of(eth.slice(0, S)));
        return TrainedModel.train(kind, settings(engine), HnnStrategy.Kind.HNN, List.of(), features, b, universe,
                b.features().first(), S, 1, 0);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"memory", "store", "dense", "hnn"})
    void aModelReadBackDecidesAsTheFittedOneAndAsTheBacktestFoldAfterItsWindow(String kind) throws Exception {
        Backend engine = Backends.select("auto");
        MarketData full = features.of(btc);
        List<MarketView> views = new ArrayList<>();
        for (int t = S; t < BARS - 1; t++) {
            views.add(full.viewAt(t));
        }
        Path file = dir.resolve(kind + ".engram");
        List<Decision> fitted;
        try (TrainedModel m = train(kind, engine)) {
            m.save(file);
            fitted = m.strategy().decideAll(views);
            assertEquals(btc.startMs(S - 1), m.data().lastBarMs());
        }
        try (TrainedModel back = TrainedModel.load(file, engine, List.of())) {
            assertEquals(kind, back.kind());
            assertEquals(features, back.features());
            assertEquals(fitted, back.strategy().decideAll(views), kind + " read back decides otherwise");
        }
        // the backtest: one anchored fold whose first decision bar is S
        int first = full.features().first();
        WalkForward wf = new WalkForward(S - first, BARS, 1, 0, true);
        List<MarketData> universe = kind.equals("hnn") ? List.of(full) : List.of(full, features.of(eth));
        BacktestResult r;
        try (Strategy s = Strategies.create(kind, settings(engine))) {
            r = Backtester.run(full, universe, s, Backtester.Settings.of(wf, new Costs(5, 2)));
        }
        assertEquals(S, r.firstBar());
        int traded = 0;
        for (int j = 0; j < fitted.size(); j++) {
            assertEquals(r.target()[j], fitted.get(j).position(), 0, kind + " position at bar " + (S + j));
            assertEquals(r.signal()[j], fitted.get(j).signal(), 0, kind + " signal at bar " + (S + j));
            traded += fitted.get(j).position() != 0 ? 1 : 0;
        }
        assertTrue(traded > 0, kind + " never takes a position: the comparison would show little");
    }

    @Test
    void aPortModelReadBackWithItsInputsDecidesAsTheFittedOneAndRefusesOtherInputs() throws Exception {
        Backend engine = Backends.select("auto");
        MarketData b = features.of(btc.slice(0, S));
        MarketData full = features.of(btc);
        List<MarketView> views = new ArrayList<>();
        for (int t = S; t < S + 200; t++) {
            views.add(full.viewAt(t));
        }
        Path file = dir.resolve("port.engram");
        List<Decision> fitted;
        try (TrainedModel m = TrainedModel.train("hnn", settings(engine), HnnStrategy.Kind.PORT, inputs, features, b,
                List.of(b), b.features().first(), S, 1, 0)) {
            m.save(file);
            fitted = m.strategy().decideAll(views);
        }
        try (TrainedModel back = TrainedModel.load(file, engine, inputs)) {
            assertEquals(HnnStrategy.Kind.PORT, back.hnnKind());
            assertEquals(List.of("funding_rate", "open_interest_change"), back.inputNames());
            assertEquals(fitted, back.strategy().decideAll(views));
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainedModel.load(file, engine, List.of()));
        assertTrue(e.getMessage().contains("trained with 2 input series [\"funding_rate\",\"open_interest_change\"], 0 "
                + "given"), e.getMessage());
    }

    private byte[] memoryFile() throws IOException {
        Path file = dir.resolve("m.engram");
        try (TrainedModel m = train("memory", Backends.select("auto"))) {
            m.save(file);
        }
        return Files.readAllBytes(file);
    }

    private String refused(byte[] bytes) throws IOException {
        Path f = dir.resolve("bad.engram");
        Files.write(f, bytes);
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> TrainedModel.load(f, Backends.select("auto"), List.of()));
        assertTrue(e.getMessage().startsWith(f.toString()) && !e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void aTruncatedFileIsNamedTruncatedWhereverItIsCut() throws IOException {
        byte[] b = memoryFile();
        int header = ByteBuffer.wrap(b, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        for (int len : new int[] {0, 7, 15, 16 + header / 2, 16 + header + 10, b.length / 2, b.length - 9, b.length - 1}) {
            String m = refused(Arrays.copyOf(b, len));
            assertTrue(m.contains("truncated") || len < 8 && m.contains("truncated"), len + ": " + m);
        }
    }

    @Test
    void aFlippedBitAnywhereInTheDataFailsTheChecksum() throws IOException {
        byte[] b = memoryFile();
        int header = ByteBuffer.wrap(b, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        for (int at : new int[] {16 + header, 16 + header + 1000, b.length - 9, b.length - 1}) {
            byte[] c = b.clone();
            c[at] ^= 0x10;
            assertTrue(refused(c).contains("checksum mismatch"), "byte " + at);
        }
    }

    @Test
    void aNewerOrUnknownVersionAndAForeignFileAreRefusedByName() throws IOException {
        byte[] b = memoryFile();
        byte[] newer = b.clone();
        newer[8] = 2;
        assertTrue(refused(newer).contains("version 2 by a newer Engram"), refused(newer));
        byte[] old = b.clone();
        old[8] = 0;
        assertTrue(refused(old).contains("version 0 is not one this build reads"));
        byte[] foreign = b.clone();
        foreign[0] = 'X';
        assertTrue(refused(foreign).contains("not an Engram trained model"));
        byte[] longer = Arrays.copyOf(b, b.length + 3);
        assertTrue(refused(longer).contains("3 bytes after the end"));
    }

    @Test
    void aModelOfAnotherIntervalOrADecisionInsideTheTrainingDataIsRefused() {
        try (TrainedModel m = train("memory", Backends.select("auto"))) {
            BarSeries daily = BarSeries.of("X", dev.engram.trading.data.Interval.D1,
                    List.of(dev.engram.trading.data.Bar.of(0, 1, 1, 1, 1, 1)));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.marketData(daily, "f.csv"));
            assertTrue(e.getMessage().contains("f.csv has D bars but the model was trained on 60 bars"), e.getMessage());
            m.checkDecisionTime(btc.startMs(S - 1), "bar");
            e = assertThrows(IllegalArgumentException.class, () -> m.checkDecisionTime(btc.startMs(S - 2), "bar"));
            assertTrue(e.getMessage().contains("the model has seen what followed it"), e.getMessage());
        }
    }
}
