package dev.engram.hnn;

import java.io.IOException;
import java.nio.file.Path;

/** A model file that cannot be loaded; the message names the file and the problem. */
public final class ModelFormatException extends IOException {
    private final transient Path file;

    public ModelFormatException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The offending file. */
    public Path file() {
        return file;
    }
}
