package dev.engram.tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * Files that belong together (the results of one run), written so that a failure part-way leaves the folder as it
 * was: every file is first written into a staging folder beside the target folder ({@code .<name>.<random>.staging}),
 * and only when all are written are they moved in, by renames within one file system (which need no space). A
 * failure while writing names the file and the reason, and removes the staging folder.
 *
 * <pre>{@code
 * try (FileSet set = FileSet.in(out)) {
 *     set.write("output.npy", tmp -> Npy.write(tmp, data, b, d));
 *     set.write("entropy.npy", tmp -> Npy.write(tmp, entropy, b));
 *     set.commit();
 * }
 * }</pre>
 */
public final class FileSet implements AutoCloseable {
    private final Path folder;
    private final Path staging;
    private final List<String> names = new ArrayList<>();
    private boolean committed;

    private FileSet(Path folder, Path staging) {
        this.folder = folder;
        this.staging = staging;
    }

    /** Starts a set of files for {@code folder} (created if missing); nothing in it changes before {@link #commit}. */
    public static FileSet in(Path folder) throws IOException {
        Path abs = folder.toAbsolutePath().normalize();
        if (Files.exists(abs) && !Files.isDirectory(abs)) {
            throw FileErrors.of("write", folder, "it is a file, and an output folder is needed there",
                    "name a folder (new or existing), or move the file away", null);
        }
        try {
            Files.createDirectories(abs);
        } catch (IOException e) {
            throw FileErrors.writing(folder, e);
        }
        Path parent = abs.getParent() == null ? abs : abs.getParent();
        for (int attempt = 0; ; attempt++) {
            Path staging = parent.resolve("." + abs.getFileName() + "." + Long.toUnsignedString(
                    ThreadLocalRandom.current().nextLong(), 36) + ".staging");
            try {
                return new FileSet(folder, Files.createDirectory(staging));
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 100) {
                    throw e;
                }
            } catch (IOException e) {
                throw FileErrors.writing(staging, e);
            }
        }
    }

    /**
     * Writes file {@code name} of the set: {@code content} writes the path it is given (in the staging folder).
     *
     * @throws FileAccessException naming {@code name} in the target folder, the problem and what to do, and saying
     *                             that the folder was left unchanged
     */
    public void write(String name, AtomicFiles.Content content) throws IOException {
        if (committed) {
            throw new IllegalStateException("the file set for " + folder + " was already committed");
        }
        Path target = folder.resolve(name);
        try {
            content.writeTo(staging.resolve(name));
        } catch (IOException e) {
            IOException cause = e instanceof FileAccessException f && f.getCause() instanceof IOException raw ? raw : e;
            IOException explained = FileErrors.writing(target, cause);
            if (explained instanceof FileAccessException f) {
                throw new FileAccessException("write", target, f.problem(), f.remedy() + "; nothing in " + folder
                        + " was changed", cause);
            }
            throw explained;
        }
        names.add(name);
    }

    /** Moves every written file into the folder, replacing files of the same name. */
    public void commit() throws IOException {
        for (String name : names) { // the renames below cannot fail for space; a folder in the way would fail one
            Path target = folder.resolve(name);
            if (Files.isDirectory(target)) {
                throw new FileAccessException("write", target, "a folder of that name is in the way",
                        "remove or rename it; nothing in " + folder + " was changed", null);
            }
        }
        for (String name : names) {
            Path target = folder.resolve(name);
            try {
                AtomicFiles.move(staging.resolve(name), target);
            } catch (IOException e) {
                throw FileErrors.writing(target, e);
            }
        }
        committed = true;
    }

    /** Removes the staging folder and whatever is still in it. */
    @Override
    public void close() throws IOException {
        if (Files.notExists(staging)) {
            return;
        }
        try (Stream<Path> left = Files.list(staging)) {
            for (Path p : (Iterable<Path>) left::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        Files.deleteIfExists(staging);
    }
}
