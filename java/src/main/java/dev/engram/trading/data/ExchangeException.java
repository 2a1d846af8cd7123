package dev.engram.trading.data;

import java.io.IOException;

/**
 * A fetch from an exchange failed for good (after any retries): the message is one line that says what happened and
 * what to do.
 */
public final class ExchangeException extends IOException {
    /** Why a fetch failed. */
    public enum Kind {
        /** The exchange rejected the request (unknown symbol, bad parameter): {@code retCode}/{@code code} and message. */
        REJECTED,
        /** The IP is blocked or banned (Bybit 403, Binance 418): stop and wait. */
        BLOCKED,
        /** The host could not be reached (DNS, refused connection). */
        UNREACHABLE,
        /** A response that is not what the API documents (a malformed number, a missing field). */
        MALFORMED,
        /** Transient failures (5xx, timeouts, rate limits, truncated bodies) outlasted the retries. */
        RETRIES_EXHAUSTED
    }

    private final Kind kind;

    public ExchangeException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public ExchangeException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
