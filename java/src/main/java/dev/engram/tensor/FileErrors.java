package dev.engram.tensor;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The one place where I/O failures become messages a user can act on: the file, the problem and what to do
 * ("cannot read x.npy: it does not exist; check the path (relative paths start at /home/me)"). The JDK's own messages
 * often carry only a file name ({@code NoSuchFileException}) or only a reason ("Is a directory").
 *
 * <p>Exceptions that already explain themselves (a {@link FileAccessException}, a format error such as
 * {@link NpyFormatException}) pass through unchanged; only plain {@link IOException}s and
 * {@link FileSystemException}s are translated.
 */
public final class FileErrors {
    private FileErrors() {
    }

    /** A failure reading {@code file}, explained. */
    public static IOException reading(Path file, IOException e) {
        return explain("read", file, e, false);
    }

    /** A failure writing {@code file} (or creating its folder), explained. */
    public static IOException writing(Path file, IOException e) {
        return explain("write", file, e, true);
    }

    /**
     * A failure the caller has explained itself: "cannot {action} {file}: {problem}; {remedy}".
     *
     * @param action "read" or "write"
     */
    public static FileAccessException of(String action, Path file, String problem, String remedy, Throwable cause) {
        return new FileAccessException(action, file, problem, remedy, cause);
    }

    /**
     * A failure explained when the file is only known from the exception ({@link FileSystemException#getFile()}),
     * for callers that did not translate at the boundary. The result is a one-line message.
     */
    public static String describe(IOException e) {
        if (!isRaw(e)) {
            return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        }
        if (e instanceof FileSystemException fse && fse.getFile() != null) {
            return explain("use", Path.of(fse.getFile()), e, false).getMessage();
        }
        String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return "I/O error: " + reason + "; check the files and folders named on the command line";
    }

    /** True for exceptions without a message of their own that a user can act on. */
    private static boolean isRaw(IOException e) {
        return e instanceof FileSystemException || e.getClass() == IOException.class
                || e.getClass() == java.io.FileNotFoundException.class || e.getClass() == java.io.EOFException.class;
    }

    private static IOException explain(String action, Path file, IOException e, boolean writing) {
        if (!isRaw(e)) {
            return e;
        }
        String reason = reason(e);
        String lower = reason.toLowerCase(Locale.ROOT);
        Path notFolder = fileAmongAncestors(file, writing);
        String problem;
        String remedy;
        if (notFolder != null) {
            problem = notFolder + " is a file, not a folder";
            remedy = "remove or rename " + notFolder + ", or choose another path";
        } else if (e instanceof NoSuchFileException) {
            problem = writing ? "its folder does not exist" : "it does not exist";
            remedy = "check the path (relative paths start at " + Path.of("").toAbsolutePath() + ")";
        } else if (e instanceof AccessDeniedException || lower.contains("permission denied")
                || lower.contains("operation not permitted")) {
            problem = "permission denied";
            remedy = writing ? "make the folder writable or choose another path" : "make the file readable or choose another";
        } else if (lower.contains("is a directory") || (!writing && Files.isDirectory(file))) {
            problem = "it is a folder, not a file";
            remedy = "name a file inside it";
        } else if (e instanceof DirectoryNotEmptyException) {
            problem = "a non-empty folder is in the way";
            remedy = "remove it or choose another path";
        } else if (e instanceof NotDirectoryException || lower.contains("not a directory")) {
            problem = "a part of the path is not a folder";
            remedy = "check the path";
        } else if (lower.contains("no space left")) {
            problem = "the disk is full";
            remedy = "free some space or write somewhere else";
        } else if (lower.contains("file too large")) {
            problem = "the file size limit was reached (ulimit -f, or the file system's largest file)";
            remedy = "raise the limit or write somewhere else";
        } else if (lower.contains("read-only file system")) {
            problem = "the file system is read-only";
            remedy = "choose a writable place";
        } else if (lower.contains("disk quota")) {
            problem = "the disk quota is used up";
            remedy = "free some space or write somewhere else";
        } else {
            problem = reason;
            remedy = "check the path and the disk";
        }
        return new FileAccessException(action, file, problem, remedy, e);
    }

    private static String reason(IOException e) {
        if (e instanceof FileSystemException fse) {
            if (fse.getReason() != null) {
                return fse.getReason();
            }
            return fse.getClass().getSimpleName().replace("Exception", "");
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }

    /**
     * For a write: the first existing non-folder among {@code file}'s parents (or the target itself when the failure
     * was creating it as a folder); for a read: among its parents only. Null when there is none.
     */
    private static Path fileAmongAncestors(Path file, boolean writing) {
        Path abs = file.toAbsolutePath().normalize();
        Path p = writing ? abs : abs.getParent();
        Path found = null;
        for (; p != null; p = p.getParent()) {
            if (Files.exists(p) && !Files.isDirectory(p)) {
                found = p;
            }
        }
        if (found != null && found.equals(abs) && writing) {
            return null; // the target itself is a file: that is what a write replaces
        }
        return found;
    }
}
