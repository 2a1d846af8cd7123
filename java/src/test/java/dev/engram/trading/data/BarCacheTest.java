package dev.engram.trading.data;

import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.RecordedRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.engram.trading.data.BybitClientTest.H;
import static dev.engram.trading.data.BybitClientTest.T0;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BarCacheTest {
    @TempDir
    Path dir;

    @Test
    void extendsIncrementallyAndFetchesOnlyWhatIsMissing() throws Exception {
        List<Bar> all = BybitClientTest.market(2);
        try (ExchangeServer s = new ExchangeServer(T0 + 3000 * H)) {
            s.server.setDispatcher(BybitClientTest.klineDispatcher(all));
            BybitClient client = new BybitClient(s.baseUrl(), s.config());
            BarSource src = client.source("linear");
            BarCache cache = new BarCache(dir);
            BarSeries first = cache.fetch(src, "BTCUSDT", Interval.H1, T0 + 500 * H, T0 + 1000 * H, FetchProgress.NONE);
            assertEquals(500, first.size());
            Path file = dir.resolve("bybit-linear").resolve("BTCUSDT-60.csv");
            assertTrue(Files.exists(file));
            int before = s.server.getRequestCount();
            for (int i = 0; i < before; i++) {
                s.server.takeRequest();
            }

            BarSeries wider = cache.fetch(src, "BTCUSDT", Interval.H1, T0, T0 + 1500 * H, FetchProgress.NONE);
            assertEquals(1490, wider.size()); // bars 1200..1209 do not exist
            assertEquals(BarSeries.of("BTCUSDT", Interval.H1, all.subList(0, 1490)), wider);
            int n = s.server.getRequestCount() - before;
            assertEquals(2, n, "one page before the cached span, one after");
            List<long[]> asked = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                RecordedRequest r = s.server.takeRequest();
                asked.add(new long[] {Long.parseLong(r.getUrl().queryParameter("start")),
                        Long.parseLong(r.getUrl().queryParameter("end"))});
            }
            asked.sort((a, b) -> Long.compare(a[0], b[0]));
            assertArrayEquals(new long[] {T0, T0 + 500 * H - 1}, asked.get(0));
            assertArrayEquals(new long[] {T0 + 1000 * H, T0 + 1500 * H - 1}, asked.get(1));

            int again = s.server.getRequestCount();
            assertEquals(100, cache.fetch(src, "BTCUSDT", Interval.H1, T0 + 100 * H, T0 + 200 * H,
                    FetchProgress.NONE).size());
            assertEquals(again, s.server.getRequestCount(), "a range inside the cache is served without requests");
            assertEquals(wider, cache.read(src, "BTCUSDT", Interval.H1));
        }
    }

    @Test
    void aFailedFetchLeavesTheCacheAsItWas() throws Exception {
        List<Bar> all = BybitClientTest.market(3);
        try (ExchangeServer s = new ExchangeServer(T0 + 3000 * H)) {
            Dispatcher good = BybitClientTest.klineDispatcher(all);
            AtomicInteger calls = new AtomicInteger();
            AtomicInteger failAfter = new AtomicInteger(Integer.MAX_VALUE);
            s.server.setDispatcher(new Dispatcher() {
                @Override
                public MockResponse dispatch(RecordedRequest r) throws InterruptedException {
                    if (calls.incrementAndGet() > failAfter.get()) {
                        return new MockResponse.Builder().code(503).body("maintenance").build();
                    }
                    return good.dispatch(r);
                }
            });
            BybitClient client = new BybitClient(s.baseUrl(), s.config());
            BarCache cache = new BarCache(dir);
            BarSource src = client.source("linear");
            cache.fetch(src, "BTCUSDT", Interval.H1, T0 + 2000 * H, T0 + 2100 * H, FetchProgress.NONE);
            Path file = cache.file(src, "BTCUSDT", Interval.H1);
            byte[] before = Files.readAllBytes(file);
            failAfter.set(calls.get() + 1); // the first page of the next fetch succeeds, the second never does
            ExchangeException e = assertThrows(ExchangeException.class,
                    () -> cache.fetch(src, "BTCUSDT", Interval.H1, T0, T0 + 2100 * H, FetchProgress.NONE));
            assertEquals(ExchangeException.Kind.RETRIES_EXHAUSTED, e.kind());
            assertArrayEquals(before, Files.readAllBytes(file));
            try (var files = Files.list(file.getParent())) {
                assertEquals(List.of(file.getFileName().toString()),
                        files.map(p -> p.getFileName().toString()).toList());
            }
        }
    }

    @Test
    void atomicWriteThatFailsKeepsTheOldFileAndLeavesNoTemporary() throws Exception {
        Path f = dir.resolve("x.csv");
        Files.writeString(f, "old");
        assertThrows(IOException.class, () -> dev.engram.tensor.AtomicFiles.writeStream(f, out -> {
            out.write("new, half written".getBytes());
            throw new IOException("disk full");
        }));
        assertEquals("old", Files.readString(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count());
        }
        dev.engram.tensor.AtomicFiles.writeStream(f, out -> out.write("new".getBytes()));
        assertEquals("new", Files.readString(f));
    }
}
