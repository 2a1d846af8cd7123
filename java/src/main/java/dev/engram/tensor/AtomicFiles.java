package dev.engram.tensor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.io.BufferedOutputStream;
import java.io.OutputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes that never leave a half-written file behind: write a temporary file beside the target, then move it.
 *
 * <p>Temporary files are created with a name of our own and {@code CREATE_NEW} and no explicit permissions, so the
 * process umask applies and the result gets the same mode as a plain {@code Files.write} (unlike
 * {@code Files.createTempFile}, which always makes 0600).
 */
public final class AtomicFiles {
    private AtomicFiles() {
    }

    /** Writes the content of a file given its (already created, empty) temporary path. */
    @FunctionalInterface
    public interface Content {
        void writeTo(Path tmp) throws IOException;
    }

    /** Writes a file's content to a stream (the stream is closed by the caller). */
    @FunctionalInterface
    public interface StreamContent {
        void writeTo(OutputStream out) throws IOException;
    }

    /**
     * Moves {@code tmp} onto {@code target} atomically: readers see the old file or the new one, never a mix. There
     * is no non-atomic fallback; the temporary is always in the target's folder, where a rename is atomic.
     */
    public static void move(Path tmp, Path target) throws IOException {
        try {
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + target + " cannot replace a file atomically; write to a "
                    + "local folder instead", e);
        }
        forceDirectory(target.toAbsolutePath().getParent());
    }

    /**
     * Forces a folder's entries to disk, so a rename into it survives a power cut; file systems (and platforms) that
     * refuse to open or force a folder are left as they are.
     */
    public static void forceDirectory(Path dir) {
        if (dir == null) {
            return;
        }
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            // e.g. Windows cannot open a folder as a channel: the rename stands, only its durability is the OS's
        }
    }

    /**
     * Creates an empty file {@code .<name>.<random>.tmp} in {@code target}'s folder (creating the folder if needed),
     * with the permissions the umask gives a new file.
     */
    public static Path newTempFile(Path target) throws IOException {
        Path dir = target.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + target.getFileName() + "." + Long.toUnsignedString(
                    ThreadLocalRandom.current().nextLong(), 36) + ".tmp");
            try {
                return Files.createFile(tmp);
            } catch (FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            }
        }
    }

    /**
     * Writes {@code target} through a temporary file in the same folder that {@code content} fills; the temporary is
     * removed whatever happens. Failures are explained by {@link FileErrors#writing}.
     */
    public static void write(Path target, Content content) throws IOException {
        try {
            Path tmp = newTempFile(target);
            try {
                content.writeTo(tmp);
                move(tmp, target);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw FileErrors.writing(target, e);
        }
    }

    /** {@link #write(Path, Content)} with the content written to a buffered stream. */
    public static void writeStream(Path target, StreamContent content) throws IOException {
        write(target, tmp -> {
            try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(tmp))) {
                content.writeTo(out);
            }
        });
    }

    /** Writes {@code text} as UTF-8 to {@code target} through a temporary file in the same folder. */
    public static void writeString(Path target, String text) throws IOException {
        write(target, tmp -> Files.writeString(tmp, text, StandardCharsets.UTF_8));
    }
}
