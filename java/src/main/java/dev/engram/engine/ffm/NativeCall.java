package dev.engram.engine.ffm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * One call into libengram, the only place that owns its plumbing: a confined arena for the call's arguments and
 * outputs (freed when the call returns), the error buffer the library writes its message into, the invocation, and
 * the status check. A non-OK status becomes {@link IllegalArgumentException} (the caller's argument) or
 * {@link NativeEngineException} (everything else), with the library's message; a failure of the downcall itself
 * (never expected: the handles are bound once with their exact types) becomes {@link IllegalStateException}.
 *
 * <pre>{@code
 * long m = NativeCall.run("engram_memory_create", c -> {
 *     MemorySegment out = c.arena().allocate(ADDRESS);
 *     c.check((int) lib.memoryCreate.invokeExact(d, dv, 1, storage, out, c.err(), c.errCap()));
 *     return out.get(ADDRESS, 0);
 * });
 * }</pre>
 */
final class NativeCall {
    /** Bytes of the error buffer handed to every call (engram.h: messages are truncated to fit). */
    static final int ERR_CAP = 1024;

    private final String what;
    private final Arena arena;
    private final MemorySegment err;

    private NativeCall(String what, Arena arena) {
        this.what = what;
        this.arena = arena;
        this.err = arena.allocate(ERR_CAP);
        err.set(ValueLayout.JAVA_BYTE, 0, (byte) 0);
    }

    /** The body of a call: allocates in {@link #arena()}, invokes, {@link #check}s, reads the outputs. */
    @FunctionalInterface
    interface Body<T> {
        T run(NativeCall call) throws Throwable;
    }

    /** A call that takes no arena or error buffer (sizes, counters, destroy). */
    @FunctionalInterface
    interface Plain<T> {
        T run() throws Throwable;
    }

    /**
     * Runs {@code body} with a fresh arena and error buffer, both freed on return.
     *
     * @param what the C function called, for messages
     */
    static <T> T run(String what, Body<T> body) {
        try (Arena arena = Arena.ofConfined()) {
            return body.run(new NativeCall(what, arena));
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling " + what + " failed: " + t, t);
        }
    }

    /** Runs a call that cannot report a status (no arena, no error buffer). */
    static <T> T plain(String what, Plain<T> body) {
        try {
            return body.run();
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("calling " + what + " failed: " + t, t);
        }
    }

    /** Allocations for this call's arguments and outputs; valid until the call returns. */
    Arena arena() {
        return arena;
    }

    /** The error buffer to pass as {@code err}. */
    MemorySegment err() {
        return err;
    }

    /** Its capacity, to pass as {@code err_cap}. */
    long errCap() {
        return ERR_CAP;
    }

    /** Throws for a non-OK status: what failed, the status and the library's message. */
    void check(int status) {
        NativeEngineException.Status s = NativeEngineException.Status.of(status);
        if (s == NativeEngineException.Status.OK) {
            return;
        }
        String msg = err.getString(0);
        if (s == NativeEngineException.Status.INVALID_ARGUMENT) {
            throw new IllegalArgumentException(what + ": " + msg);
        }
        throw new NativeEngineException(s, what + " failed (" + s + "): " + msg);
    }
}
