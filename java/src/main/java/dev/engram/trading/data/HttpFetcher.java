package dev.engram.trading.data;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;

/**
 * GET requests with the policies every exchange client needs: a client-side rate limit (a minimum spacing between
 * requests, and a pause until a time the exchange names), a per-request timeout, and retries with exponential
 * backoff and jitter for transient failures (5xx, timeouts, connection resets, truncated bodies, and whatever the
 * exchange-specific {@link Handler} calls retryable: rate-limit answers). Connection refusals and unknown hosts fail
 * at once ({@link ExchangeException.Kind#UNREACHABLE}): retrying does not fix a wrong URL.
 * <p>
 * Backoff before retry k (k = 1, 2, …): min(maxDelay, baseDelay·2^(k−1)) · (½ + ½u), u uniform in [0, 1) ("equal
 * jitter": never less than half the nominal wait, so retries of many clients spread out). A wait the exchange names
 * (Retry-After, a reset timestamp) is used instead when it is longer.
 * <p>
 * Time and sleeping are injected ({@link Config#clock()}, {@link Config#sleeper()}), so tests run without waiting.
 */
public final class HttpFetcher {
    /** Sleeps for a number of milliseconds; tests pass one that only records. */
    @FunctionalInterface
    public interface Sleeper {
        Sleeper REAL = Thread::sleep;

        void sleep(long ms) throws InterruptedException;
    }

    /**
     * @param requestTimeout time allowed for one response (headers and body)
     * @param maxAttempts    attempts per request, ≥ 1 (1 = no retries)
     * @param baseDelayMs    first backoff, ms
     * @param maxDelayMs     backoff cap, ms
     * @param minSpacingMs   client-side rate limit: at least this long between request starts
     * @param clock          epoch ms now
     * @param sleeper        how to wait
     * @param jitterSeed     seed of the jitter
     */
    public record Config(Duration requestTimeout, int maxAttempts, long baseDelayMs, long maxDelayMs,
                         long minSpacingMs, LongSupplier clock, Sleeper sleeper, long jitterSeed) {
        public Config {
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be >= 1, got " + maxAttempts);
            }
        }

        /** 10 s timeout, 6 attempts, backoff 500 ms … 30 s, 100 ms between requests, real clock and sleep. */
        public static Config defaults() {
            return new Config(Duration.ofSeconds(10), 6, 500, 30_000, 100, System::currentTimeMillis, Sleeper.REAL,
                    System.nanoTime());
        }

        public Config withTimeout(Duration d) {
            return new Config(d, maxAttempts, baseDelayMs, maxDelayMs, minSpacingMs, clock, sleeper, jitterSeed);
        }

        public Config withSleeper(Sleeper s) {
            return new Config(requestTimeout, maxAttempts, baseDelayMs, maxDelayMs, minSpacingMs, clock, s, jitterSeed);
        }

        public Config withClock(LongSupplier c) {
            return new Config(requestTimeout, maxAttempts, baseDelayMs, maxDelayMs, minSpacingMs, c, sleeper, jitterSeed);
        }

        public Config withMaxAttempts(int n) {
            return new Config(requestTimeout, n, baseDelayMs, maxDelayMs, minSpacingMs, clock, sleeper, jitterSeed);
        }
    }

    /** What to do with a response. */
    public sealed interface Outcome<T> {
        record Done<T>(T value) implements Outcome<T> {
        }

        /** Retry after at least {@code waitMs} (0: the backoff alone). */
        record Retry<T>(long waitMs, String why) implements Outcome<T> {
        }

        record Fail<T>(ExchangeException error) implements Outcome<T> {
        }
    }

    /** Turns an HTTP response (any status) into an outcome; 5xx never reach it (they are retried). */
    @FunctionalInterface
    public interface Handler<T> {
        Outcome<T> handle(HttpResponse<String> response) throws ExchangeException;
    }

    private final String exchange;
    private final Config config;
    private final HttpClient client;
    private final SplittableRandom jitter;
    private long lastRequestMs = Long.MIN_VALUE;
    private long blockedUntilMs = Long.MIN_VALUE;
    private int requests;

    /**
     * @param exchange name used in messages ("Bybit")
     */
    public HttpFetcher(String exchange, Config config) {
        this.exchange = exchange;
        this.config = config;
        this.client = HttpClient.newBuilder().connectTimeout(config.requestTimeout())
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        this.jitter = new SplittableRandom(config.jitterSeed());
    }

    public Config config() {
        return config;
    }

    /** Requests sent so far (including retries). */
    public int requests() {
        return requests;
    }

    /** No request starts before {@code epochMs} (an exchange said when its limit resets). */
    public void pauseUntil(long epochMs) {
        blockedUntilMs = Math.max(blockedUntilMs, epochMs);
    }

    /** GETs {@code uri} until the handler is done, fails, or the attempts run out. */
    public <T> T get(URI uri, Handler<T> handler) throws ExchangeException {
        String last = "no attempt";
        long namedWait = 0;
        for (int attempt = 1; attempt <= config.maxAttempts(); attempt++) {
            if (attempt > 1) {
                sleep(Math.max(backoff(attempt - 1), namedWait));
                namedWait = 0;
            }
            throttle();
            HttpResponse<String> response;
            try {
                requests++;
                HttpRequest req = HttpRequest.newBuilder(uri).timeout(config.requestTimeout())
                        .header("Accept", "application/json").GET().build();
                response = client.send(req, HttpResponse.BodyHandlers.ofString());
            } catch (HttpConnectTimeoutException e) {
                last = "connecting timed out after " + config.requestTimeout().toMillis() + " ms";
                continue;
            } catch (HttpTimeoutException e) {
                last = "no response within " + config.requestTimeout().toMillis() + " ms";
                continue;
            } catch (ConnectException | UnresolvedAddressException e) {
                throw unreachable(uri, e);
            } catch (IOException e) {
                if (e.getCause() instanceof UnknownHostException || e.getCause() instanceof ConnectException
                        || e.getCause() instanceof UnresolvedAddressException) {
                    throw unreachable(uri, e);
                }
                last = "connection failed (" + e.getClass().getSimpleName()
                        + (e.getMessage() == null ? "" : ": " + e.getMessage()) + ")";
                continue;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ExchangeException(ExchangeException.Kind.RETRIES_EXHAUSTED, exchange + ": interrupted");
            }
            int status = response.statusCode();
            if (status >= 500) {
                last = "HTTP " + status;
                continue;
            }
            Outcome<T> out = handler.handle(response);
            switch (out) {
                case Outcome.Done<T> d -> {
                    return d.value();
                }
                case Outcome.Fail<T> f -> throw f.error();
                case Outcome.Retry<T> r -> {
                    last = r.why();
                    namedWait = r.waitMs();
                }
            }
        }
        throw new ExchangeException(ExchangeException.Kind.RETRIES_EXHAUSTED, exchange + ": " + uri.getPath()
                + " failed " + config.maxAttempts() + " times; last: " + last + ". Try again later.");
    }

    private ExchangeException unreachable(URI uri, Exception e) {
        return new ExchangeException(ExchangeException.Kind.UNREACHABLE, exchange + ": cannot reach "
                + uri.getScheme() + "://" + uri.getAuthority() + " (" + e.getClass().getSimpleName()
                + (e.getMessage() == null ? "" : ": " + e.getMessage()) + "); check the host name (--base-url) "
                + "and the network", e);
    }

    /** The backoff before retry k ≥ 1. */
    long backoff(int k) {
        double nominal = Math.min(config.maxDelayMs(), config.baseDelayMs() * Math.pow(2, k - 1));
        return (long) (nominal * (0.5 + 0.5 * jitter.nextDouble()));
    }

    private void throttle() throws ExchangeException {
        long now = config.clock().getAsLong();
        long earliest = Math.max(blockedUntilMs,
                lastRequestMs == Long.MIN_VALUE ? Long.MIN_VALUE : lastRequestMs + config.minSpacingMs());
        if (earliest > now) {
            sleep(earliest - now);
            now = Math.max(config.clock().getAsLong(), earliest);
        }
        lastRequestMs = now;
    }

    private void sleep(long ms) throws ExchangeException {
        if (ms <= 0) {
            return;
        }
        try {
            config.sleeper().sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ExchangeException(ExchangeException.Kind.RETRIES_EXHAUSTED, exchange + ": interrupted");
        }
    }
}
