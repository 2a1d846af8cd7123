package dev.engram.engine.jcuda;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Finds the kernels' fatbins (built by native-build/build.sh with nvcc, one per kernel file: SASS for sm_80 and sm_90
 * and compute_90 PTX): in the folder named by system property {@code engram.native.dir} when set, else, under the
 * emulated CUDA driver ({@link JCudaNatives#emulatedDriver}), its module images beside it (build.sh writes them there:
 * kernel names and parameter types, no GPU code), else the jar's resources {@code native/linux-x86_64/}, beside
 * libengram. They are read into memory (cuModuleLoadData takes the bytes), so nothing is extracted to disk.
 */
final class Fatbins {
    static final String RESOURCE_DIR = "native/linux-x86_64/";

    private Fatbins() {
    }

    /** True when the fatbins come from beside the emulated driver: module images listing kernels, no cubins. */
    static boolean emulatedImages() {
        String dir = System.getProperty("engram.native.dir");
        return (dir == null || dir.isBlank()) && JCudaNatives.emulatedDriver() != null;
    }

    /** Null when every fatbin the kernel table names can be found, else one line saying which is missing and why. */
    static String missing() {
        if (!emulatedImages()) {
            return missingCompiled();
        }
        for (String module : KernelTable.modules()) {
            Path p = JCudaNatives.emulatedDriver().resolveSibling(module);
            if (!Files.isRegularFile(p)) {
                return notBesideTheDriver(p);
            }
        }
        return null;
    }

    /**
     * The bytes of fatbin {@code module}.
     *
     * @throws IllegalStateException when it is missing (the message says where it was looked for)
     */
    static byte[] read(String module) {
        if (!emulatedImages()) {
            return readCompiled(module);
        }
        Path p = JCudaNatives.emulatedDriver().resolveSibling(module);
        if (!Files.isRegularFile(p)) {
            throw new IllegalStateException(notBesideTheDriver(p));
        }
        try {
            return Files.readAllBytes(p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read emulated module image " + p + ": " + e.getMessage(), e);
        }
    }

    private static String notBesideTheDriver(Path p) {
        return p.getFileName() + " not found beside the emulated CUDA driver in " + p.getParent()
                + " (native-build/build.sh writes the emulated module images there)";
    }

    /** {@link #missing} for the nvcc-built fatbins (engram.native.dir or the jar), whatever the driver. */
    static String missingCompiled() {
        for (String module : KernelTable.modules()) {
            String dir = System.getProperty("engram.native.dir");
            if (dir != null && !dir.isBlank()) {
                if (!Files.isRegularFile(Path.of(dir, module))) {
                    return module + " not found in engram.native.dir=" + dir;
                }
            } else if (Fatbins.class.getClassLoader().getResource(RESOURCE_DIR + module) == null) {
                return module + " is not in this build (resource " + RESOURCE_DIR + module
                        + "; native-build/build.sh makes it when nvcc is found)";
            }
        }
        return null;
    }

    /** {@link #read} of an nvcc-built fatbin (engram.native.dir or the jar), whatever the driver. */
    static byte[] readCompiled(String module) {
        try {
            String dir = System.getProperty("engram.native.dir");
            if (dir != null && !dir.isBlank()) {
                Path p = Path.of(dir, module);
                if (!Files.isRegularFile(p)) {
                    throw new IllegalStateException(module + " not found in engram.native.dir=" + dir);
                }
                return Files.readAllBytes(p);
            }
            try (InputStream in = Fatbins.class.getClassLoader().getResourceAsStream(RESOURCE_DIR + module)) {
                if (in == null) {
                    throw new IllegalStateException(module + " is not in this build (resource " + RESOURCE_DIR + module
                            + "; native-build/build.sh makes it when nvcc is found)");
                }
                return in.readAllBytes();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read fatbin " + module + ": " + e.getMessage(), e);
        }
    }
}
