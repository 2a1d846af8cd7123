package dev.engram.cli;

import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.data.Interval;
import dev.engram.trading.data.TimedValues;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code engram fetch} and {@code engram data} against a local server on 127.0.0.1 and temporary files. */
class MarketDataCommandsTest {
    private static final long H = 3_600_000L;
    private static final long T0 = 1_704_067_200_000L; // 2024-01-01T00:00Z

    @TempDir
    Path dir;

    record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        CommandLine cl = EngramCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err, true));
        PrintStream old = System.out;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            int code = cl.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(old);
        }
    }

    /** A Bybit look-alike: klines for BTCUSDT over Jan 2024 (bars 100..104 missing), funding, open interest;
     * any other symbol gets retCode 10001. */
    private static Dispatcher bybit() {
        return new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest r) {
                String path = r.getUrl().encodedPath();
                if (!"BTCUSDT".equals(r.getUrl().queryParameter("symbol"))) {
                    return ok("{\"retCode\":10001,\"retMsg\":\"params error: symbol invalid\",\"result\":{}}");
                }
                return switch (path) {
                    case "/v5/market/kline" -> {
                        long start = Long.parseLong(r.getUrl().queryParameter("start"));
                        long end = Long.parseLong(r.getUrl().queryParameter("end"));
                        StringBuilder b = new StringBuilder("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[");
                        int n = 0;
                        for (int i = 24 * 31 - 1; i >= 0 && n < 1000; i--) {
                            long t = T0 + i * H;
                            if (t < start || t > end || i >= 100 && i < 105) {
                                continue;
                            }
                            double c = 100 + i % 7;
                            b.append(n++ == 0 ? "" : ",").append("[\"").append(t).append("\",\"").append(c)
                                    .append("\",\"").append(c + 1).append("\",\"").append(c - 1).append("\",\"")
                                    .append(c).append("\",\"5\",\"").append(5 * c).append("\"]");
                        }
                        yield ok(b.append("]}}").toString());
                    }
                    case "/v5/market/funding/history" -> ok("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":["
                            + "{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"0.0002\",\"fundingRateTimestamp\":\"" + (T0 + 8 * H)
                            + "\"},{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"0.0001\",\"fundingRateTimestamp\":\"" + T0
                            + "\"}]}}");
                    case "/v5/market/open-interest" -> ok("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":["
                            + "{\"openInterest\":\"1000\",\"timestamp\":\"" + T0 + "\"}],\"nextPageCursor\":\"\"}}");
                    default -> new MockResponse.Builder().code(404).body("not found").build();
                };
            }
        };
    }

    private static MockResponse ok(String body) {
        return new MockResponse.Builder().code(200).body(body).build();
    }

    @Test
    void fetchWritesTheCacheAndReportsGapsThenDataInfoDescribesIt() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.setDispatcher(bybit());
            server.start(InetAddress.getByName("127.0.0.1"), 0);
            String base = "http://127.0.0.1:" + server.getPort();
            Path cache = dir.resolve("cache");
            Run r = run("fetch", "--source", "bybit", "--symbol", "BTCUSDT", "--interval", "60", "--from", "2024-01-01",
                    "--to", "2024-01-31", "--category", "linear", "--funding", "--open-interest", "--base-url", base,
                    "--cache", cache.toString());
            assertEquals(0, r.code(), r.err());
            Path file = cache.resolve("bybit-linear").resolve("BTCUSDT-60.csv");
            BarSeries bars = CsvBars.read(file, CsvBars.Options.defaults().withInterval(Interval.H1));
            assertEquals(24 * 31 - 5, bars.size());
            assertTrue(r.out().contains("739 bars 2024-01-01T00:00:00Z .. 2024-01-31T23:00:00Z, 1 gap(s), 5 missing"),
                    r.out());
            assertTrue(r.out().contains("gap: 5 bar(s) missing between 2024-01-05T03:00:00Z and 2024-01-05T09:00:00Z"),
                    r.out());
            TimedValues f = TimedValues.read(cache.resolve("bybit-linear").resolve("BTCUSDT-funding.csv"));
            assertEquals(2, f.size());
            assertEquals(0.0002, f.value(1));
            assertEquals(1, TimedValues.read(cache.resolve("bybit-linear").resolve("BTCUSDT-60-open-interest.csv")).size());
            int requests = server.getRequestCount();

            Run again = run("fetch", "--source", "bybit", "--symbol", "BTCUSDT", "--from", "2024-01-10", "--to",
                    "2024-01-20", "--base-url", base, "--cache", cache.toString());
            assertEquals(0, again.code(), again.err());
            assertEquals(requests, server.getRequestCount(), "the cached range was fetched again");

            Run info = run("data", "info", file.toString());
            assertEquals(0, info.code(), info.err());
            assertTrue(info.out().contains("rows       739"), info.out());
            assertTrue(info.out().contains("interval   60 (inferred)"), info.out());
            assertTrue(info.out().contains("range      2024-01-01T00:00:00Z .. 2024-01-31T23:00:00Z"), info.out());
            assertTrue(info.out().contains("gaps       1 (5 missing bars; not filled)"), info.out());
            assertTrue(info.out().contains("first bar  2024-01-01T00:00:00Z open 100.0 high 101.0 low 99.0 close 100.0"),
                    info.out());
            assertTrue(info.out().contains("last bar   2024-01-31T23:00:00Z"), info.out());
        }
    }

    @Test
    void unknownSymbolBadRangeAndUnreachableHostAreOneLineErrors() throws Exception {
        try (MockWebServer server = new MockWebServer()) {
            server.setDispatcher(bybit());
            server.start(InetAddress.getByName("127.0.0.1"), 0);
            String base = "http://127.0.0.1:" + server.getPort();
            String cache = dir.resolve("c").toString();
            Run r = run("fetch", "--source", "bybit", "--symbol", "NOSUCH", "--from", "2024-01-01", "--to",
                    "2024-01-02", "--base-url", base, "--cache", cache);
            assertEquals(2, r.code());
            assertOneLine(r.err(), "retCode 10001 params error: symbol invalid");
            assertTrue(r.err().contains("NOSUCH"), r.err());

            r = run("fetch", "--source", "bybit", "--symbol", "BTCUSDT", "--from", "2024-02-01", "--to", "2024-01-01",
                    "--base-url", base, "--cache", cache);
            assertEquals(2, r.code());
            assertOneLine(r.err(), "--from 2024-02-01 is not before --to 2024-01-01");

            r = run("fetch", "--source", "bybit", "--symbol", "BTCUSDT", "--from", "2024-13-01", "--to", "2024-01-01",
                    "--base-url", base, "--cache", cache);
            assertEquals(2, r.code());
            assertOneLine(r.err(), "--from 2024-13-01 is not a date");

            r = run("fetch", "--source", "kraken", "--symbol", "BTCUSDT", "--from", "2024-01-01", "--to", "2024-01-02",
                    "--cache", cache);
            assertEquals(2, r.code());
            assertOneLine(r.err(), "--source kraken is not one of bybit, binance");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        Run r = run("fetch", "--source", "binance", "--symbol", "BTCUSDT", "--from", "2024-01-01", "--to", "2024-01-02",
                "--base-url", "http://127.0.0.1:" + port, "--cache", dir.resolve("c").toString());
        assertEquals(2, r.code());
        assertOneLine(r.err(), "cannot reach http://127.0.0.1:" + port);
    }

    @Test
    void dataInfoReportsABadRowAndDataSampleWritesTheSample() throws Exception {
        Path bad = dir.resolve("bad.csv");
        Files.writeString(bad, "time,open,high,low,close,volume\n" + T0 + ",1,2,0.5,1,1\n" + (T0 + H) + ",1,0.9,0.5,1,1\n");
        Run r = run("data", "info", bad.toString());
        assertEquals(2, r.code());
        assertOneLine(r.err(), "line 3, column high: '0.9' is below max(open, close) = 1.0");
        r = run("data", "info", dir.resolve("missing.csv").toString());
        assertEquals(2, r.code());
        assertOneLine(r.err(), "missing.csv: no such file");

        Path out = dir.resolve("sample");
        r = run("data", "sample", "--out", out.toString(), "--bars", "300");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("SYNBTC 60: 300 bars 2021-01-01T00:00:00Z"), r.out());
        assertTrue(Files.exists(out.resolve("sample.json")));
        List<String> names = new ArrayList<>();
        try (var files = Files.list(out)) {
            files.forEach(p -> names.add(p.getFileName().toString()));
        }
        assertEquals(13, names.size(), names.toString()); // 3 symbols × 4 files + sample.json
        BarSeries eth = CsvBars.read(out.resolve("SYNETH-60.csv"));
        assertEquals(300, eth.size());
        Bar first = eth.bar(0);
        assertEquals(2000, first.open(), 1e-9);
    }

    private static void assertOneLine(String err, String expected) {
        String t = err.strip();
        assertTrue(t.contains(expected), "stderr: " + err);
        assertEquals(1, t.lines().count(), "stderr has more than one line: " + err);
    }
}
