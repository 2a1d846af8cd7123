package dev.engram.engine.ffm;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
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
 * One loaded libengram (the CUDA build or the host emulation build) and its C ABI (cuda/engram.h) as method handles.
 * Every call that can fail goes through {@link #check}: argument errors become {@link IllegalArgumentException},
 * everything else {@link NativeEngineException}, both with the library's message.
 *
 * <p>Where the library comes from: the directory in system property {@code engram.native.dir} if set, else the
 * resource {@code native/linux-x86_64/libengram_<variant>.so} (loaded in place when it is a file, extracted to a
 * temporary directory when it sits inside a jar).
 */
final class NativeLibrary {
    static final int ABI_VERSION = 1;
    static final int MAX_K = 256;
    private static final int ERR_CAP = 1024;
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
    final MethodHandle memorySize;
    final MethodHandle memoryDeviceBytes;
    final MethodHandle memoryDestroy;
    final MethodHandle liveMemories;
    final MethodHandle retrieve;
    final MethodHandle retrievePartial;
    final MethodHandle emuMemoryLimit;

    private NativeLibrary(String variant, Path path) {
        this.variant = variant;
        this.path = path;
        Linker linker = Linker.nativeLinker();
        SymbolLookup lookup = SymbolLookup.libraryLookup(path, Arena.global());
        abiVersion = bind(linker, lookup, "engram_abi_version", FunctionDescriptor.of(JAVA_INT));
        deviceInfo = bind(linker, lookup, "engram_device_info",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
        memoryCreate = bind(linker, lookup, "engram_memory_create",
                FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_LONG));
        memoryAppend = bind(linker, lookup, "engram_memory_append",
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS, JAVA_LONG));
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
        int abi;
        try {
            abi = (int) abiVersion.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("calling engram_abi_version in " + path + " failed", t);
        }
        if (abi != ABI_VERSION) {
            throw new IllegalStateException(path + " implements engram ABI " + abi + " but this code needs " + ABI_VERSION
                    + "; rebuild the native library (native-build/build.sh)");
        }
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

    /** A buffer for the library's error message. */
    static MemorySegment errorBuffer(Arena arena) {
        MemorySegment err = arena.allocate(ERR_CAP);
        err.set(ValueLayout.JAVA_BYTE, 0, (byte) 0);
        return err;
    }

    static long errorCapacity() {
        return ERR_CAP;
    }

    /** Throws for a non-OK status: what failed, and the library's message. */
    static void check(int status, MemorySegment err, String what) {
        if (status == 0) {
            return;
        }
        String msg = err.getString(0);
        NativeEngineException.Status s = NativeEngineException.Status.of(status);
        if (s == NativeEngineException.Status.INVALID_ARGUMENT) {
            throw new IllegalArgumentException(what + ": " + msg);
        }
        throw new NativeEngineException(s, what + " failed (" + s + "): " + msg);
    }

    /** Device count and the name of device 0, or a NativeEngineException saying why there is none. */
    String deviceInfo() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            MemorySegment name = arena.allocate(512);
            MemorySegment err = errorBuffer(arena);
            int st = (int) deviceInfo.invokeExact(count, name, 512L, err, errorCapacity());
            check(st, err, "engram_device_info");
            return count.get(JAVA_INT, 0) + " device(s), device 0: " + name.getString(0);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** Number of live memory handles in this process (for leak checks). */
    long liveMemories() {
        try {
            return (long) liveMemories.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Emulation build only: caps emulated device memory at {@code bytes} ({@code < 0}: no cap) and returns the bytes
     * allocated now.
     */
    long emuMemoryLimit(long bytes) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment allocated = arena.allocate(JAVA_LONG);
            MemorySegment err = errorBuffer(arena);
            int st = (int) emuMemoryLimit.invokeExact(bytes, allocated, err, errorCapacity());
            check(st, err, "engram_emu_memory_limit");
            return allocated.get(JAVA_LONG, 0);
        } catch (RuntimeException e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Override
    public String toString() {
        return "libengram_" + variant + " (" + path + ")";
    }
}
