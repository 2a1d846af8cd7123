package dev.engram.cli;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
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

    /** The engine for {@code capability}: a one-line error when the engine lacks it or cannot run here. */
    Backend select(Capability capability) {
        return Backends.select(capability, backend, threads);
    }

    /** The engine called {@code name} for {@code capability} with this command's {@code --threads}. */
    Backend select(Capability capability, String name) {
        return Backends.select(capability, name, threads);
    }
}
