package dev.engram.trading.live;

import com.fasterxml.jackson.databind.JsonNode;
import dev.engram.engine.Backends;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.BinanceClient;
import dev.engram.trading.data.HttpFetcher;
import dev.engram.trading.strategy.HnnStrategy;
import dev.engram.trading.strategy.TrainedModel;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.engram.trading.live.WatchTest.BARS;
import static dev.engram.trading.live.WatchTest.FakeTime;
import static dev.engram.trading.live.WatchTest.H;
import static dev.engram.trading.live.WatchTest.Run;
import static dev.engram.trading.live.WatchTest.S;
import static dev.engram.trading.live.WatchTest.btc;
import static dev.engram.trading.live.WatchTest.closeOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live loop against a local server speaking Binance's futures kline API ({@code GET /fapi/v1/klines}: rows oldest
 * first, twelve fields, times as numbers, prices as strings, the bar still forming included as Binance does), on the
 * fake clock of {@link WatchTest}: a gap, a late bar, a revised duplicate, HTTP 429 and 418 with Retry-After, and an
 * error in Binance's JSON ({@code {"code":…,"msg":…}}). The decisions are the backtest's over the accepted bars, the
 * forming bar is never acted on, and no request reaches the server while a Retry-After it sent is running.
 */
class WatchBinanceTest {
    static final long RATE_LIMIT_S = 30;
    static final long BAN_S = 600;

    @TempDir
    Path dir;

    @BeforeAll
    static void sample() {
        WatchTest.sample();
    }

    /**
     * Serves klines from {@code btc}: bars 1750..1752 never (a gap), bar 1800 only after bar 1803 closed (late), bar
     * 1850 again with twice the volume after bar 1852 closed (a revised duplicate), the forming bar with made-up
     * values; HTTP 429 (Retry-After 30 s) for a minute after bar 1900 closes, one HTTP 418 (Retry-After 600 s) after
     * bar 1950 closes, and HTTP 400 with {@code {"code":-1121,"msg":"Invalid symbol."}} for two minutes after bar 2000
     * closes (a symbol briefly unlisted).
     */
    static final class Replay extends Dispatcher {
        final FakeTime time;
        final List<long[]> requests = new ArrayList<>();
        /** [time the answer was sent, its Retry-After in ms] of each 429 and 418. */
        final List<long[]> retryAfters = new ArrayList<>();
        final AtomicBoolean banned = new AtomicBoolean();
        int errors400;

        Replay(FakeTime time) {
            this.time = time;
        }

        @Override
        public synchronized MockResponse dispatch(RecordedRequest r) {
            long now = time.now();
            requests.add(new long[] {now});
            if (!r.getUrl().encodedPath().equals("/fapi/v1/klines")) {
                return new MockResponse.Builder().code(404).body("{\"code\":-1,\"msg\":\"not found\"}").build();
            }
            if (now >= closeOf(1900) && now < closeOf(1900) + 60_000) {
                retryAfters.add(new long[] {now, RATE_LIMIT_S * 1000});
                return new MockResponse.Builder().code(429).addHeader("Retry-After", Long.toString(RATE_LIMIT_S))
                        .body("{\"code\":-1003,\"msg\":\"Too many requests; current limit is 2400 request weight per "
                                + "1 MINUTE.\"}").build();
            }
            if (now >= closeOf(1950) && banned.compareAndSet(false, true)) {
                retryAfters.add(new long[] {now, BAN_S * 1000});
                return new MockResponse.Builder().code(418).addHeader("Retry-After", Long.toString(BAN_S))
                        .body("{\"code\":-1003,\"msg\":\"Way too many requests; IP banned until "
                                + (now + BAN_S * 1000) + ".\"}").build();
            }
            if (now >= closeOf(2000) && now < closeOf(2000) + 120_000) {
                errors400++;
                return new MockResponse.Builder().code(400).body("{\"code\":-1121,\"msg\":\"Invalid symbol.\"}")
                        .build();
            }
            assertEquals("BTCUSDT", r.getUrl().queryParameter("symbol"));
            assertEquals("1h", r.getUrl().queryParameter("interval"));
            long start = Long.parseLong(r.getUrl().queryParameter("startTime"));
            long end = Long.parseLong(r.getUrl().queryParameter("endTime"));
            int limit = Integer.parseInt(r.getUrl().queryParameter("limit"));
            StringBuilder b = new StringBuilder("[");
            int n = 0;
            for (int i = 0; i < BARS && n < limit; i++) {
                Bar x = btc.bar(i);
                boolean forming = x.startMs() <= now && now < closeOf(i);
                boolean published = i == 1800 ? now >= closeOf(1803) + 1000 : now >= closeOf(i) + 1000;
                if (x.startMs() < start || x.startMs() > end || (i >= 1750 && i <= 1752) || !(published || forming)) {
                    continue;
                }
                double open = x.open();
                double close = forming ? x.open() * 1.07 : x.close(); // the forming bar: not its final values
                double high = forming ? Math.max(open, close) : x.high();
                double low = forming ? Math.min(open, close) : x.low();
                double volume = i == 1850 && now > closeOf(1852) ? x.volume() * 2 : forming ? x.volume() / 3
                        : x.volume();
                b.append(n++ == 0 ? "" : ",").append('[').append(x.startMs()).append(",\"").append(open)
                        .append("\",\"").append(high).append("\",\"").append(low).append("\",\"").append(close)
                        .append("\",\"").append(volume).append("\",").append(closeOf(i) - 1).append(",\"")
                        .append(x.turnover()).append("\",").append(1000 + i).append(",\"").append(volume / 2)
                        .append("\",\"").append(x.turnover() / 2).append("\",\"0\"]");
            }
            return new MockResponse.Builder().code(200).addHeader("Content-Type", "application/json")
                    .body(b.append(']').toString()).build();
        }
    }

    TrainedModel memoryModel() throws Exception {
        Path f = dir.resolve("memory.engram");
        MarketData b = WatchTest.features.of(btc.slice(0, S));
        try (TrainedModel m = TrainedModel.train("memory", WatchTest.settings(), HnnStrategy.Kind.HNN, List.of(),
                WatchTest.features, b, List.of(b), b.features().first(), S, 1, 0)) {
            m.save(f);
        }
        return TrainedModel.load(f, Backends.select("auto"), List.of());
    }

    @Test
    void replayedBinanceWithGapLateBarRevisionRateLimitsBanAndErrorJsonGivesTheBacktestsDecisions()
            throws Exception {
        FakeTime time = new FakeTime(closeOf(1739) + 1000);
        try (MockWebServer server = new MockWebServer(); TrainedModel m = memoryModel()) {
            Replay replay = new Replay(time);
            server.setDispatcher(replay);
            server.start(InetAddress.getByName("127.0.0.1"), 0);
            HttpFetcher.Config cfg = new HttpFetcher.Config(Duration.ofSeconds(2), 2, 500, 4_000, 100, time::now,
                    time::sleep, 42);
            String url = "http://127.0.0.1:" + server.getPort();
            BarFeed feed = new ExchangeBarFeed(new BinanceClient(url, url, cfg).source(BinanceClient.Market.FUTURES),
                    "BTCUSDT", btc.interval());
            Run run = WatchTest.watch(m, feed, time, dir.resolve("binance.jsonl"), closeOf(BARS - 1) + 2 * H, 10_000);

            BarSeries series = run.series();
            assertEquals(BARS - 4, series.size());
            assertTrue(series.indexOf(btc.startMs(1800)) < 0, "the late bar is not in the series");
            for (int i = 0; i < series.size(); i++) {
                Bar got = series.bar(i);
                Bar want = btc.bar(btc.indexOf(got.startMs()));
                // never the forming bar's values: every accepted bar is the closed one
                assertEquals(want.close(), got.close(), 0, "bar " + got.startMs());
                assertEquals(want.volume(), got.volume(), 0, "bar " + got.startMs());
            }
            List<JsonNode> ds = run.decisions();
            assertEquals(BARS - (S - 1) - 4, ds.size());
            for (JsonNode d : ds) {
                long close = btc.interval().next(d.get("bar_ms").asLong());
                assertTrue(java.time.Instant.parse(d.get("decided_at").asText()).toEpochMilli() >= close,
                        "decided before its bar closed: " + d);
            }
            assertEquals(3, ds.stream().filter(d -> d.get("bar_ms").asLong() == btc.startMs(1753)).findFirst()
                    .orElseThrow().get("gap_bars").asInt());
            assertEquals(1, run.lines().stream().filter(l -> l.get("type").asText().equals("late")).count());
            assertEquals(1, run.lines().stream().filter(l -> l.get("type").asText().equals("revised")).count());

            // the rate limit and the ban: each a one-line error with the wait, and no request while it runs
            assertTrue(run.err().lines().anyMatch(l -> l.contains("HTTP 429") && l.contains("retrying in")), run.err());
            assertTrue(run.err().lines().anyMatch(l -> l.contains("HTTP 418") && l.contains("banned")
                    && l.contains(BAN_S + " s")), run.err());
            assertTrue(run.err().lines().anyMatch(l -> l.contains("code -1121 Invalid symbol.")), run.err());
            assertTrue(run.err().lines().allMatch(l -> l.startsWith("engram watch: ")), run.err());
            assertTrue(replay.retryAfters.size() >= 2 && replay.errors400 >= 1, replay.retryAfters.size() + " "
                    + replay.errors400);
            for (long[] ra : replay.retryAfters) {
                for (long[] q : replay.requests) {
                    assertTrue(q[0] <= ra[0] || q[0] >= ra[0] + ra[1], "a request at " + q[0] + " while the "
                            + "Retry-After of " + ra[1] / 1000 + " s sent at " + ra[0] + " ran");
                }
            }
            WatchTest.assertBacktestDecisions("memory", series, ds);
            System.out.printf("watch binance replay: %d decisions, %d polls, %d requests, %d failed polls%n",
                    ds.size(), run.stats().polls(), replay.requests.size(), run.stats().errors());
        }
    }
}
