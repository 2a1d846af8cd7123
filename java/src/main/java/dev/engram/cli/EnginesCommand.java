package dev.engram.cli;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import picocli.CommandLine.Command;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

/** {@code engram engines}: every engine, what it can do, whether it runs here, and what {@code auto} picks. */
@Command(name = "engines", mixinStandardHelpOptions = true,
        description = {"Lists the engines, their capabilities, whether each runs here (and why not), and auto's choices.",
                "Example: engram engines"})
final class EnginesCommand implements Callable<Integer> {

    @Override
    public Integer call() {
        System.out.printf(Locale.ROOT, "%-10s %-34s %s%n", "engine", "capabilities", "here");
        for (String name : Backends.NAMES) {
            if (name.equals("auto")) {
                continue;
            }
            Set<Capability> caps = Backends.capabilities(name);
            String why = Backends.unavailableReason(name);
            System.out.printf(Locale.ROOT, "%-10s %-34s %s%n", name,
                    caps.stream().map(Capability::label).collect(Collectors.joining(", ")),
                    why == null ? "available" : "unavailable: " + why);
        }
        for (Capability c : EnumSet.allOf(Capability.class)) {
            Backend b = Backends.select(c, "auto");
            System.out.printf(Locale.ROOT, "auto for %s: %s%n", c.label(), b.name());
        }
        return 0;
    }
}
