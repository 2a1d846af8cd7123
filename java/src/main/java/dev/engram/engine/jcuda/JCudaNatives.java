package dev.engram.engine.jcuda;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Loads JCuda's JNI library (the driver API binding) once per process and says, in one line, why one
 * cannot load. JCuda's own loader copies the library out of its jar into {@code java.io.tmpdir} under a fixed name
 * and leaves it there; here it copies into a fresh folder instead, and the folder is deleted as soon as the library is
 * loaded (a loaded library stays mapped after its file is unlinked), so nothing is left behind.
 *
 * <p>Where {@code libcuda.so.1} (the driver) is missing, the load fails with an {@link UnsatisfiedLinkError}; it is
 * caught and its cause becomes the reason.
 *
 * <p>System property {@value #DRIVER_PROPERTY} names an emulated CUDA driver ({@code libengram_cudadrv_emu.so}, built
 * by native-build/build.sh into java/target/jcuda-emu/): it is loaded by path first, and since its SONAME is
 * {@code libcuda.so.1}, the dynamic linker satisfies the JNI library's NEEDED libcuda.so.1 with it (a loaded object
 * matches by soname) instead of looking for the system's driver. The test JVMs set it; unset, blank or
 * {@code system}: the system's driver.
 */
final class JCudaNatives {
    /** The binding class whose static initialiser loads the JNI library. */
    static final String DRIVER = "jcuda.driver.JCudaDriver";
    /** System property: path of the emulated CUDA driver to bind JCuda to (unset, blank or "system": the real one). */
    static final String DRIVER_PROPERTY = "engram.jcuda.driver";
    private static final String DRIVER_KEY = "<" + DRIVER_PROPERTY + ">";

    private static final Object TMPDIR_LOCK = new Object();
    /** Class name → "" when loaded, else the reason it is not. */
    private static final ConcurrentHashMap<String, String> STATE = new ConcurrentHashMap<>();
    private static final Pattern SHARED_OBJECT = Pattern.compile("([\\w.+-]+\\.so[\\w.]*): cannot open shared object file[^\\n]*");

    private JCudaNatives() {
    }

    /** Null when the binding class {@code className} (e.g. DRIVER) and its natives are loaded, else why not. */
    static String unavailableReason(String className) {
        String driver = STATE.computeIfAbsent(DRIVER_KEY, k -> loadEmulatedDriver());
        if (!driver.isEmpty()) {
            return driver;
        }
        String s = STATE.computeIfAbsent(className, JCudaNatives::load);
        return s.isEmpty() ? null : s;
    }

    /**
     * The emulated driver {@value #DRIVER_PROPERTY} names, or null: none named, or this machine has a CUDA driver of
     * its own, which is then used (on a GPU machine the device tests run on the GPU, and the FFM engine's CUDA runtime
     * never finds the emulated driver by its soname).
     */
    static Path emulatedDriver() {
        String p = System.getProperty(DRIVER_PROPERTY);
        if (p == null || p.isBlank() || p.strip().equals("system") || SystemDriver.PRESENT) {
            return null;
        }
        return Path.of(p.strip()).toAbsolutePath();
    }

    /** Whether the system's libcuda.so.1 loads, probed once, before any emulated driver could answer to that name. */
    private static final class SystemDriver {
        static final boolean PRESENT = probe();

        private static boolean probe() {
            try (Arena arena = Arena.ofConfined()) {
                SymbolLookup.libraryLookup("libcuda.so.1", arena);
                return true;
            } catch (IllegalArgumentException | IllegalCallerException e) {
                return false;
            }
        }
    }

    /** Loads the emulated driver, if one is named, before any JCuda library: "" when done (or none), else why not. */
    private static String loadEmulatedDriver() {
        return loadDriver(emulatedDriver());
    }

    /** Loads the driver library at {@code p} (null: none): "" when done, else one line saying why not. */
    static String loadDriver(Path p) {
        if (p == null) {
            return "";
        }
        if (!Files.isRegularFile(p)) {
            return DRIVER_PROPERTY + "=" + p + " does not exist (native-build/build.sh builds the emulated CUDA driver"
                    + " into java/target/jcuda-emu/; set it to 'system' for the real driver)";
        }
        try {
            System.load(p.toString());
            return "";
        } catch (LinkageError e) {
            return "cannot load the emulated CUDA driver " + DRIVER_PROPERTY + "=" + p + ": "
                    + String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        }
    }

    private static String load(String className) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64"))) {
            return "the JCuda natives in this build are for linux-x86_64 only; this is " + os + "-" + arch;
        }
        // java.io.tmpdir is process-wide; JCuda's loader reads it at call time. Files.createTempFile and
        // File.createTempFile read it once at start-up, so pointing it elsewhere for this moment affects only
        // code that reads the property itself.
        synchronized (TMPDIR_LOCK) {
            String saved = System.getProperty("java.io.tmpdir");
            Path dir = null;
            try {
                dir = Files.createTempDirectory("engram-jcuda-");
                System.setProperty("java.io.tmpdir", dir.toString());
                Class.forName(className, true, JCudaNatives.class.getClassLoader());
                return "";
            } catch (ClassNotFoundException e) {
                return className + " is not on the class path (add org.jcuda:jcuda 12.6.0 with its linux-x86_64 natives)";
            } catch (LinkageError e) {
                return reason(e);
            } catch (IOException e) {
                return "cannot make a folder for the JCuda natives: " + e.getMessage();
            } finally {
                System.setProperty("java.io.tmpdir", saved);
                if (dir != null) {
                    deleteTree(dir);
                }
            }
        }
    }

    /**
     * One line from JCuda's load failure: the shared object that could not be opened ("libcuda.so.1: cannot open
     * shared object file: ..."), else the error's first line. JCuda's message carries whole nested stack traces.
     */
    static String reason(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            String msg = String.valueOf(t.getMessage());
            Matcher m = SHARED_OBJECT.matcher(msg);
            if (m.find()) {
                String lib = m.group(1);
                String hint = lib.startsWith("libcuda.so") ? " (no NVIDIA driver on this machine)" : "";
                return "JCuda natives cannot load: " + m.group(0).strip() + hint;
            }
        }
        String first = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
        return "JCuda natives cannot load: " + e.getClass().getSimpleName() + ": " + first;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a file that cannot be deleted stays in a folder of its own
                }
            });
        } catch (IOException ignored) {
            // the folder vanished already
        }
    }
}
