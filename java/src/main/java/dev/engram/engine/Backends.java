package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.ffm.NativeBackend;
import dev.engram.engine.ffm.NativeEngineException;
import dev.engram.engine.reference.ReferenceBackend;

import java.util.List;
import java.util.Locale;

/** Chooses an engine by name, in one place, and says which and why in one log line. */
public final class Backends {
    private static final System.Logger LOG = System.getLogger("dev.engram.engine");

    /** Names accepted by {@link #select(String)}. */
    public static final List<String> NAMES = List.of("auto", "reference", "cpu", "cpu-bf16", "emu", "cuda");

    private Backends() {
    }

    /**
     * The engine called {@code name}: "reference" (plain Java, the oracle), "cpu" (Vector API, all cores), "cpu-bf16" (the same reading a
     * bfloat16 copy of the patterns: half the bytes), "cuda"
     * (libengram's kernels on a GPU), "emu" (the same kernels emulated on the host: for tests, slow) or "auto" (the
     * CUDA engine when the library, a driver and a device are present, else the CPU engine).
     *
     * @throws IllegalStateException for "cuda"/"emu" when that library, driver or device is missing (the message
     *                               says which)
     */
    public static Backend select(String name) {
        String n = name == null ? "auto" : name.toLowerCase(Locale.ROOT).strip();
        Backend b;
        String why;
        switch (n) {
            case "reference" -> {
                b = new ReferenceBackend();
                why = "requested";
            }
            case "cpu" -> {
                b = CpuBackend.shared();
                why = "requested";
            }
            case "cpu-bf16" -> {
                b = CpuBackend.sharedBf16();
                why = "requested";
            }
            case "emu" -> {
                b = nativeOrExplain(n);
                why = "requested";
            }
            case "cuda" -> {
                b = nativeOrExplain(n);
                why = "requested";
            }
            case "auto" -> {
                String noGpu = NativeBackend.cudaUnavailableReason();
                if (noGpu == null) {
                    b = NativeBackend.sharedCuda();
                    why = "auto: CUDA library, driver and device found";
                } else {
                    b = CpuBackend.shared();
                    why = "auto: no CUDA engine (" + noGpu + "), so the CPU engine";
                }
            }
            default -> throw new IllegalArgumentException("unknown backend '" + name + "'; choose one of " + NAMES);
        }
        LOG.log(System.Logger.Level.INFO, "engine " + b.name() + " (" + why + ")" + (b instanceof CpuBackend c ? ": " + c.describe()
                : b instanceof NativeBackend nb ? ": " + nb.describe() : ""));
        return b;
    }

    private static Backend nativeOrExplain(String name) {
        try {
            return name.equals("cuda") ? NativeBackend.sharedCuda() : NativeBackend.sharedEmulated();
        } catch (NativeEngineException e) {
            throw new IllegalStateException("backend '" + name + "' is not available here: " + e.getMessage(), e);
        }
    }
}
