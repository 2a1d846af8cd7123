package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;

import java.util.List;
import java.util.Locale;

/** Chooses an engine by name, in one place, and says which and why in one log line. */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("dev.engram.engine");

    /** Names accepted by {@link #select(String)}. */
    public static final List<String> NAMES = List.of("auto", "reference", "cpu");

    private Backends() {
    }

    /**
     * The engine called {@code name}: "reference" (plain Java, the oracle), "cpu" (Vector API, all cores) or "auto"
     * (the fastest available: the CPU engine until a native engine is present).
     */
    public static Backend select(String name) {
        String n = name == null ? "auto" : name.toLowerCase(Locale.ROOT).strip();
        Backend b;
        String why;
        switch (n) {
            case "reference" -> {
                b = new ReferenceBackend();
                why = "requested";
            }
            case "cpu" -> {
                b = CpuBackend.shared();
                why = "requested";
            }
            case "auto" -> {
                b = CpuBackend.shared();
                why = "auto: no native GPU engine in this build, so the CPU engine";
            }
            default -> throw new IllegalArgumentException("unknown backend '" + name + "'; choose one of " + NAMES);
        }
        LOG.log(System.Logger.Level.INFO, "engine " + b.name() + " (" + why + ")" + (b instanceof CpuBackend c ? ": " + c.describe() : ""));
        return b;
    }
}
