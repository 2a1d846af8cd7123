package dev.engram.cli;

import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * {@code --quick | --full}: the size of a benchmark run. Quick (the default) takes minutes and covers the headline
 * cases; full covers the whole grid the README's figures come from. Options that name cases explicitly win over
 * either tier.
 */
final class TierOption {
    @ArgGroup(exclusive = true)
    Choice choice;

    static final class Choice {
        @Option(names = "--quick", description = "the quick tier (default): minutes, the headline cases")
        boolean quick;

        @Option(names = "--full", description = "the full tier: the whole grid (an hour or more on 2 cores)")
        boolean full;
    }

    boolean full() {
        return choice != null && choice.full;
    }

    String name() {
        return full() ? "full" : "quick";
    }
}
