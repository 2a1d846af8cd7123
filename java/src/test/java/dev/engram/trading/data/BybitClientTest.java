package dev.engram.trading.data;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BybitClientTest {
    static final long H = 3_600_000L;
    static final long T0 = 1_704_067_200_000L; // 2024-01-01T00:00Z

    /** 2500 hourly bars from T0 with bars 1200..1209 missing (an exchange outage). */
    static List<Bar> market(long seed) {
        Random rnd = new Random(seed);
        List<Bar> bars = new ArrayList<>();
        double p = 40_000;
        for (int i = 0; i < 2500; i++) {
            double o = p;
            p *= Math.exp(0.005 * rnd.nextGaussian());
            double v = 10 + rnd.nextDouble();
            if (i >= 1200 && i < 1210) {
                continue;
            }
            bars.add(new Bar(T0 + i * H, o, Math.max(o, p) * 1.001, Math.min(o, p) * 0.999, p, v, v * p));
        }
        return bars;
    }

    static String klineJson(List<Bar> newestFirst) {
        StringBuilder b = new StringBuilder("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":\"linear\","
                + "\"symbol\":\"BTCUSDT\",\"list\":[");
        for (int i = 0; i < newestFirst.size(); i++) {
            Bar x = newestFirst.get(i);
            b.append(i == 0 ? "" : ",").append("[\"").append(x.startMs()).append("\",\"").append(x.open())
                    .append("\",\"").append(x.high()).append("\",\"").append(x.low()).append("\",\"")
                    .append(x.close()).append("\",\"").append(x.volume()).append("\",\"").append(x.turnover())
                    .append("\"]");
        }
        return b.append("]},\"retExtInfo\":{},\"time\":1704067200000}").toString();
    }

    /** Serves /v5/market/kline like Bybit: rows in [start, end], newest first, at most limit — plus 3 extra newer
     * rows past end, so consecutive pages overlap. */
    static Dispatcher klineDispatcher(List<Bar> all) {
        return new Dispatcher() {
            @Override
            public MockResponse dispatch(RecordedRequest r) {
                long start = Long.parseLong(r.getUrl().queryParameter("start"));
                long end = Long.parseLong(r.getUrl().queryParameter("end"));
                int limit = Integer.parseInt(r.getUrl().queryParameter("limit"));
                List<Bar> page = new ArrayList<>();
                int extra = 0;
                for (int i = all.size() - 1; i >= 0 && page.size() < limit; i--) {
                    Bar b = all.get(i);
                    if (b.startMs() > end && b.startMs() <= end + 3 * H) {
                        page.add(b);
                        extra++;
                    } else if (b.startMs() >= start && b.startMs() <= end) {
                        page.add(b);
                    }
                }
                assertTrue(extra <= 3);
                return new MockResponse.Builder().code(200).body(klineJson(page)).build();
            }
        };
    }

    @Test
    void pagesBackwardsDeduplicatesKeepsGapsAndDropsTheUnfinishedBar() throws Exception {
        List<Bar> all = market(1);
        long lastStart = all.getLast().startMs();
        try (ExchangeServer s = new ExchangeServer(lastStart + 30 * 60_000L)) { // the last bar is still open
            s.server.setDispatcher(klineDispatcher(all));
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            List<Integer> pages = new ArrayList<>();
            BarSeries got = c.klines("linear", "BTCUSDT", Interval.H1, T0, lastStart + H,
                    (p, rows, covered, total) -> pages.add(p));
            assertEquals(all.size() - 1, got.size());
            assertEquals(BarSeries.of("BTCUSDT", Interval.H1, all.subList(0, all.size() - 1)), got);
            assertEquals(List.of(new Gap(T0 + 1199 * H, T0 + 1210 * H, 10)), got.gaps());
            assertEquals(3, c.requests());
            assertEquals(List.of(1, 2, 3), pages);
            RecordedRequest first = s.server.takeRequest();
            assertEquals("/v5/market/kline", first.getUrl().encodedPath());
            assertEquals("linear", first.getUrl().queryParameter("category"));
            assertEquals("60", first.getUrl().queryParameter("interval"));
            assertEquals("1000", first.getUrl().queryParameter("limit"));
            assertEquals(Long.toString(lastStart + H - 1), first.getUrl().queryParameter("end"));
        }
    }

    @Test
    void retCodeErrorCarriesRetMsgWithoutRetrying() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 1000 * H)) {
            s.enqueue(200, "{\"retCode\":10001,\"retMsg\":\"params error: symbol invalid\",\"result\":{},"
                    + "\"retExtInfo\":{},\"time\":1}");
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            ExchangeException e = assertThrows(ExchangeException.class,
                    () -> c.klines("linear", "NOPEUSDT", Interval.H1, T0, T0 + 10 * H, FetchProgress.NONE));
            assertEquals(ExchangeException.Kind.REJECTED, e.kind());
            assertTrue(e.getMessage().contains("retCode 10001 params error: symbol invalid"), e.getMessage());
            assertTrue(e.getMessage().contains("NOPEUSDT"), e.getMessage());
            assertEquals(1, c.requests());
        }
    }

    @Test
    void rateLimit10006WaitsForTheResetThenSucceeds() throws Exception {
        long now = T0 + 1000 * H;
        try (ExchangeServer s = new ExchangeServer(now)) {
            s.enqueue(200, "{\"retCode\":10006,\"retMsg\":\"Too many visits!\",\"result\":{},\"time\":1}",
                    "X-Bapi-Limit-Status", "0", "X-Bapi-Limit", "10",
                    "X-Bapi-Limit-Reset-Timestamp", Long.toString(now + 2_500));
            s.enqueue(200, klineJson(List.of(new Bar(T0 + H, 1, 2, 0.5, 1.5, 3, 4.5), new Bar(T0, 1, 2, 0.5, 1, 3, 4.5))));
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            BarSeries b = c.klines("spot", "BTCUSDT", Interval.H1, T0, T0 + 2 * H, FetchProgress.NONE);
            assertEquals(2, b.size());
            assertEquals(2, c.requests());
            assertTrue(s.longestSleep() >= 2_500, "slept " + s.sleeps);
        }
    }

    @Test
    void http403StopsAndSaysToWaitTenMinutes() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 1000 * H)) {
            s.enqueue(403, "access too frequent");
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            ExchangeException e = assertThrows(ExchangeException.class,
                    () -> c.klines("linear", "BTCUSDT", Interval.H1, T0, T0 + 10 * H, FetchProgress.NONE));
            assertEquals(ExchangeException.Kind.BLOCKED, e.kind());
            assertTrue(e.getMessage().contains("wait at least 10 minutes"), e.getMessage());
            assertEquals(1, c.requests());
        }
    }

    @Test
    void http429WaitsRetryAfterThenSucceeds() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 1000 * H)) {
            s.enqueue(429, "", "Retry-After", "3");
            s.enqueue(200, klineJson(List.of(new Bar(T0, 1, 2, 0.5, 1, 3, 4.5))));
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            assertEquals(1, c.klines("linear", "BTCUSDT", Interval.H1, T0, T0 + H, FetchProgress.NONE).size());
            assertTrue(s.longestSleep() >= 3_000, "slept " + s.sleeps);
        }
    }

    @Test
    void serverErrorsAndTruncatedBodiesAreRetriedWithBackoff() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 1000 * H)) {
            s.enqueue(500, "internal error");
            String whole = klineJson(List.of(new Bar(T0, 1, 2, 0.5, 1, 3, 4.5)));
            s.enqueue(200, whole.substring(0, whole.length() / 2));
            s.enqueue(200, whole);
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            assertEquals(1, c.klines("linear", "BTCUSDT", Interval.H1, T0, T0 + H, FetchProgress.NONE).size());
            assertEquals(3, c.requests());
            // backoff k=1: 500·[0.5, 1) ms; k=2: 1000·[0.5, 1) ms
            List<Long> backoffs = s.sleeps.stream().filter(x -> x > 100).toList();
            assertEquals(2, backoffs.size(), "sleeps " + s.sleeps);
            assertTrue(backoffs.get(0) >= 250 && backoffs.get(0) < 500, "sleeps " + s.sleeps);
            assertTrue(backoffs.get(1) >= 500 && backoffs.get(1) < 1000, "sleeps " + s.sleeps);
        }
    }

    @Test
    void persistentFailuresEndWithOneLineAfterTheLastAttempt() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 1000 * H)) {
            for (int i = 0; i < 4; i++) {
                s.enqueue(502, "bad gateway");
            }
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            ExchangeException e = assertThrows(ExchangeException.class,
                    () -> c.klines("linear", "BTCUSDT", Interval.H1, T0, T0 + H, FetchProgress.NONE));
            assertEquals(ExchangeException.Kind.RETRIES_EXHAUSTED, e.kind());
            assertTrue(e.getMessage().contains("failed 4 times; last: HTTP 502"), e.getMessage());
            assertEquals(4, c.requests());
        }
    }

    @Test
    void malformedNumberIsReportedWithFieldAndValue() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 1000 * H)) {
            s.enqueue(200, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[[\"" + T0
                    + "\",\"1.5\",\"2\",\"1\",\"1.x5\",\"3\",\"4\"]]}}");
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            ExchangeException e = assertThrows(ExchangeException.class,
                    () -> c.klines("linear", "BTCUSDT", Interval.H1, T0, T0 + H, FetchProgress.NONE));
            assertEquals(ExchangeException.Kind.MALFORMED, e.kind());
            assertTrue(e.getMessage().contains("close '1.x5' is not a number"), e.getMessage());
            assertEquals(1, c.requests());
        }
    }

    @Test
    void aTimeoutIsRetried() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 1000 * H)) {
            s.server.enqueue(new MockResponse.Builder().code(200).body(klineJson(List.of()))
                    .headersDelay(2, TimeUnit.SECONDS).build());
            s.enqueue(200, klineJson(List.of(new Bar(T0, 1, 2, 0.5, 1, 3, 4.5))));
            BybitClient c = new BybitClient(s.baseUrl(), s.config(Duration.ofMillis(300)));
            long t0 = System.nanoTime();
            assertEquals(1, c.klines("linear", "BTCUSDT", Interval.H1, T0, T0 + H, FetchProgress.NONE).size());
            assertEquals(2, c.requests());
            assertTrue(System.nanoTime() - t0 < 1_900_000_000L, "waited for the slow response instead of timing out");
        }
    }

    @Test
    void unreachableHostFailsAtOnce() throws Exception {
        int port;
        try (ServerSocket free = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = free.getLocalPort();
        }
        HttpFetcher.Config cfg = new HttpFetcher.Config(Duration.ofMillis(500), 4, 500, 8000, 0,
                () -> T0, ms -> { }, 1);
        BybitClient c = new BybitClient("http://127.0.0.1:" + port, cfg);
        ExchangeException e = assertThrows(ExchangeException.class,
                () -> c.klines("linear", "BTCUSDT", Interval.H1, T0, T0 + H, FetchProgress.NONE));
        assertEquals(ExchangeException.Kind.UNREACHABLE, e.kind());
        assertTrue(e.getMessage().startsWith("Bybit: cannot reach http://127.0.0.1:" + port), e.getMessage());
        assertEquals(1, c.requests());
    }

    @Test
    void fundingHistoryPagesBackWithEndTime() throws Exception {
        long eightH = 8 * H;
        List<long[]> rows = new ArrayList<>();
        for (int k = 0; k < 450; k++) {
            rows.add(new long[] {T0 + k * eightH, k});
        }
        try (ExchangeServer s = new ExchangeServer(T0 + 10_000 * H)) {
            s.server.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest r) {
                    assertEquals("/v5/market/funding/history", r.getUrl().encodedPath());
                    long start = Long.parseLong(r.getUrl().queryParameter("startTime"));
                    long end = Long.parseLong(r.getUrl().queryParameter("endTime"));
                    StringBuilder b = new StringBuilder("{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"category\":"
                            + "\"linear\",\"list\":[");
                    int n = 0;
                    for (int i = rows.size() - 1; i >= 0 && n < 200; i--) {
                        long t = rows.get(i)[0];
                        if (t >= start && t <= end) {
                            b.append(n++ == 0 ? "" : ",").append("{\"symbol\":\"BTCUSDT\",\"fundingRate\":\"")
                                    .append(rows.get(i)[1] * 1e-6).append("\",\"fundingRateTimestamp\":\"").append(t)
                                    .append("\"}");
                        }
                    }
                    return new MockResponse.Builder().code(200).body(b.append("]}}").toString()).build();
                }
            });
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            TimedValues f = c.fundingHistory("linear", "BTCUSDT", T0, T0 + 450 * eightH, FetchProgress.NONE);
            assertEquals(450, f.size());
            assertEquals(T0, f.time(0));
            assertEquals(449e-6, f.value(449), 1e-18);
            assertEquals(3, c.requests());
            assertThrows(IllegalArgumentException.class,
                    () -> c.fundingHistory("spot", "BTCUSDT", T0, T0 + H, FetchProgress.NONE));
        }
    }

    @Test
    void openInterestFollowsTheCursor() throws Exception {
        try (ExchangeServer s = new ExchangeServer(T0 + 10_000 * H)) {
            s.enqueue(200, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"symbol\":\"BTCUSDT\",\"category\":\"linear\","
                    + "\"list\":[{\"openInterest\":\"500.5\",\"timestamp\":\"" + (T0 + 2 * H) + "\"},"
                    + "{\"openInterest\":\"400\",\"timestamp\":\"" + (T0 + H) + "\"}],\"nextPageCursor\":\"abc%3D\"}}");
            s.enqueue(200, "{\"retCode\":0,\"retMsg\":\"OK\",\"result\":{\"list\":[{\"openInterest\":\"300\","
                    + "\"timestamp\":\"" + T0 + "\"}],\"nextPageCursor\":\"\"}}");
            BybitClient c = new BybitClient(s.baseUrl(), s.config());
            TimedValues oi = c.openInterest("linear", "BTCUSDT", Interval.H1, T0, T0 + 3 * H, FetchProgress.NONE);
            assertEquals(new TimedValues("open_interest", new long[] {T0, T0 + H, T0 + 2 * H},
                    new double[] {300, 400, 500.5}), oi);
            RecordedRequest first = s.server.takeRequest();
            assertEquals("1h", first.getUrl().queryParameter("intervalTime"));
            assertEquals(null, first.getUrl().queryParameter("cursor"));
            assertEquals("abc%3D", s.server.takeRequest().getUrl().queryParameter("cursor"));
        }
    }
}
