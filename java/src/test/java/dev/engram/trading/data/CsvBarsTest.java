package dev.engram.trading.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CsvBarsTest {
    private static final long T0 = 1_704_067_200_000L; // 2024-01-01T00:00Z
    private static final long H = 3_600_000L;

    @TempDir
    Path dir;

    private static CsvBars.Options opts() {
        return CsvBars.Options.defaults().withSymbol("X");
    }

    @Test
    void readsEpochMillisWithCrlfAndNoFinalNewline() {
        String text = "Timestamp,Open,High,Low,Close,Volume\r\n"
                + T0 + ",10,11,9,10.5,100\r\n"
                + (T0 + H) + ",10.5,12,10,11,200\r\n"
                + (T0 + 2 * H) + ",11,11.5,10.5,11.2,50";
        BarSeries s = CsvBars.parse("a.csv", text, opts());
        assertEquals(3, s.size());
        assertEquals(Interval.H1, s.interval());
        assertEquals(new Bar(T0 + H, 10.5, 12, 10, 11, 200, Double.NaN), s.bar(1));
        assertEquals(50, s.volume(2));
        assertFalse(s.hasTurnover());
    }

    @Test
    void readsEpochSecondsSemicolonsDescendingOrderAndTurnover() {
        long s0 = T0 / 1000;
        String text = "open_time;OPEN;high;low;close;volume;Turnover\n"
                + (s0 + 7200) + ";11;11.5;10.5;11.2;50;560\n"
                + (s0 + 3600) + ";10.5;12;10;11;200;2150\n"
                + s0 + ";10;11;9;10.5;100;1000\n";
        BarSeries s = CsvBars.parse("b.csv", text, opts());
        assertEquals(3, s.size());
        assertEquals(T0, s.startMs(0));
        assertEquals(T0 + 2 * H, s.startMs(2));
        assertEquals(2150, s.turnover(1));
    }

    @Test
    void readsIsoDatesAndDateTimesInTheGivenZone() {
        String daily = "date,open,high,low,close,volume\n2024-01-02,1,2,0.5,1.5,10\n2024-01-01,1,2,0.5,1.5,10\n";
        BarSeries d = CsvBars.parse("d.csv", daily, opts());
        assertEquals(Interval.D1, d.interval());
        assertEquals(T0, d.startMs(0));
        String local = "time,open,high,low,close,volume\n2024-01-01 00:00:00,1,2,0.5,1.5,10\n2024-01-01 01:00:00,1,2,0.5,1.5,10\n";
        assertEquals(T0, CsvBars.parse("l.csv", local, opts()).startMs(0));
        BarSeries berlin = CsvBars.parse("l.csv", local, opts().withZone(ZoneId.of("Europe/Berlin")));
        assertEquals(T0 - H, berlin.startMs(0));
        String zoned = "time,open,high,low,close,volume\n2024-01-01T02:00:00+02:00,1,2,0.5,1.5,10\n2024-01-01T01:00Z,1,2,0.5,1.5,10\n";
        BarSeries z = CsvBars.parse("z.csv", zoned, opts());
        assertEquals(T0, z.startMs(0));
        assertEquals(T0 + H, z.startMs(1));
    }

    @Test
    void stockLayoutRawOrAdjusted() {
        String text = "Date,Open,High,Low,Close,Adj Close,Volume\n"
                + "2024-01-01,100,110,90,105,52.5,1000\n"
                + "2024-01-02,105,106,99,100,50,800\n";
        BarSeries raw = CsvBars.parse("s.csv", text, opts());
        assertEquals(105, raw.close(0));
        BarSeries adj = CsvBars.parse("s.csv", text, opts().withPrices(CsvBars.Prices.ADJUSTED));
        assertEquals(52.5, adj.close(0), 0);
        assertEquals(50, adj.open(0), 1e-12);
        assertEquals(55, adj.high(0), 1e-12);
        assertEquals(45, adj.low(0), 1e-12);
        assertEquals(1000, adj.volume(0));
        assertEquals(52.5, adj.open(1), 1e-12);
        String noAdj = "date,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,2,0.5,1.5,10\n";
        BarFileException e = assertThrows(BarFileException.class,
                () -> CsvBars.parse("n.csv", noAdj, opts().withPrices(CsvBars.Prices.ADJUSTED)));
        assertTrue(e.getMessage().contains("adj close"), e.getMessage());
    }

    @Test
    void badRowsNameFileLineColumnAndValue() {
        String head = "timestamp,open,high,low,close,volume\n";
        String ok = T0 + ",10,11,9,10.5,100\n";
        BarFileException e = assertThrows(BarFileException.class,
                () -> CsvBars.parse("p.csv", head + ok + (T0 + H) + ",10,9.5,9,10.2,100\n", opts()));
        assertEquals("p.csv", e.file());
        assertEquals(3, e.line());
        assertEquals("high", e.column());
        assertEquals("9.5", e.value());
        assertTrue(e.getMessage().startsWith("p.csv line 3, column high: '9.5' is below max(open, close) = 10.2"),
                e.getMessage());
        e = assertThrows(BarFileException.class,
                () -> CsvBars.parse("p.csv", head + ok + (T0 + H) + ",10,11,9,abc,100\n", opts()));
        assertEquals("close", e.column());
        assertEquals("abc", e.value());
        e = assertThrows(BarFileException.class,
                () -> CsvBars.parse("p.csv", head + ok + (T0 + H) + ",10,11,9,10,-1\n", opts()));
        assertEquals("volume", e.column());
        e = assertThrows(BarFileException.class,
                () -> CsvBars.parse("p.csv", head + ok + (T0 + H) + ",10,11,10.1,10.5,1\n", opts()));
        assertEquals("low", e.column());
        e = assertThrows(BarFileException.class,
                () -> CsvBars.parse("p.csv", head + ok + "yesterday,10,11,9,10.5,1\n", opts()));
        assertEquals("timestamp", e.column());
        assertEquals(3, e.line());
        e = assertThrows(BarFileException.class, () -> CsvBars.parse("p.csv", head + ok + ok, opts()));
        assertEquals(3, e.line());
        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
        e = assertThrows(BarFileException.class, () -> CsvBars.parse("p.csv", "time,open,close\n1,2,3\n", opts()));
        assertTrue(e.getMessage().contains("high"), e.getMessage());
        e = assertThrows(BarFileException.class,
                () -> CsvBars.parse("p.csv", head + ok + (T0 + 1800_000) + ",10,11,9,10.5,1\n",
                        opts().withInterval(Interval.H1)));
        assertEquals(3, e.line());
    }

    @Test
    void gapsAreReportedNotFilled() {
        String text = "timestamp,open,high,low,close,volume\n"
                + T0 + ",10,11,9,10.5,100\n" + (T0 + H) + ",10,11,9,10.5,100\n"
                + (T0 + 4 * H) + ",10,11,9,10.5,100\n" + (T0 + 5 * H) + ",10,11,9,10.5,100\n";
        BarSeries s = CsvBars.parse("g.csv", text, opts());
        assertEquals(4, s.size());
        assertEquals(List.of(new Gap(T0 + H, T0 + 4 * H, 2)), s.gaps());
        BarSeries filled = s.fillGaps();
        assertEquals(6, filled.size());
        assertTrue(filled.gaps().isEmpty());
        assertEquals(0, filled.volume(2));
        assertEquals(10.5, filled.open(2));
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    void exportThenImportIsLossless(long seed) throws Exception {
        Random rnd = new Random(seed);
        BarSeries.Builder b = new BarSeries.Builder("RT", Interval.M5);
        long t = T0;
        double price = 100;
        boolean turnover = seed != 2;
        for (int i = 0; i < 500; i++) {
            t += Interval.M5.nominalMillis() * (rnd.nextInt(20) == 0 ? 3 : 1);
            double o = price;
            price *= Math.exp(0.01 * rnd.nextGaussian());
            double c = price;
            double hi = Math.max(o, c) * (1 + Math.abs(rnd.nextGaussian()) * 1e-3);
            double lo = Math.min(o, c) * (1 - Math.abs(rnd.nextGaussian()) * 1e-3);
            double v = rnd.nextDouble() * 1e6;
            b.add(new Bar(t, o, hi, lo, c, v, turnover ? v * c : Double.NaN), seed == 3 ? rnd.nextDouble() : Double.NaN);
        }
        BarSeries s = b.build();
        Path f = dir.resolve("rt.csv");
        CsvBars.write(f, s);
        assertEquals(s, CsvBars.read(f, CsvBars.Options.defaults().withSymbol("RT").withInterval(Interval.M5)));
        assertEquals(s, CsvBars.read(f, CsvBars.Options.defaults().withSymbol("RT")));
        assertEquals(List.of("rt.csv"), listNames());
        String text = Files.readString(f, StandardCharsets.UTF_8);
        assertFalse(text.contains("\r"));
    }

    @Test
    void symbolDefaultsToTheFileName() throws Exception {
        Path f = dir.resolve("ETHUSDT.csv");
        Files.writeString(f, "timestamp,open,high,low,close,volume\n" + T0 + ",1,2,0.5,1,1\n" + (T0 + H) + ",1,2,0.5,1,1");
        assertEquals("ETHUSDT", CsvBars.read(f).symbol());
        assertEquals("BTCUSDT", CsvBars.stem("BTCUSDT-60.csv"));
        assertEquals("BTC-PERP", CsvBars.stem("BTC-PERP-D.csv"));
        assertEquals("BTC-PERP", CsvBars.stem("BTC-PERP.csv"));
    }

    private List<String> listNames() throws Exception {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
