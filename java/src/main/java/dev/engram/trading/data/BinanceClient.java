package dev.engram.trading.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Binance market data (public endpoints, no key):
 * <ul>
 * <li>spot klines {@code GET /api/v3/klines} on the spot base URL, perpetual klines {@code GET /fapi/v1/klines} on the
 * futures base URL: symbol, interval ({@code 1m} … {@code 1M}, mapped from Engram's names by
 * {@link Interval#binanceName()}), startTime, endTime, limit ≤ 1000; rows oldest first, 12 fields
 * {@code [openTime, open, high, low, close, volume, closeTime, quoteVolume, trades, takerBuyBase, takerBuyQuote,
 * ignore]} (times as numbers, prices and volumes as strings); a range is paged forwards from the last open time + 1;
 * turnover is the quote volume;</li>
 * <li>funding {@code GET /fapi/v1/fundingRate} (futures base URL): startTime, endTime, limit ≤ 1000; rows
 * {@code {symbol, fundingTime, fundingRate, markPrice}} oldest first.</li>
 * </ul>
 * Only closed bars are returned (openTime + interval ≤ now). HTTP 429 waits {@code Retry-After} seconds and retries;
 * HTTP 418 (the IP is banned for repeating 429s) stops with the ban's length, and this client's next request waits
 * until the ban ends; HTTP 4xx with {@code {code, msg}}
 * (e.g. -1121 "Invalid symbol.") is an error carrying both.
 */
public final class BinanceClient {
    public static final String DEFAULT_SPOT_URL = "https://api.binance.com";
    public static final String DEFAULT_FUTURES_URL = "https://fapi.binance.com";
    private static final int KLINE_LIMIT = 1000;
    private static final int FUNDING_LIMIT = 1000;

    /** Which kline endpoint. */
    public enum Market { SPOT, FUTURES }

    private final String spotUrl;
    private final String futuresUrl;
    private final HttpFetcher http;
    private final ObjectMapper json = new ObjectMapper();

    public BinanceClient(String spotUrl, String futuresUrl, HttpFetcher.Config config) {
        this.spotUrl = BybitClient.stripSlash(Objects.requireNonNull(spotUrl, "spotUrl"));
        this.futuresUrl = BybitClient.stripSlash(Objects.requireNonNull(futuresUrl, "futuresUrl"));
        this.http = new HttpFetcher("Binance", config);
    }

    public BinanceClient() {
        this(DEFAULT_SPOT_URL, DEFAULT_FUTURES_URL, HttpFetcher.Config.defaults());
    }

    public int requests() {
        return http.requests();
    }

    /** This client's klines of one market as a {@link BarSource} (cache key "binance-spot" or "binance-futures"). */
    public BarSource source(Market market) {
        return new BarSource() {
            @Override
            public String cacheKey() {
                return market == Market.SPOT ? "binance-spot" : "binance-futures";
            }

            @Override
            public BarSeries klines(String symbol, Interval interval, long fromMs, long toMs, FetchProgress progress)
                    throws ExchangeException {
                return BinanceClient.this.klines(market, symbol, interval, fromMs, toMs, progress);
            }
        };
    }

    /** Closed bars with open time in [fromMs, toMs), oldest first. */
    public BarSeries klines(Market market, String symbol, Interval interval, long fromMs, long toMs,
                            FetchProgress progress) throws ExchangeException {
        BybitClient.checkRange(fromMs, toMs);
        String path = market == Market.SPOT ? "/api/v3/klines" : "/fapi/v1/klines";
        String base = market == Market.SPOT ? spotUrl : futuresUrl;
        long now = http.config().clock().getAsLong();
        TreeMap<Long, Bar> rows = new TreeMap<>();
        long start = fromMs;
        int pages = 0;
        while (start < toMs) {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("symbol", symbol);
            q.put("interval", interval.binanceName());
            q.put("startTime", Long.toString(start));
            q.put("endTime", Long.toString(toMs - 1));
            q.put("limit", Integer.toString(KLINE_LIMIT));
            JsonNode list = call(base, path, q);
            if (!list.isArray()) {
                throw BybitClient.malformedStatic("Binance", path, "the answer is not a list of klines");
            }
            pages++;
            long newest = Long.MIN_VALUE;
            int r = 0;
            for (JsonNode row : list) {
                r++;
                Bar bar = klineRow(path, row, r);
                newest = Math.max(newest, bar.startMs());
                if (bar.startMs() >= fromMs && bar.startMs() < toMs && interval.next(bar.startMs()) <= now) {
                    rows.put(bar.startMs(), bar);
                }
            }
            progress.page(pages, rows.size(), Math.min(toMs, Math.max(newest, fromMs)) - fromMs, toMs - fromMs);
            if (list.size() < KLINE_LIMIT || newest < start) {
                break;
            }
            start = newest + 1;
        }
        return BarSeries.of(symbol, interval, new ArrayList<>(rows.values()));
    }

    /** Perpetual funding rates with fundingTime in [fromMs, toMs), oldest first. */
    public TimedValues fundingRates(String symbol, long fromMs, long toMs, FetchProgress progress)
            throws ExchangeException {
        BybitClient.checkRange(fromMs, toMs);
        String path = "/fapi/v1/fundingRate";
        TreeMap<Long, Double> rows = new TreeMap<>();
        long start = fromMs;
        int pages = 0;
        while (start < toMs) {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("symbol", symbol);
            q.put("startTime", Long.toString(start));
            q.put("endTime", Long.toString(toMs - 1));
            q.put("limit", Integer.toString(FUNDING_LIMIT));
            JsonNode list = call(futuresUrl, path, q);
            if (!list.isArray()) {
                throw BybitClient.malformedStatic("Binance", path, "the answer is not a list of funding rates");
            }
            pages++;
            long newest = Long.MIN_VALUE;
            int r = 0;
            for (JsonNode row : list) {
                r++;
                long t = BybitClient.parseLong(row.get("fundingTime"), path, r, "fundingTime");
                double f = BybitClient.parseDouble(row.get("fundingRate"), path, r, "fundingRate");
                newest = Math.max(newest, t);
                if (t >= fromMs && t < toMs) {
                    rows.put(t, f);
                }
            }
            progress.page(pages, rows.size(), Math.min(toMs, Math.max(newest, fromMs)) - fromMs, toMs - fromMs);
            if (list.size() < FUNDING_LIMIT || newest < start) {
                break;
            }
            start = newest + 1;
        }
        return BybitClient.timed("funding_rate", rows);
    }

    private JsonNode call(String base, String path, Map<String, String> query) throws ExchangeException {
        URI uri = URI.create(base + path + "?" + BybitClient.encode(query));
        return http.get(uri, response -> handle(path, query, response));
    }

    private HttpFetcher.Outcome<JsonNode> handle(String path, Map<String, String> query, HttpResponse<String> resp) {
        int status = resp.statusCode();
        if (status == 429) {
            // a later request (a retry, or the caller's next one) waits as well: Binance bans an IP that ignores it
            http.pauseUntil(http.config().clock().getAsLong() + BybitClient.retryAfterMs(resp));
            return new HttpFetcher.Outcome.Retry<>(BybitClient.retryAfterMs(resp),
                    "HTTP 429 (request weight over the limit)");
        }
        if (status == 418) {
            long s = BybitClient.retryAfterMs(resp) / 1000;
            // no request of this client starts before the ban ends: asking during it lengthens the ban
            http.pauseUntil(http.config().clock().getAsLong() + BybitClient.retryAfterMs(resp));
            return new HttpFetcher.Outcome.Fail<>(new ExchangeException(ExchangeException.Kind.BLOCKED,
                    "Binance answered HTTP 418: this IP is banned for repeating requests after 429s"
                            + (s > 0 ? " for " + s + " s (Retry-After)" : "") + "; wait before fetching again"));
        }
        JsonNode root;
        try {
            root = json.readTree(resp.body());
        } catch (JsonProcessingException e) {
            if (status != 200) {
                return new HttpFetcher.Outcome.Fail<>(new ExchangeException(ExchangeException.Kind.REJECTED,
                        "Binance answered HTTP " + status + " to " + path));
            }
            return new HttpFetcher.Outcome.Retry<>(0, "a body that is not JSON (" + e.getOriginalMessage() + ")");
        }
        if (status != 200) {
            String detail = root != null && root.has("code")
                    ? ": code " + root.path("code").asText() + " " + root.path("msg").asText() : "";
            return new HttpFetcher.Outcome.Fail<>(new ExchangeException(ExchangeException.Kind.REJECTED,
                    "Binance " + path + " for " + query.get("symbol") + " answered HTTP " + status + detail));
        }
        return new HttpFetcher.Outcome.Done<>(root);
    }

    private static Bar klineRow(String path, JsonNode row, int r) throws ExchangeException {
        if (!row.isArray() || row.size() < 8) {
            throw BybitClient.malformedStatic("Binance", path, "row " + r + " is not a 12-field kline: " + row);
        }
        long t = BybitClient.parseLong(row.get(0), path, r, "openTime");
        double o = BybitClient.parseDouble(row.get(1), path, r, "open");
        double h = BybitClient.parseDouble(row.get(2), path, r, "high");
        double l = BybitClient.parseDouble(row.get(3), path, r, "low");
        double c = BybitClient.parseDouble(row.get(4), path, r, "close");
        double v = BybitClient.parseDouble(row.get(5), path, r, "volume");
        double q = BybitClient.parseDouble(row.get(7), path, r, "quoteVolume");
        Bar.Violation bad = Bar.check(o, h, l, c, v, q);
        if (bad != null) {
            throw BybitClient.malformedStatic("Binance", path, "row " + r + " (open time " + t + "): "
                    + bad.message());
        }
        return new Bar(t, o, h, l, c, v, q);
    }
}
