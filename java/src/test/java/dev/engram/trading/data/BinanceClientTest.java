package dev.engram.trading.data;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static dev.engram.trading.data.BybitClientTest.H;
import static dev.engram.trading.data.BybitClientTest.T0;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BinanceClientTest {

    static String klineJson(List<Bar> oldestFirst, long intervalMs) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < oldestFirst.size(); i++) {
            Bar x = oldestFirst.get(i);
            b.append(i == 0 ? "" : ",").append('[').append(x.startMs()).append(",\"").append(x.open()).append("\",\"")
                    .append(x.high()).append("\",\"").append(x.low()).append("\",\"").append(x.close()).append("\",\"")
                    .append(x.volume()).append("\",").append(x.startMs() + intervalMs - 1).append(",\"")
                    .append(x.turnover()).append("\",1234,\"1.0\",\"2.0\",\"0\"]");
        }
        return b.append(']').toString();
    }

    /** Serves klines like Binance: rows from startTime (plus 2 older ones, so pages overlap), oldest first. */
    static Dispatcher klines(List<Bar> all, String path) {
        return new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest r) {
                assertEquals(path, r.getUrl().encodedPath());
                assertEquals("1h", r.getUrl().queryParameter("interval"));
                long start = Long.parseLong(r.getUrl().queryParameter("startTime"));
                long end = Long.parseLong(r.getUrl().queryParameter("endTime"));
                int limit = Integer.parseInt(r.getUrl().queryParameter("limit"));
                List<Bar> page = new ArrayList<>();
                for (Bar b : all) {
                    if (b.startMs() >= start - 2 * H && b.startMs() <= end && page.size() < limit) {
                        page.add(b);
                    }
                }
                return new MockResponse.Builder().code(200).body(klineJson(page, H)).build();
            }
        };
    }

    @Test
    void spotKlinesPageForwardsDeduplicateAndDropTheOpenBar() throws Exception {
        List<Bar> all = BybitClientTest.market(4);
        long lastStart = all.getLast().startMs();
        try (ExchangeServer s = new ExchangeServer(lastStart + 10 * 60_000L)) {
            s.server.setDispatcher(klines(all, "/api/v3/klines"));
            BinanceClient c = new BinanceClient(s.baseUrl(), "http://127.0.0.1:1", s.config());
            BarSeries got = c.klines(BinanceClient.Market.SPOT, "BTCUSDT", Interval.H1, T0, lastStart + H,
                    FetchProgress.NONE);
            assertEquals(BarSeries.of("BTCUSDT", Interval.H1, all.subList(0, all.size() - 1)), got);
            assertEquals(List.of(new Gap(T0 + 1199 * H, T0 + 1210 * H, 10)), got.gaps());
            assertEquals(3, c.requests());
        }
    }

    @Test
    void futuresKlinesUseTheFuturesPath() throws Exception {
        List<Bar> all = BybitClientTest.market(5).subList(0, 50);
        try (ExchangeServer s = new ExchangeServer(T0 + 10_000 * H)) {
            s.server.setDispatcher(klines(all, "/fapi/v1/klines"));
            BinanceClient c = new BinanceClient("http://127.0.0.1:1", s.baseUrl(), s.config());
            BarSource src = c.source(BinanceClient.Market.FUTURES);
            assertEquals("binance-futures", src.cacheKey());
            assertEquals(50, src.klines("BTCUSDT", Interval.H1, T0, T0 + 50 * H, FetchProgress.NONE).size());
        }
    }

    @Test
    void http429WaitsRetryAfterAnd418StopsWithTheBan() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 10_000 * H)) {
            s.enqueue(429, "{\"code\":-1003,\"msg\":\"Too many requests\"}", "Retry-After", "7");
            s.enqueue(200, klineJson(List.of(new Bar(T0, 1, 2, 0.5, 1, 3, 4)), H));
            BinanceClient c = new BinanceClient(s.baseUrl(), s.baseUrl(), s.config());
            assertEquals(1, c.klines(BinanceClient.Market.SPOT, "BTCUSDT", Interval.H1, T0, T0 + H,
                    FetchProgress.NONE).size());
            assertTrue(s.longestSleep() >= 7_000, "slept " + s.sleeps);
            s.enqueue(418, "{\"code\":-1003,\"msg\":\"Way too many requests; IP banned\"}", "Retry-After", "120");
            ExchangeException e = assertThrows(ExchangeException.class, () -> c.klines(BinanceClient.Market.SPOT,
                    "BTCUSDT", Interval.H1, T0, T0 + H, FetchProgress.NONE));
            assertEquals(ExchangeException.Kind.BLOCKED, e.kind());
            assertTrue(e.getMessage().contains("banned") && e.getMessage().contains("120 s"), e.getMessage());
            assertEquals(3, c.requests());
        }
    }

    @Test
    void invalidSymbolCarriesCodeAndMessage() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 10_000 * H)) {
            s.enqueue(400, "{\"code\":-1121,\"msg\":\"Invalid symbol.\"}");
            BinanceClient c = new BinanceClient(s.baseUrl(), s.baseUrl(), s.config());
            ExchangeException e = assertThrows(ExchangeException.class, () -> c.klines(BinanceClient.Market.SPOT,
                    "NOPE", Interval.H1, T0, T0 + H, FetchProgress.NONE));
            assertEquals(ExchangeException.Kind.REJECTED, e.kind());
            assertTrue(e.getMessage().contains("code -1121 Invalid symbol."), e.getMessage());
            assertTrue(e.getMessage().contains("NOPE"), e.getMessage());
        }
    }

    @Test
    void fundingRatesPageForwards() throws Exception {
        long eightH = 8 * H;
        try (ExchangeServer s = new ExchangeServer(T0 + 100_000 * H)) {
            s.server.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest r) {
                    assertEquals("/fapi/v1/fundingRate", r.getUrl().encodedPath());
                    long start = Long.parseLong(r.getUrl().queryParameter("startTime"));
                    long end = Long.parseLong(r.getUrl().queryParameter("endTime"));
                    StringBuilder b = new StringBuilder("[");
                    int n = 0;
                    for (int k = 0; k < 2500 && n < 1000; k++) {
                        long t = T0 + k * eightH;
                        if (t >= start && t <= end) {
                            b.append(n++ == 0 ? "" : ",").append("{\"symbol\":\"BTCUSDT\",\"fundingTime\":").append(t)
                                    .append(",\"fundingRate\":\"").append(k * 1e-6).append("\",\"markPrice\":\"1.0\"}");
                        }
                    }
                    return new MockResponse.Builder().code(200).body(b.append(']').toString()).build();
                }
            });
            BinanceClient c = new BinanceClient(s.baseUrl(), s.baseUrl(), s.config());
            TimedValues f = c.fundingRates("BTCUSDT", T0, T0 + 2500 * eightH, FetchProgress.NONE);
            assertEquals(2500, f.size());
            assertEquals(2499e-6, f.value(2499), 1e-18);
            assertEquals(3, c.requests());
        }
    }
}
