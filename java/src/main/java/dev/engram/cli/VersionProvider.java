package dev.engram.cli;

import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import picocli.CommandLine.IVersionProvider;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;

/** {@code engram --version}: the version, the JDK, and the engines that run here (with auto's choice per capability). */
final class VersionProvider implements IVersionProvider {
    static final String VERSION = "0.1.0";

    @Override
    public String[] getVersion() {
        List<String> here = new ArrayList<>();
        List<String> not = new ArrayList<>();
        for (String name : Backends.NAMES) {
            if (name.equals("auto")) {
                continue;
            }
            (Backends.unavailableReason(name) == null ? here : not).add(name);
        }
        StringBuilder auto = new StringBuilder();
        for (Capability c : EnumSet.allOf(Capability.class)) {
            if (!auto.isEmpty()) {
                auto.append(", ");
            }
            String pick;
            try {
                pick = Backends.select(c, "auto").name();
            } catch (RuntimeException e) {
                pick = "none";
            }
            auto.append(c.label()).append(' ').append(pick);
        }
        return new String[] {
                "engram " + VERSION,
                String.format(Locale.ROOT, "JDK %s (%s)", Runtime.version(), System.getProperty("java.vm.name")),
                "engines here: " + String.join(", ", here) + (!not.isEmpty() ? "; not here: " + String.join(", ", not)
                        + " (engram engines says why)" : ""),
                "auto picks: " + auto};
    }
}
