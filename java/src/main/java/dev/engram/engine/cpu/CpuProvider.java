package dev.engram.engine.cpu;

import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.engine.EngineProvider;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The Vector API engines ({@code cpu}, {@code cpu-bf16}, {@code cpu-sq8}) for {@link dev.engram.engine.Backends}. They need the
 * incubator module {@code jdk.incubator.vector} in the boot layer; this class checks for it before any class that
 * uses the Vector API is loaded.
 */
public final class CpuProvider implements EngineProvider {
    private static final String VECTOR_MODULE = "jdk.incubator.vector";

    @Override
    public List<String> names() {
        return List.of("cpu", "cpu-bf16", "cpu-sq8");
    }

    @Override
    public Set<Capability> capabilities(String name) {
        // SQ8 changes only how patterns are stored for retrieval
        return name.equals("cpu-sq8") ? EnumSet.of(Capability.RETRIEVAL)
                : EnumSet.of(Capability.RETRIEVAL, Capability.INTEGRATION, Capability.TRAINING);
    }

    @Override
    public String unavailableReason(String name) {
        if (ModuleLayer.boot().findModule(VECTOR_MODULE).isEmpty()) {
            return "the Vector API module is not readable (start the JVM with --add-modules " + VECTOR_MODULE + ")";
        }
        return null;
    }

    @Override
    public Backend open(String name, int threads) {
        CpuBackend.Storage storage = switch (name) {
            case "cpu-bf16" -> CpuBackend.Storage.BF16;
            case "cpu-sq8" -> CpuBackend.Storage.SQ8;
            default -> CpuBackend.Storage.F32;
        };
        if (threads == 0) {
            return switch (storage) {
                case F32 -> CpuBackend.shared();
                case BF16 -> CpuBackend.sharedBf16();
                case SQ8 -> CpuBackend.sharedSq8();
            };
        }
        return new CpuBackend(CpuBackend.Config.defaults().withThreads(threads), storage);
    }

    @Override
    public String describe(Backend engine) {
        return engine instanceof CpuBackend c ? c.describe() : "";
    }
}
