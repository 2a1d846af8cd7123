package dev.engram.cli;

import picocli.CommandLine.Option;

/** {@code --seed}, shared by every command that draws random numbers; the default is the command's. */
final class SeedOption {
    @Option(names = "--seed", paramLabel = "SEED",
            description = "seed of every random draw: the same seed gives the same bits (default: ${DEFAULT-VALUE})")
    long seed;

    SeedOption() {
    }

    SeedOption(long defaultSeed) {
        this.seed = defaultSeed;
    }
}
