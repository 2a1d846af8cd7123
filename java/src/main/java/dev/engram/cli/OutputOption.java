package dev.engram.cli;

import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --out}, the folder a command writes into; the default is the command's. */
final class OutputOption {
    @Option(names = "--out", paramLabel = "DIR", description = "output folder (default: ${DEFAULT-VALUE})")
    Path out;

    OutputOption() {
    }

    OutputOption(String defaultFolder) {
        this.out = Path.of(defaultFolder);
    }
}
