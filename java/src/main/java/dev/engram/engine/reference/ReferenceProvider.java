package dev.engram.engine.reference;

import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.engine.EngineProvider;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/** The reference engine for {@link dev.engram.engine.Backends}: always available, every capability. */
public final class ReferenceProvider implements EngineProvider {
    private static final ReferenceBackend SHARED = new ReferenceBackend();

    @Override
    public List<String> names() {
        return List.of("reference");
    }

    @Override
    public Set<Capability> capabilities(String name) {
        return EnumSet.allOf(Capability.class);
    }

    @Override
    public String unavailableReason(String name) {
        return null;
    }

    @Override
    public Backend open(String name, int threads) {
        return SHARED;
    }

    @Override
    public String describe(Backend engine) {
        return "plain Java, double accumulation, one thread";
    }
}
