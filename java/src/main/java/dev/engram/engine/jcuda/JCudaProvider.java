package dev.engram.engine.jcuda;

import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.engine.EngineProvider;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The {@code jcuda} engine for {@link dev.engram.engine.Backends}: libengram's kernels through the JCuda driver API.
 * Its capabilities are the kernels in {@link KernelTable}: retrieval and integration. It is chosen by name only
 * ({@code auto} prefers the FFM {@code cuda} engine, which needs no JCuda natives).
 */
public final class JCudaProvider implements EngineProvider {
    private static volatile JCudaBackend shared;

    @Override
    public List<String> names() {
        return List.of("jcuda");
    }

    @Override
    public Set<Capability> capabilities(String name) {
        return EnumSet.of(Capability.RETRIEVAL, Capability.INTEGRATION);
    }

    @Override
    public String unavailableReason(String name) {
        return JCudaBackend.unavailableReason();
    }

    /**
     * The process-wide engine (own context on device 0, float32, the retrieval kernel of
     * {@link JCudaLaunch#configured()}), made on first use and never closed.
     */
    @Override
    public Backend open(String name, int threads) {
        synchronized (JCudaProvider.class) {
            if (shared == null) {
                shared = JCudaBackend.create(0, JCudaStorage.F32, JCudaLaunch.configured());
            }
            return shared;
        }
    }

    @Override
    public String describe(Backend engine) {
        return engine instanceof JCudaBackend j ? j.describe() : "";
    }
}
