package dev.engram.tensor;

import java.io.IOException;
import java.nio.file.Path;

/** A {@code .npy} file that cannot be read as asked; the message names the file and the problem. */
public final class NpyFormatException extends IOException {
    private final transient Path file;

    public NpyFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
