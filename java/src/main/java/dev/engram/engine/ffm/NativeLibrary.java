package dev.engram.engine.ffm;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One loaded libengram (the CUDA build or the host emulation build) and its C ABI (cuda/engram.h) as method handles,
 * with the build's limits read from it once. Every call goes through {@link NativeCall}: argument errors become
 * {@link IllegalArgumentException}, everything else {@link NativeEngineException}, both with the library's message.
 *
 * <p>Where the library comes from: the directory in system property {@code engram.native.dir} if set, else the
 * resource {@code native/linux-x86_64/libengram_<variant>.so} (loaded in place when it is a file, extracted to a
 * temporary directory when it sits inside a jar).
 */
final class NativeLibrary {
    static final int ABI_VERSION = 4;
    /** engram.h's struct engram_limits. */
    private static final StructLayout LIMITS = MemoryLayout.structLayout(
            JAVA_INT.withName("max_k"), JAVA_INT.withName("max_block_threads"), JAVA_INT.withName("retrieve_v2_auto"));
    private static final ConcurrentHashMap<String, Object> LOADED = new ConcurrentHashMap<>();

    /** The variants: "cuda" (GPU) and "emu" (the same kernels emulated on the host). */
    static final String CUDA = "cuda";
    static final String EMU = "emu";

    final String variant;
    final Path path;
    final MethodHandle abiVersion;
    final MethodHandle deviceInfo;
    final MethodHandle memoryCreate;
    final MethodHandle memoryAppend;
    final MethodHandle memoryWrite;
    final MethodHandle memorySize;
    final MethodHandle memoryDeviceBytes;
    final MethodHandle memoryDestroy;
    final MethodHandle liveMemories;
    final MethodHandle retrieve;
    final MethodHandle retrievePartial;
    final MethodHandle emuMemoryLimit;
    final MethodHandle integrate;
    final MethodHandle integrateQuantiles;
    final Limits limits;

    /**
     * What this build supports (engram.h {@code engram_limits}).
     *
     * @param maxK            largest top-k a retrieval supports
     * @param maxBlockThreads most threads per block a launch may ask for
     */
    /**
     * @param retrieveV2Auto whether {@link LaunchShape#kernel()} 0 runs retrieval kernel 2 where it serves the shape
     *                       (validated on a GPU); otherwise automatic keeps kernel 1
     */
    record Limits(int maxK, int maxBlockThreads, boolean retrieveV2Auto) {
    }

    private NativeLibrary(String variant, Path path) {
        this.variant = variant;
        this.path = path;
        Linker linker = Linker.nativeLinker();
        SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global());
        abiVersion = bind(linker, lookup, "engram_abi_version", FunctionDescriptor.of(JAVA_INT));
        // first, so that a library of another ABI is named as such rather than by a missing symbol
        int abi = NativeCall.plain("engram_abi_version", () -> (int) abiVersion.invokeExact());
        if (abi != ABI_VERSION) {
            throw new IllegalStateException(path + " implements engram ABI " + abi + " but this code needs " + ABI_VERSION
                    + "; rebuild the native library (native-build/build.sh)");
        }
        deviceInfo = bind(linker, lookup, "engram_device_info",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
        memoryCreate = bind(linker, lookup, "engram_memory_create",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        memoryAppend = bind(linker, lookup, "engram_memory_append",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
        memoryWrite = bind(linker, lookup, "engram_memory_write",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        memorySize = bind(linker, lookup, "engram_memory_size", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        memoryDeviceBytes = bind(linker, lookup, "engram_memory_device_bytes", FunctionDescriptor.of(JAVA_LONG, ADDRESS));
        memoryDestroy = bind(linker, lookup, "engram_memory_destroy", FunctionDescriptor.ofVoid(ADDRESS));
        liveMemories = bind(linker, lookup, "engram_live_memories", FunctionDescriptor.of(JAVA_LONG));
        FunctionDescriptor retrieveDesc = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_FLOAT,
                JAVA_INT, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG);
        retrieve = bind(linker, lookup, "engram_retrieve", retrieveDesc);
        retrievePartial = bind(linker, lookup, "engram_retrieve_partial",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_FLOAT, JAVA_INT, JAVA_LONG,
                        JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        emuMemoryLimit = bind(linker, lookup, "engram_emu_memory_limit",
                FunctionDescriptor.of(JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS, JAVA_LONG));
        integrate = bind(linker, lookup, "engram_integrate", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG,
                JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        integrateQuantiles = bind(linker, lookup, "engram_integrate_quantiles", FunctionDescriptor.of(JAVA_INT, ADDRESS,
                JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG));
        MethodHandle getLimits = bind(linker, lookup, "engram_get_limits", FunctionDescriptor.ofVoid(ADDRESS));
        limits = NativeCall.run("engram_get_limits", c -> {
            MemorySegment out = c.arena().allocate(LIMITS);
            getLimits.invokeExact(out);
            return new Limits(out.get(JAVA_INT, LIMITS.byteOffset(MemoryLayout.PathElement.groupElement("max_k"))),
                    out.get(JAVA_INT, LIMITS.byteOffset(MemoryLayout.PathElement.groupElement("max_block_threads"))),
                    out.get(JAVA_INT, LIMITS.byteOffset(MemoryLayout.PathElement.groupElement("retrieve_v2_auto"))) != 0);
        });
    }

    private static MethodHandle bind(Linker linker, SymbolLookup lookup, String name, FunctionDescriptor fd) {
        MemorySegment symbol = lookup.find(name)
                .orElseThrow(() -> new IllegalStateException("symbol " + name + " missing from libengram"));
        return linker.downcallHandle(symbol, fd);
    }

    /**
     * The library of this variant, loaded once per process.
     *
     * @throws NativeEngineException (status UNSUPPORTED) with the reason when it cannot be loaded
     */
    static NativeLibrary load(String variant) {
        Object o = LOADED.computeIfAbsent(variant, NativeLibrary::tryLoad);
        if (o instanceof NativeLibrary lib) {
            return lib;
        }
        throw new NativeEngineException(NativeEngineException.Status.UNSUPPORTED, (String) o);
    }

    /** Null when loadable, else the reason it is not. */
    static String unavailableReason(String variant) {
        Object o = LOADED.computeIfAbsent(variant, NativeLibrary::tryLoad);
        return o instanceof NativeLibrary ? null : (String) o;
    }

    /** A NativeLibrary, or a String saying why not (cached either way: loading is attempted once). */
    private static Object tryLoad(String variant) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "libengram_" + variant + " is built for linux-x86_64 only; this is " + os + "-" + arch;
        }
        String file = "libengram_" + variant + ".so";
        try {
            Path path;
            String dir = System.getProperty("engram.native.dir");
            if (dir != null && !dir.isBlank()) {
                path = Path.of(dir, file);
                if (!Files.isRegularFile(path)) {
                    return file + " not found in engram.native.dir=" + dir;
                }
            } else {
                URL url = NativeLibrary.class.getClassLoader().getResource("native/linux-x86_64/" + file);
                if (url == null) {
                    return file + " is not in this build (native/linux-x86_64/ resources; the native build needs cmake"
                            + " and a C++ compiler" + (variant.equals(CUDA) ? ", and nvcc for the CUDA library" : "") + ")";
                }
                if (!url.getProtocol().equals("file")) {
                    return loadExtracted(variant, url, file, Path.of(System.getProperty("java.io.tmpdir")));
                }
                path = Path.of(url.toURI());
            }
            return new NativeLibrary(variant, path.toAbsolutePath());
        } catch (IOException | URISyntaxException | RuntimeException | UnsatisfiedLinkError e) {
            return "cannot load " + file + ": " + e;
        }
    }

    /**
     * Copies the library out of the jar into a fresh folder under {@code tmp}, opens it, and deletes the copy and the
     * folder again: the opened library stays mapped (and usable) after its file is unlinked, so nothing is left in
     * {@code tmp} once this returns, even if the JVM is later killed.
     */
    static NativeLibrary loadExtracted(String variant, URL url, String file, Path tmp) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "engram-native-");
        Path target = dir.resolve(file);
        try {
            try (InputStream in = url.openStream()) {
                Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
            }
            return new NativeLibrary(variant, target.toAbsolutePath());
        } finally {
            Files.deleteIfExists(target);
            Files.deleteIfExists(dir);
        }
    }

    /** Device count and the name of device 0, or a NativeEngineException saying why there is none. */
    String deviceInfo() {
        return NativeCall.run("engram_device_info", c -> {
            MemorySegment count = c.arena().allocate(JAVA_INT);
            MemorySegment name = c.arena().allocate(512);
            c.check((int) deviceInfo.invokeExact(count, name, 512L, c.err(), c.errCap()));
            return count.get(JAVA_INT, 0) + " device(s), device 0: " + name.getString(0);
        });
    }

    /** Number of live memory handles in this process (for leak checks). */
    long liveMemories() {
        return NativeCall.plain("engram_live_memories", () -> (long) liveMemories.invokeExact());
    }

    /**
     * Emulation build only: caps emulated device memory at {@code bytes} ({@code < 0}: no cap) and returns the bytes
     * allocated now.
     */
    long emuMemoryLimit(long bytes) {
        return NativeCall.run("engram_emu_memory_limit", c -> {
            MemorySegment allocated = c.arena().allocate(JAVA_LONG);
            c.check((int) emuMemoryLimit.invokeExact(bytes, allocated, c.err(), c.errCap()));
            return allocated.get(JAVA_LONG, 0);
        });
    }

    @Override
    public String toString() {
        return "libengram_" + variant + " (" + path + ")";
    }
}
