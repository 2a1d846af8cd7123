package dev.engram.tensor;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A file could not be read or written; the message names the file, the problem and what to do (built by
 * {@link FileErrors}). The original exception is the cause.
 */
public final class FileAccessException extends IOException {
    private final transient Path file;
    private final String problem;
    private final String remedy;

    FileAccessException(String action, Path file, String problem, String remedy, Throwable cause) {
        super("cannot " + action + " " + file + ": " + problem + "; " + remedy, cause);
        this.file = file;
        this.problem = problem;
        this.remedy = remedy;
    }

    /** The file named in the message. */
    public Path file() {
        return file;
    }

    /** What went wrong, e.g. "the disk is full". */
    public String problem() {
        return problem;
    }

    /** What to do about it. */
    public String remedy() {
        return remedy;
    }
}
