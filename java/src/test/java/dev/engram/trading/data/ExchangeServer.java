package dev.engram.trading.data;

import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** A MockWebServer on 127.0.0.1 plus a fake clock and a sleeper that only records, for the exchange client tests. */
final class ExchangeServer implements AutoCloseable {
    final MockWebServer server = new MockWebServer();
    final List<Long> sleeps = Collections.synchronizedList(new ArrayList<>());
    final long now;

    ExchangeServer(long now) throws IOException {
        this.now = now;
        server.start(InetAddress.getByName("127.0.0.1"), 0);
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getPort();
    }

    /**
     * 2 s timeout, 4 attempts, backoff 500 ms … 8 s, 100 ms spacing; a fake clock that starts at {@code now} and
     * moves only by the sleeps, which are recorded, not slept.
     */
    HttpFetcher.Config config() {
        return config(Duration.ofSeconds(2));
    }

    HttpFetcher.Config config(Duration timeout) {
        return new HttpFetcher.Config(timeout, 4, 500, 8_000, 100, this::clock, sleeps::add, 42);
    }

    long clock() {
        synchronized (sleeps) {
            return now + sleeps.stream().mapToLong(Long::longValue).sum();
        }
    }

    long longestSleep() {
        synchronized (sleeps) {
            return sleeps.stream().mapToLong(Long::longValue).max().orElse(0);
        }
    }

    void enqueue(int code, String body, String... headers) {
        MockResponse.Builder b = new MockResponse.Builder().code(code).body(body);
        for (int i = 0; i + 1 < headers.length; i += 2) {
            b.addHeader(headers[i], headers[i + 1]);
        }
        server.enqueue(b.build());
    }

    @Override
    public void close() {
        server.close();
    }
}
