package dev.engram.cli;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Checks a result folder before any work is done, so a bad {@code --out} fails at once and not after a long run.
 * Nothing is created here (a run that fails later leaves no empty folder); the writers create the folder.
 */
final class OutputFolder {
    private OutputFolder() {
    }

    /**
     * Checks that {@code folder} is a folder, or can be created as one: its nearest existing ancestor is a writable
     * folder.
     *
     * @param option the command-line option that named it, for the message
     * @throws IllegalArgumentException naming the option, the path, the problem and what to do
     */
    static Path check(String option, Path folder) {
        if (Files.exists(folder) && !Files.isDirectory(folder)) {
            throw new IllegalArgumentException(option + " " + folder + " is an existing file, not a folder; give a "
                    + "folder (it is created if missing) or move the file away");
        }
        Path p = folder.toAbsolutePath().normalize();
        while (p != null && !Files.exists(p)) {
            p = p.getParent();
        }
        if (p == null) {
            return folder;
        }
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException(option + " " + folder + " cannot be created: " + p + " is a file, not a "
                    + "folder; remove or rename it, or choose another path");
        }
        if (!Files.isWritable(p)) {
            throw new IllegalArgumentException(option + " " + folder + (p.equals(folder.toAbsolutePath().normalize())
                    ? " is not writable" : " cannot be created: " + p + " is not writable")
                    + "; fix the permissions or choose another folder");
        }
        return folder;
    }
}
