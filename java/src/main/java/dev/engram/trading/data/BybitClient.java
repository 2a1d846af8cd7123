package dev.engram.trading.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.TreeMap;

/**
 * Bybit v5 market data (public endpoints, no key):
 * <ul>
 * <li>{@code GET /v5/market/kline}: category spot|linear|inverse, interval 1 … M, start, end, limit ≤ 1000;
 * {@code result.list} rows {@code [startMs, open, high, low, close, volume, turnover]} as strings, newest first.
 * A range is paged backwards: each page asks for [from, end] and the next {@code end} is the oldest start seen − 1;</li>
 * <li>{@code GET /v5/market/funding/history}: linear|inverse only, startTime with endTime (startTime alone is an
 * error), limit ≤ 200, no cursor: paged back with endTime; rows {@code {symbol, fundingRate, fundingRateTimestamp}};</li>
 * <li>{@code GET /v5/market/open-interest}: intervalTime 5min … 1d, limit ≤ 200, paged with
 * {@code cursor}/{@code nextPageCursor}; rows {@code {openInterest, timestamp}}.</li>
 * </ul>
 * Pages overlap harmlessly (rows are keyed by time; a later page's row replaces an earlier one). Only closed bars are
 * returned (start + interval ≤ now: the newest row is the bar in progress). {@code retCode ≠ 0} is an error carrying
 * {@code retMsg}, except 10006 (the per-endpoint rate limit), which waits until {@code X-Bapi-Limit-Reset-Timestamp}
 * and retries. HTTP 403 means the IP exceeded 600 requests per 5 s: fetching stops with a message to wait at least
 * 10 minutes. When {@code X-Bapi-Limit-Status} reaches 0 the next request waits for the reset.
 */
public final class BybitClient {
    public static final String DEFAULT_BASE_URL = "https://api.bybit.com";
    private static final int KLINE_LIMIT = 1000;
    private static final int FUNDING_LIMIT = 200;
    private static final int OI_LIMIT = 200;

    private final String baseUrl;
    private final HttpFetcher http;
    private final ObjectMapper json = new ObjectMapper();

    public BybitClient(String baseUrl, HttpFetcher.Config config) {
        this.baseUrl = stripSlash(Objects.requireNonNull(baseUrl, "baseUrl"));
        this.http = new HttpFetcher("Bybit", config);
    }

    public BybitClient() {
        this(DEFAULT_BASE_URL, HttpFetcher.Config.defaults());
    }

    /** This client's klines of one category as a {@link BarSource} (cache key "bybit-CATEGORY"). */
    public BarSource source(String category) {
        checkCategory(category, false);
        return new BarSource() {
            @Override
            public String cacheKey() {
                return "bybit-" + category;
            }

            @Override
            public BarSeries klines(String symbol, Interval interval, long fromMs, long toMs, FetchProgress progress)
                    throws ExchangeException {
                return BybitClient.this.klines(category, symbol, interval, fromMs, toMs, progress);
            }
        };
    }

    /** Requests sent so far, retries included. */
    public int requests() {
        return http.requests();
    }

    /**
     * Closed bars with start in [fromMs, toMs), oldest first; gaps are left as they are ({@link BarSeries#gaps()}).
     *
     * @param category spot, linear or inverse
     */
    public BarSeries klines(String category, String symbol, Interval interval, long fromMs, long toMs,
                            FetchProgress progress) throws ExchangeException {
        checkCategory(category, false);
        checkRange(fromMs, toMs);
        long now = http.config().clock().getAsLong();
        TreeMap<Long, Bar> rows = new TreeMap<>();
        long end = toMs - 1;
        int pages = 0;
        while (end >= fromMs) {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("category", category);
            q.put("symbol", symbol);
            q.put("interval", interval.bybitName());
            q.put("start", Long.toString(fromMs));
            q.put("end", Long.toString(end));
            q.put("limit", Integer.toString(KLINE_LIMIT));
            JsonNode list = call("/v5/market/kline", q).path("list");
            if (!list.isArray()) {
                throw malformed("/v5/market/kline", "result.list is missing");
            }
            pages++;
            long oldest = Long.MAX_VALUE;
            int r = 0;
            for (JsonNode row : list) {
                r++;
                Bar bar = klineRow(row, r);
                oldest = Math.min(oldest, bar.startMs());
                if (bar.startMs() >= fromMs && bar.startMs() < toMs && interval.next(bar.startMs()) <= now) {
                    rows.put(bar.startMs(), bar);
                }
            }
            progress.page(pages, rows.size(), toMs - Math.max(fromMs, Math.min(oldest, toMs)), toMs - fromMs);
            if (list.size() < KLINE_LIMIT || oldest <= fromMs || oldest > end) {
                break;
            }
            end = oldest - 1;
        }
        return BarSeries.of(symbol, interval, new ArrayList<>(rows.values()));
    }

    /** Funding rates with fundingRateTimestamp in [fromMs, toMs), oldest first; category linear or inverse. */
    public TimedValues fundingHistory(String category, String symbol, long fromMs, long toMs, FetchProgress progress)
            throws ExchangeException {
        checkCategory(category, true);
        checkRange(fromMs, toMs);
        TreeMap<Long, Double> rows = new TreeMap<>();
        long end = toMs - 1;
        int pages = 0;
        while (end >= fromMs) {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("category", category);
            q.put("symbol", symbol);
            q.put("startTime", Long.toString(fromMs));
            q.put("endTime", Long.toString(end));
            q.put("limit", Integer.toString(FUNDING_LIMIT));
            JsonNode list = call("/v5/market/funding/history", q).path("list");
            pages++;
            long oldest = readTimedRows(list, "/v5/market/funding/history", "fundingRateTimestamp", "fundingRate",
                    fromMs, toMs, rows);
            progress.page(pages, rows.size(), toMs - Math.max(fromMs, Math.min(oldest, toMs)), toMs - fromMs);
            if (list.size() < FUNDING_LIMIT || oldest <= fromMs || oldest > end) {
                break;
            }
            end = oldest - 1;
        }
        return timed("funding_rate", rows);
    }

    /**
     * Open interest with timestamp in [fromMs, toMs), oldest first; category linear or inverse.
     *
     * @param interval 5, 15, 30 minutes, 1 h, 4 h or 1 d
     */
    public TimedValues openInterest(String category, String symbol, Interval interval, long fromMs, long toMs,
                                    FetchProgress progress) throws ExchangeException {
        checkCategory(category, true);
        checkRange(fromMs, toMs);
        String intervalTime = switch (interval) {
            case M5 -> "5min";
            case M15 -> "15min";
            case M30 -> "30min";
            case H1 -> "1h";
            case H4 -> "4h";
            case D1 -> "1d";
            default -> throw new IllegalArgumentException("Bybit open interest has intervals 5, 15, 30, 60, 240 "
                    + "and D, not " + interval);
        };
        TreeMap<Long, Double> rows = new TreeMap<>();
        String cursor = "";
        int pages = 0;
        do {
            Map<String, String> q = new LinkedHashMap<>();
            q.put("category", category);
            q.put("symbol", symbol);
            q.put("intervalTime", intervalTime);
            q.put("startTime", Long.toString(fromMs));
            q.put("endTime", Long.toString(toMs - 1));
            q.put("limit", Integer.toString(OI_LIMIT));
            if (!cursor.isEmpty()) {
                q.put("cursor", cursor);
            }
            JsonNode result = call("/v5/market/open-interest", q);
            JsonNode list = result.path("list");
            pages++;
            long oldest = readTimedRows(list, "/v5/market/open-interest", "timestamp", "openInterest", fromMs, toMs,
                    rows);
            progress.page(pages, rows.size(), toMs - Math.max(fromMs, Math.min(oldest, toMs)), toMs - fromMs);
            String next = result.path("nextPageCursor").asText("");
            if (list.isEmpty() || next.equals(cursor)) {
                break;
            }
            cursor = next;
        } while (!cursor.isEmpty());
        return timed("open_interest", rows);
    }

    /**
     * Puts the rows of one page of {@code {timeField, valueField}} objects whose time lies in [fromMs, toMs) into
     * {@code rows}; returns the page's oldest time (Long.MAX_VALUE for an empty page).
     */
    private long readTimedRows(JsonNode list, String path, String timeField, String valueField, long fromMs,
                               long toMs, TreeMap<Long, Double> rows) throws ExchangeException {
        if (!list.isArray()) {
            throw malformed(path, "result.list is missing");
        }
        long oldest = Long.MAX_VALUE;
        int r = 0;
        for (JsonNode row : list) {
            r++;
            long t = longField(row, timeField, path, r);
            double value = doubleField(row, valueField, path, r);
            oldest = Math.min(oldest, t);
            if (t >= fromMs && t < toMs) {
                rows.put(t, value);
            }
        }
        return oldest;
    }

    /** GET path?query; returns {@code result} of a retCode-0 answer. */
    private JsonNode call(String path, Map<String, String> query) throws ExchangeException {
        URI uri = URI.create(baseUrl + path + "?" + encode(query));
        return http.get(uri, response -> handle(path, query, response));
    }

    private HttpFetcher.Outcome<JsonNode> handle(String path, Map<String, String> query, HttpResponse<String> resp) {
        int status = resp.statusCode();
        if (status == 403) {
            return new HttpFetcher.Outcome.Fail<>(new ExchangeException(ExchangeException.Kind.BLOCKED,
                    "Bybit answered HTTP 403 (access too frequent): this IP went over 600 requests per 5 s and is "
                            + "blocked; wait at least 10 minutes before fetching again"));
        }
        if (status == 429) {
            return new HttpFetcher.Outcome.Retry<>(retryAfterMs(resp), "HTTP 429 (too many requests)");
        }
        JsonNode root;
        try {
            root = json.readTree(resp.body());
        } catch (JsonProcessingException e) {
            // a cut-off or garbled body: the next attempt usually gets a whole one
            return new HttpFetcher.Outcome.Retry<>(0, "HTTP " + status + " with a body that is not JSON ("
                    + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.has("retCode")) {
            if (status != 200) {
                return new HttpFetcher.Outcome.Fail<>(new ExchangeException(ExchangeException.Kind.REJECTED,
                        "Bybit answered HTTP " + status + " to " + path));
            }
            return new HttpFetcher.Outcome.Fail<>(malformed(path, "the answer has no retCode"));
        }
        int code = root.path("retCode").asInt(-1);
        String msg = root.path("retMsg").asText("");
        if (code == 10006) {
            long wait = resetWaitMs(resp);
            return new HttpFetcher.Outcome.Retry<>(wait, "retCode 10006 (" + msg + ")");
        }
        if (code != 0) {
            return new HttpFetcher.Outcome.Fail<>(new ExchangeException(ExchangeException.Kind.REJECTED,
                    "Bybit " + path + " for " + query.get("symbol") + ": retCode " + code + " " + msg));
        }
        if (status != 200) {
            return new HttpFetcher.Outcome.Fail<>(new ExchangeException(ExchangeException.Kind.REJECTED,
                    "Bybit answered HTTP " + status + " to " + path));
        }
        OptionalLong remaining = header(resp, "X-Bapi-Limit-Status");
        OptionalLong reset = header(resp, "X-Bapi-Limit-Reset-Timestamp");
        if (remaining.isPresent() && remaining.getAsLong() <= 0 && reset.isPresent()) {
            http.pauseUntil(reset.getAsLong());
        }
        JsonNode result = root.path("result");
        return new HttpFetcher.Outcome.Done<>(result);
    }

    private long resetWaitMs(HttpResponse<String> resp) {
        OptionalLong reset = header(resp, "X-Bapi-Limit-Reset-Timestamp");
        if (reset.isEmpty()) {
            return 0;
        }
        return Math.max(0, reset.getAsLong() - http.config().clock().getAsLong());
    }

    static long retryAfterMs(HttpResponse<String> resp) {
        OptionalLong s = header(resp, "Retry-After");
        return s.isPresent() ? s.getAsLong() * 1000 : 0;
    }

    static OptionalLong header(HttpResponse<String> resp, String name) {
        var v = resp.headers().firstValue(name);
        if (v.isEmpty()) {
            return OptionalLong.empty();
        }
        try {
            return OptionalLong.of(Long.parseLong(v.get().trim()));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    private Bar klineRow(JsonNode row, int r) throws ExchangeException {
        String path = "/v5/market/kline";
        if (!row.isArray() || row.size() < 6) {
            throw malformed(path, "row " + r + " is not [startMs, open, high, low, close, volume, turnover]: " + row);
        }
        long t = parseLong(row.get(0), path, r, "startMs");
        double o = parseDouble(row.get(1), path, r, "open");
        double h = parseDouble(row.get(2), path, r, "high");
        double l = parseDouble(row.get(3), path, r, "low");
        double c = parseDouble(row.get(4), path, r, "close");
        double v = parseDouble(row.get(5), path, r, "volume");
        double to = row.size() > 6 ? parseDouble(row.get(6), path, r, "turnover") : Double.NaN;
        Bar.Violation bad = Bar.check(o, h, l, c, v, to);
        if (bad != null) {
            throw malformed(path, "row " + r + " (start " + t + "): " + bad.message());
        }
        return new Bar(t, o, h, l, c, v, to);
    }

    static long parseLong(JsonNode n, String path, int r, String field) throws ExchangeException {
        String s = n == null ? "null" : n.asText();
        try {
            return Long.parseLong(s.trim());
        } catch (NumberFormatException e) {
            throw malformedStatic(exchangeOf(path), path, "row " + r + ": " + field + " '" + s + "' is not an integer");
        }
    }

    static double parseDouble(JsonNode n, String path, int r, String field) throws ExchangeException {
        String s = n == null ? "null" : n.asText();
        try {
            double d = Double.parseDouble(s.trim());
            if (Double.isFinite(d)) {
                return d;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw malformedStatic(exchangeOf(path), path, "row " + r + ": " + field + " '" + s + "' is not a number");
    }

    private static String exchangeOf(String path) {
        return path.startsWith("/v5/") ? "Bybit" : "Binance";
    }

    private static long longField(JsonNode row, String f, String path, int r) throws ExchangeException {
        return parseLong(row.get(f), path, r, f);
    }

    private static double doubleField(JsonNode row, String f, String path, int r) throws ExchangeException {
        return parseDouble(row.get(f), path, r, f);
    }

    private ExchangeException malformed(String path, String what) {
        return malformedStatic("Bybit", path, what);
    }

    static ExchangeException malformedStatic(String exchange, String path, String what) {
        return new ExchangeException(ExchangeException.Kind.MALFORMED, exchange + " " + path
                + " sent an unexpected answer: " + what);
    }

    static TimedValues timed(String name, TreeMap<Long, Double> rows) {
        long[] t = new long[rows.size()];
        double[] v = new double[rows.size()];
        int i = 0;
        for (Map.Entry<Long, Double> e : rows.entrySet()) {
            t[i] = e.getKey();
            v[i++] = e.getValue();
        }
        return new TimedValues(name, t, v);
    }

    static String encode(Map<String, String> q) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> e : q.entrySet()) {
            if (!b.isEmpty()) {
                b.append('&');
            }
            b.append(e.getKey()).append('=').append(URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8));
        }
        return b.toString();
    }

    static String stripSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    static void checkRange(long fromMs, long toMs) {
        if (fromMs >= toMs) {
            throw new IllegalArgumentException("the range is empty: from " + fromMs + " is not before to " + toMs);
        }
    }

    private static void checkCategory(String category, boolean derivativesOnly) {
        String c = category == null ? "" : category.toLowerCase(Locale.ROOT);
        boolean ok = derivativesOnly ? c.equals("linear") || c.equals("inverse")
                : c.equals("spot") || c.equals("linear") || c.equals("inverse");
        if (!ok || !c.equals(category)) {
            throw new IllegalArgumentException("category '" + category + "' is not one of "
                    + (derivativesOnly ? "linear, inverse (funding and open interest exist for derivatives only)"
                    : "spot, linear, inverse"));
        }
    }
}
