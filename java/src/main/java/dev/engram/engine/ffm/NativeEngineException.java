package dev.engram.engine.ffm;

/**
 * A failure inside libengram that is not the caller's argument (those become {@link IllegalArgumentException}):
 * device out of memory, no device or driver, a CUDA runtime error or kernel fault, or a request the build cannot
 * serve. The message is the library's, naming what was being done.
 */
public final class NativeEngineException extends RuntimeException {
    /** The library's status codes (engram.h). */
    public enum Status {
        OK, INVALID_ARGUMENT, OUT_OF_MEMORY, NO_DEVICE, DEVICE, UNSUPPORTED, UNKNOWN;

        static Status of(int code) {
            return code >= 0 && code < UNKNOWN.ordinal() ? values()[code] : UNKNOWN;
        }
    }

    private final Status status;

    public NativeEngineException(Status status, String message) {
        super(message);
        this.status = status;
    }

    public Status status() {
        return status;
    }
}
