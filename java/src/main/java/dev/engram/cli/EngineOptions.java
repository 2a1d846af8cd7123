package dev.engram.cli;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.ffm.LaunchShape;
import picocli.CommandLine.Option;

/** {@code --backend} and {@code --threads}, shared by every command that runs an engine. */
final class EngineOptions {
    @Option(names = "--backend", paramLabel = "ENGINE",
            description = {"auto (the best engine here for this work), reference, cpu, cpu-bf16, cpu-sq8, emu, cuda or",
                    "jcuda; `engram engines` lists what each can do here (default: ${DEFAULT-VALUE})"})
    String backend = "auto";

    @Option(names = "--threads", paramLabel = "N",
            description = "worker threads of the cpu engines, 0 = all cores (default: ${DEFAULT-VALUE})")
    int threads;

    @Option(names = "--retrieval-kernel", paramLabel = "K",
            description = {"retrieval kernel of the native engines (emu, cuda, jcuda): 0 automatic, 1 SIMT, 2 tensor cores",
                    "(d = dv in {32, 64, 128}); the same as -D" + LaunchShape.KERNEL_PROPERTY + " (default: ${DEFAULT-VALUE})"})
    int retrievalKernel;

    /** The engine for {@code capability}: a one-line error when the engine lacks it or cannot run here. */
    Backend select(Capability capability) {
        return select(capability, backend);
    }

    /** The engine called {@code name} for {@code capability} with this command's {@code --threads}. */
    Backend select(Capability capability, String name) {
        if (retrievalKernel != 0) {
            if (retrievalKernel < 0 || retrievalKernel > 2) {
                throw new IllegalArgumentException("--retrieval-kernel must be 0, 1 or 2, got " + retrievalKernel);
            }
            System.setProperty(LaunchShape.KERNEL_PROPERTY, Integer.toString(retrievalKernel));
        }
        return Backends.select(capability, name, threads);
    }
}
