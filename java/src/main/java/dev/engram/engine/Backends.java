package dev.engram.engine;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Chooses engines, in one place: per {@link Capability}, once, with one log line saying which and why.
 *
 * <p>{@code auto} takes, for each capability, the first engine in {@link #AUTO_ORDER} that has the capability and
 * can run here: {@code cuda} (a CUDA library, driver, device and the capability's kernel), then {@code cpu} (needs the
 * Vector API module: {@code --add-modules jdk.incubator.vector}), then {@code reference}, which is always there. The
 * choice is cached per capability for the life of the process. An explicit name is honoured or refused in one line
 * (unknown name, engine unavailable here, or engine lacking the capability).
 *
 * <p>The engines live in sub-packages that this package does not import: each has an {@link EngineProvider} loaded
 * by class name, so {@code engine} and its engines form no package cycle, and a JVM without the Vector API module
 * still runs on the reference engine.
 */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("dev.engram.engine");

    /** The provider classes, one per engine package, in the order their engines are listed. */
    private static final List<String> PROVIDER_CLASSES = List.of(
            "dev.engram.engine.reference.ReferenceProvider",
            "dev.engram.engine.cpu.CpuProvider",
            "dev.engram.engine.ffm.NativeProvider",
            "dev.engram.engine.jcuda.JCudaProvider");

    /** Engines {@code auto} considers, best first; {@code cpu-bf16}, {@code cpu-sq8}, {@code emu} and {@code jcuda} are only chosen by name. */
    public static final List<String> AUTO_ORDER = List.of("cuda", "cpu", "reference");

    /** Names accepted by {@link #select(Capability, String)}. */
    public static final List<String> NAMES = List.of("auto", "reference", "cpu", "cpu-bf16", "cpu-sq8", "emu", "cuda",
            "jcuda");

    private static final Map<String, EngineProvider> PROVIDERS;
    private static final Map<String, String> PROVIDER_FAILURES;
    private static final Map<Capability, Backend> AUTO = new EnumMap<>(Capability.class);
    private static final Map<String, Backend> OPENED = new HashMap<>();
    private static final Set<String> LOGGED = new java.util.HashSet<>();

    static {
        Map<String, EngineProvider> providers = new LinkedHashMap<>();
        Map<String, String> failures = new HashMap<>();
        for (String className : PROVIDER_CLASSES) {
            try {
                EngineProvider p = (EngineProvider) Class.forName(className).getDeclaredConstructor().newInstance();
                for (String n : p.names()) {
                    providers.put(n, p);
                }
            } catch (ReflectiveOperationException | LinkageError e) {
                failures.put(className, e.toString());
            }
        }
        PROVIDERS = Collections.unmodifiableMap(providers);
        PROVIDER_FAILURES = Collections.unmodifiableMap(failures);
    }

    private Backends() {
    }

    /** The retrieval engine called {@code name}: {@code select(Capability.RETRIEVAL, name)}. */
    public static Backend select(String name) {
        return select(Capability.RETRIEVAL, name);
    }

    /** {@link #select(Capability, String, int)} with the engine's default thread count (all cores). */
    public static Backend select(Capability capability, String name) {
        return select(capability, name, 0);
    }

    /**
     * The engine for {@code capability}: "auto" (the best one here, chosen once per capability and cached),
     * "reference" (plain Java, the oracle), "cpu" (Vector API, all cores), "cpu-bf16" (the same reading a bfloat16
     * copy of the patterns), "cpu-sq8" (retrieval on an 8-bit scalar-quantised copy, exact top-k), "cuda" (libengram's kernels on a GPU), "jcuda" (the same kernels through the JCuda driver API) or "emu" (the same
     * kernels emulated on the host: for tests, slow).
     *
     * @param threads worker threads for the cpu engines (0: all cores); the other engines ignore it
     * @throws IllegalArgumentException for an unknown name, or an engine that lacks {@code capability} (the message
     *                                  names the engines that have it)
     * @throws IllegalStateException    when the engine cannot run here (the message says why)
     */
    public static Backend select(Capability capability, String name, int threads) {
        if (capability == null) {
            throw new IllegalArgumentException("capability must not be null");
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 0 (0 = all cores), got " + threads);
        }
        String n = name == null ? "auto" : name.toLowerCase(Locale.ROOT).strip();
        if (n.equals("auto")) {
            return threads == 0 ? auto(capability) : chooseAuto(capability, threads);
        }
        EngineProvider p = PROVIDERS.get(n);
        if (p == null) {
            if (NAMES.contains(n)) {
                throw new IllegalStateException("backend '" + n + "' is not available here: its engine package did not load ("
                        + PROVIDER_FAILURES + ")");
            }
            throw new IllegalArgumentException("unknown backend '" + name + "'; choose one of " + NAMES);
        }
        if (!p.capabilities(n).contains(capability)) {
            throw new IllegalArgumentException("the " + n + " engine cannot " + capability.verb()
                    + "; engines that can: " + String.join(", ", withCapability(capability)) + " (or auto)");
        }
        String why = p.unavailableReason(n);
        if (why != null) {
            throw new IllegalStateException("backend '" + n + "' is not available here: " + why);
        }
        return open(p, n, threads, capability, "requested");
    }

    /** Null when engine {@code name} can run here, else why not (for help texts and tests). */
    public static String unavailableReason(String name) {
        EngineProvider p = PROVIDERS.get(name);
        return p == null ? "no such engine in this build" : p.unavailableReason(name);
    }

    /** The engine names that have {@code capability} (available here or not), in {@link #NAMES} order. */
    public static List<String> withCapability(Capability capability) {
        List<String> out = new ArrayList<>();
        for (String n : NAMES) {
            EngineProvider p = PROVIDERS.get(n);
            if (p != null && p.capabilities(n).contains(capability)) {
                out.add(n);
            }
        }
        return out;
    }

    /** What engine {@code name} can do (empty for an unknown name). */
    public static Set<Capability> capabilities(String name) {
        EngineProvider p = PROVIDERS.get(name);
        return p == null ? Set.of() : p.capabilities(name);
    }

    private static synchronized Backend auto(Capability capability) {
        Backend b = AUTO.get(capability);
        if (b == null) {
            b = chooseAuto(capability, 0);
            AUTO.put(capability, b);
        }
        return b;
    }

    private static Backend chooseAuto(Capability capability, int threads) {
        List<String> skipped = new ArrayList<>();
        for (String n : AUTO_ORDER) {
            EngineProvider p = PROVIDERS.get(n);
            if (p == null) {
                skipped.add(n + ": engine package did not load");
                continue;
            }
            if (!p.capabilities(n).contains(capability)) {
                skipped.add(n + ": cannot " + capability.verb());
                continue;
            }
            String why = p.unavailableReason(n);
            if (why != null) {
                skipped.add(n + ": " + why);
                continue;
            }
            String reason = skipped.isEmpty() ? "auto: the best engine here" : "auto; skipped " + String.join("; ", skipped);
            return open(p, n, threads, capability, reason);
        }
        // The reference provider has every capability and is always available, so this is a broken build.
        throw new IllegalStateException("no engine can " + capability.verb() + " here: " + String.join("; ", skipped));
    }

    private static synchronized Backend open(EngineProvider p, String name, int threads, Capability capability, String why) {
        String key = name + "/" + threads;
        Backend b = OPENED.get(key);
        if (b == null) {
            b = p.open(name, threads);
            OPENED.put(key, b);
        }
        if (!LOGGED.add(capability + "/" + key + "/" + why)) {
            return b;
        }
        String how = p.describe(b);
        LOG.log(System.Logger.Level.INFO, capability.label() + " engine: " + b.name() + " (" + why + ")"
                + (how.isEmpty() ? "" : ": " + how));
        return b;
    }
}
