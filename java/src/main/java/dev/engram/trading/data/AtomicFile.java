package dev.engram.trading.data;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Replaces a file only by an atomic move: the content goes to a new temporary file in the same folder (created with
 * CREATE_NEW, so two writers never share one), which is then moved over the target with ATOMIC_MOVE. Readers see the
 * old file or the new one, never a mix; a crash leaves the old file intact (and at worst a {@code .tmp-} file beside
 * it, which {@link #write} removes when it fails itself).
 * <p>
 * Unlike {@code dev.engram.tensor.AtomicFiles}, which falls back to a plain move where the file system refuses an
 * atomic one, this fails instead: the cache's promise (the old file or the new one, never a mix) depends on it.
 */
public final class AtomicFile {
    private AtomicFile() {
    }

    /** Writes the content that {@code body} produces to {@code target}, atomically. */
    public static void write(Path target, Body body) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve(abs.getFileName() + ".tmp-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        boolean moved = false;
        try {
            try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                body.writeTo(out);
            }
            Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Writes a file's content. */
    @FunctionalInterface
    public interface Body {
        void writeTo(OutputStream out) throws IOException;
    }
}
