package dev.engram.engine;

import java.util.List;
import java.util.Set;

/**
 * How {@link Backends} reaches the engines of one sub-package without importing it: each engine package has one
 * provider, loaded by class name (as Lucene's {@code VectorizationProvider} loads its Panama implementation), so a
 * missing optional module (the Vector API) or native library costs that engine only, with a reason.
 *
 * <p>Implementations must have a public no-argument constructor and must not touch optional classes (the Vector
 * API, the native library) before {@link #unavailableReason} has said they are usable.
 */
public interface EngineProvider {

    /** The engine names this provider serves, e.g. {@code ["cpu", "cpu-bf16"]}. */
    List<String> names();

    /** What engine {@code name} can do here; known without opening the engine (no library is loaded). */
    Set<Capability> capabilities(String name);

    /** Null when engine {@code name} can run in this JVM on this machine, else one line saying why not. */
    String unavailableReason(String name);

    /**
     * The engine {@code name}, shared per process when {@code threads} is 0 (the default configuration).
     *
     * @param threads worker threads for engines that have them, 0 for the engine's default (all cores)
     */
    Backend open(String name, int threads);

    /** One line on how the engine runs (threads, vector width, device), for the selection log line. */
    default String describe(Backend engine) {
        return "";
    }
}
