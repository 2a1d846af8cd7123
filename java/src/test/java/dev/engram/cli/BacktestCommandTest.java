package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.DayOfWeek;
import java.time.LocalDate;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BacktestCommandTest {
    @TempDir
    Path dir;

    /** A year of daily stock bars (weekdays, Yahoo layout with Adj Close) with a two-week gap in June. */
    Path stockFile() throws Exception {
        StringBuilder sb = new StringBuilder("Date,Open,High,Low,Close,Adj Close,Volume\n");
        SplittableRandom rnd = new SplittableRandom(42);
        double c = 50;
        for (LocalDate d = LocalDate.of(2023, 1, 2); d.getYear() == 2023; d = d.plusDays(1)) {
            if (d.getDayOfWeek() == DayOfWeek.SATURDAY || d.getDayOfWeek() == DayOfWeek.SUNDAY
                    || d.getMonthValue() == 6 && d.getDayOfMonth() >= 5 && d.getDayOfMonth() <= 16) {
                continue;
            }
            double o = c * (1 + 0.002 * (rnd.nextDouble() - 0.5));
            c = o * (1 + 0.02 * (rnd.nextDouble() - 0.5));
            double h = Math.max(o, c) * 1.005;
            double l = Math.min(o, c) * 0.995;
            sb.append(d).append(',').append(o).append(',').append(h).append(',').append(l).append(',').append(c)
                    .append(',').append(c * 0.98).append(',').append(1_000_000 + rnd.nextInt(100_000)).append('\n');
        }
        Path f = dir.resolve("STOCK.csv");
        Files.writeString(f, sb.toString());
        return f;
    }

    static int run(StringWriter err, String... args) {
        CommandLine cl = EngramCli.commandLine();
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    @ParameterizedTest(name = "{0} on a year of daily stock bars with a gap")
    @ValueSource(strings = {"memory", "store", "dense", "hnn"})
    void runsEachStrategyOnAShortDailyFileAndWritesJsonAndBars(String strategy) throws Exception {
        Path out = dir.resolve("out");
        StringWriter err = new StringWriter();
        int code = run(err, "backtest", "--data", stockFile().toString(), "--strategy", strategy, "--backend", "cpu",
                "--out", out.toString());
        assertEquals(0, code, err.toString());
        JsonNode root = new ObjectMapper().readTree(out.resolve("backtest-" + strategy + ".json").toFile());
        for (String key : List.of("total_return", "cagr", "sharpe", "sortino", "calmar", "max_drawdown", "win_rate",
                "profit_factor", "n_trades", "exposure", "turnover", "total_fees")) {
            assertTrue(root.path("strategy").has(key), "strategy." + key);
            assertTrue(root.path("buy_and_hold").has(key), "buy_and_hold." + key);
        }
        assertEquals(252, root.path("strategy").path("bars_per_year").asDouble(), 0, "a weekday file: 252 a year");
        assertEquals(1, root.path("buy_and_hold").path("n_trades").asInt());
        int bars = root.path("period").path("bars").asInt();
        assertTrue(bars > 50, "bars " + bars);
        assertTrue(root.path("period").path("first").asText().startsWith("2023-"));
        assertEquals(strategy, root.path("settings").path("strategy").asText());
        assertTrue(root.path("strategy").path("forecast").has("brier"));
        // the per-bar CSV adds up: equity_j = equity_{j−1} + pnl_j
        List<String> lines = Files.readAllLines(out.resolve("backtest-" + strategy + "-bars.csv"));
        assertEquals("time,close,signal,confidence,position,pnl,equity", lines.getFirst());
        assertEquals(bars + 1, lines.size());
        double prev = 1;
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", -1);
            double pnl = Double.parseDouble(f[5]);
            double eq = Double.parseDouble(f[6]);
            assertEquals(prev + pnl, eq, 1e-12, line);
            prev = eq;
        }
        assertEquals(root.path("strategy").path("total_return").asDouble(), prev - 1, 1e-12);
        assertFalse(Files.list(out).anyMatch(p -> p.getFileName().toString().contains(".tmp")), "no temp files left");
    }

    @Test
    void badInputIsOneLineAndExitCode2() throws Exception {
        StringWriter err = new StringWriter();
        assertEquals(2, run(err, "backtest", "--data", dir.resolve("missing.csv").toString()));
        assertTrue(err.toString().contains("missing.csv"), err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        StringWriter err2 = new StringWriter();
        assertEquals(2, run(err2, "backtest", "--data", stockFile().toString(), "--strategy", "oracle"));
        assertTrue(err2.toString().contains("oracle") && err2.toString().contains("memory"), err2.toString());
        StringWriter err3 = new StringWriter();
        assertEquals(2, run(err3, "backtest", "--data", stockFile().toString(), "--train-bars", "400"));
        assertTrue(err3.toString().contains("fewer training bars"), err3.toString());
    }
}
