package dev.engram.engine.ffm;

import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.engine.EngineProvider;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The libengram engines ({@code cuda} on a GPU, {@code emu} on the host) for {@link dev.engram.engine.Backends}.
 * Their capabilities are the kernels the library has: retrieval and ensemble integration.
 */
public final class NativeProvider implements EngineProvider {

    @Override
    public List<String> names() {
        return List.of("emu", "cuda");
    }

    @Override
    public Set<Capability> capabilities(String name) {
        return EnumSet.of(Capability.RETRIEVAL, Capability.INTEGRATION);
    }

    @Override
    public String unavailableReason(String name) {
        return name.equals("cuda") ? NativeBackend.cudaUnavailableReason() : NativeBackend.emulatedUnavailableReason();
    }

    @Override
    public Backend open(String name, int threads) {
        try {
            return name.equals("cuda") ? NativeBackend.sharedCuda() : NativeBackend.sharedEmulated();
        } catch (NativeEngineException e) {
            throw new IllegalStateException("backend '" + name + "' is not available here: " + e.getMessage(), e);
        }
    }

    @Override
    public String describe(Backend engine) {
        return engine instanceof NativeBackend n ? n.describe() : "";
    }
}
