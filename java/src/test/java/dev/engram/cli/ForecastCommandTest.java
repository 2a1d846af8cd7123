package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.data.SyntheticMarket;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code engram train} then {@code engram forecast}: bars after t change nothing at t; damaged models are one line. */
class ForecastCommandTest {
    @TempDir
    static Path dir;
    static Path btc;
    static BarSeries bars;

    @BeforeAll
    static void sample() throws Exception {
        SyntheticMarket.write(dir.resolve("sample"), SyntheticMarket.Params.defaults().withBars(2400));
        btc = dir.resolve("sample/SYNBTC-60.csv");
        bars = CsvBars.read(btc);
    }

    static String at(int bar) {
        return Instant.ofEpochMilli(bars.startMs(bar)).toString();
    }

    static Path train(String strategy) {
        Path model = dir.resolve(strategy + ".engram");
        if (!Files.exists(model)) {
            RunCommandTest.Result r = RunCommandTest.run("train", "--data", btc.toString(), "--strategy", strategy,
                    "--to", at(1700), "--model", model.toString());
            assertEquals(0, r.code(), r.err());
            assertTrue(r.out().contains("wrote " + model), r.out());
        }
        return model;
    }

    static JsonNode forecast(Path model, Path data, String at) throws Exception {
        RunCommandTest.Result r = RunCommandTest.run("forecast", "--model", model.toString(), "--data", data.toString(),
                "--at", at, "--json", "-");
        assertEquals(0, r.code(), r.err());
        ObjectNode j = (ObjectNode) new ObjectMapper().readTree(r.out());
        j.remove("milliseconds");
        j.remove("model");
        return j;
    }

    /** A copy of the sample whose bars after {@code t} are other bars (prices ×1.7, and 50 more of them). */
    static Path plantedFuture(int t, String name) throws Exception {
        List<Bar> list = new ArrayList<>(bars.bars().subList(0, t + 1));
        for (int i = t + 1; i < bars.size() + 50; i++) {
            Bar b = bars.bar(Math.min(i, bars.size() - 1));
            double f = i % 2 == 0 ? 1.7 : 0.6;
            list.add(new Bar(bars.interval().next(list.getLast().startMs()), b.open() * f, b.high() * f, b.low() * f,
                    b.close() * f, b.volume() * 3, b.hasTurnover() ? b.turnover() * 2 : Double.NaN));
        }
        Path p = Files.createDirectories(dir.resolve(name)).resolve(btc.getFileName()); // the same symbol
        CsvBars.write(p, BarSeries.of(bars.symbol(), bars.interval(), list));
        return p;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"memory", "hnn"})
    void barsAfterTChangeNothingAtT(String strategy) throws Exception {
        Path model = train(strategy);
        int t = 2000;
        JsonNode real = forecast(model, btc, at(t));
        JsonNode planted = forecast(model, plantedFuture(t, "planted-" + strategy), at(t));
        assertEquals(at(t), real.get("bar").asText());
        assertEquals(real, planted, "a forecast at t read bars after t");
        // and it is a forecast of that bar: the next bar's differs
        assertNotEquals(real.get("forecast_return"), forecast(model, btc, at(t + 1)).get("forecast_return"));
        if (strategy.equals("hnn")) {
            JsonNode mc = real.get("monte_carlo");
            assertEquals(200, mc.get("trajectories").asInt());
            for (String k : List.of("q", "p", "energy", "forward_return")) {
                for (int j = 1; j < 5; j++) {
                    assertTrue(mc.get(k).get(j).asDouble() >= mc.get(k).get(j - 1).asDouble(), k + " quantiles ordered");
                }
            }
            assertEquals(real.get("return_p5").asDouble(), mc.get("forward_return").get(0).asDouble(), 1e-12);
        } else {
            assertEquals(3, real.get("similar").size());
        }
    }

    /**
     * {@code --fan} on an HNN model: a PNG, ordered quantiles starting at the close of bar t, the same fan whatever
     * bars follow t, and a one-line error for a model that has no phase space.
     */
    @Test
    void theFanOfAnHnnModelIsAChartAndOrderedQuantilesThatBarsAfterTDoNotChange() throws Exception {
        Path model = train("hnn");
        int t = 2000;
        JsonNode[] fans = new JsonNode[2];
        Path[] data = {btc, plantedFuture(t, "planted-fan")};
        for (int i = 0; i < 2; i++) {
            Path png = dir.resolve("fan" + i + ".png");
            RunCommandTest.Result r = RunCommandTest.run("forecast", "--model", model.toString(), "--data",
                    data[i].toString(), "--at", at(t), "--fan", png.toString(), "--bars-ahead", "12", "--paths", "300",
                    "--json", "-");
            assertEquals(0, r.code(), r.err());
            assertTrue(Files.size(png) > 10_000, "fan chart written: " + png);
            fans[i] = new ObjectMapper().readTree(r.out()).get("fan");
        }
        JsonNode q = fans[0].get("quantiles");
        assertEquals(13, q.size());
        assertEquals(bars.close(t), q.get(0).get("median").asDouble(), 1e-9 * bars.close(t));
        for (JsonNode row : q) {
            double[] v = {row.get("p5").asDouble(), row.get("p25").asDouble(), row.get("median").asDouble(),
                    row.get("p75").asDouble(), row.get("p95").asDouble()};
            for (int j = 1; j < 5; j++) {
                assertTrue(v[j] >= v[j - 1], "quantiles ordered at " + row);
            }
        }
        assertTrue(q.get(12).get("p95").asDouble() > q.get(12).get("p5").asDouble(), "the fan widens");
        assertEquals(q, fans[1].get("quantiles"), "bars after t changed the fan");
        RunCommandTest.Result bad = RunCommandTest.run("forecast", "--model", train("memory").toString(), "--data",
                btc.toString(), "--fan", dir.resolve("no.png").toString());
        assertEquals(2, bad.code());
        assertTrue(bad.err().contains("--fan needs an HNN model") && bad.err().strip().lines().count() == 1, bad.err());
        assertTrue(!Files.exists(dir.resolve("no.png")));
    }

    @Test
    void theTextNamesTheBarTheForecastAndTheSimilarPatterns() {
        RunCommandTest.Result r = RunCommandTest.run("forecast", "--model", train("memory").toString(), "--data",
                btc.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("bar " + at(bars.size() - 1)) && r.out().contains("forecast return over 1 bar(s)")
                && r.out().lines().filter(l -> l.contains("similar:")).count() == 3, r.out());
    }

    @Test
    void aDamagedOrMissingModelOrABarInsideTheTrainingDataIsOneLine() throws Exception {
        Path model = train("memory");
        byte[] b = Files.readAllBytes(model);
        Path cut = dir.resolve("cut.engram");
        Files.write(cut, Arrays.copyOf(b, b.length - 100));
        RunCommandTest.Result r = RunCommandTest.run("forecast", "--model", cut.toString(), "--data", btc.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains(cut + ": truncated") && r.err().strip().lines().count() == 1, r.err());
        r = RunCommandTest.run("forecast", "--model", dir.resolve("none.engram").toString(), "--data", btc.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("no such file") && r.err().strip().lines().count() == 1, r.err());
        r = RunCommandTest.run("forecast", "--model", model.toString(), "--data", btc.toString(), "--at", at(1500));
        assertEquals(2, r.code());
        assertTrue(r.err().contains("before the end of the model's training data"), r.err());
    }
}
