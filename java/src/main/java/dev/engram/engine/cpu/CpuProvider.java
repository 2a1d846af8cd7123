package dev.engram.engine.cpu;

import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.engine.EngineProvider;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The Vector API engines ({@code cpu}, {@code cpu-bf16}) for {@link dev.engram.engine.Backends}. They need the
 * incubator module {@code jdk.incubator.vector} in the boot layer; this class checks for it before any class that
 * uses the Vector API is loaded.
 */
public final class CpuProvider implements EngineProvider {
    private static final String VECTOR_MODULE = "jdk.incubator.vector";

    @Override
    public List<String> names() {
        return List.of("cpu", "cpu-bf16");
    }

    @Override
    public Set<Capability> capabilities(String name) {
        return EnumSet.of(Capability.RETRIEVAL, Capability.INTEGRATION, Capability.TRAINING);
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
        CpuBackend.Storage storage = name.equals("cpu-bf16") ? CpuBackend.Storage.BF16 : CpuBackend.Storage.F32;
        if (threads == 0) {
            return storage == CpuBackend.Storage.F32 ? CpuBackend.shared() : CpuBackend.sharedBf16();
        }
        return new CpuBackend(CpuBackend.Config.defaults().withThreads(threads), storage);
    }

    @Override
    public String describe(Backend engine) {
        return engine instanceof CpuBackend c ? c.describe() : "";
    }
}
