package dev.engram.engine.ffm;

/**
 * A failure inside libengram that is not the caller's argument (those become {@link IllegalArgumentException}):
 * device out of memory, no device or driver, a CUDA runtime error or kernel fault, or a request the build cannot
 * serve. The message is the library's, naming what was being done.
 */
public final class NativeEngineException extends RuntimeException {
    /** The library's status codes, each with its value in engram.h ({@code engram_status}). */
    public enum Status {
        /** ENGRAM_OK */
        OK(0),
        /** ENGRAM_ERROR_INVALID_ARGUMENT: reported to callers as {@link IllegalArgumentException}. */
        INVALID_ARGUMENT(1),
        /** ENGRAM_ERROR_OUT_OF_MEMORY */
        OUT_OF_MEMORY(2),
        /** ENGRAM_ERROR_NO_DEVICE */
        NO_DEVICE(3),
        /** ENGRAM_ERROR_DEVICE */
        DEVICE(4),
        /** ENGRAM_ERROR_UNSUPPORTED */
        UNSUPPORTED(5),
        /** A code this binding does not know (a newer library). */
        UNKNOWN(-1);

        /** The engram_status value. */
        final int code;

        Status(int code) {
            this.code = code;
        }

        /** The status with this engram_status value, or UNKNOWN. */
        static Status of(int code) {
            for (Status s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            return UNKNOWN;
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
