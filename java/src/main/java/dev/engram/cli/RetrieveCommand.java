package dev.engram.cli;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Reads memory and queries from .npy files, retrieves, writes the results as .npy files. */
@Command(name = "retrieve", mixinStandardHelpOptions = true,
        description = {"softmax(beta·q·Xᵀ)·V, entropy, confidence and cosine top-k for a batch of queries.",
                "Writes output.npy (B×dv float32), entropy.npy and confidence.npy (B float32),",
                "topk_indices.npy (B×k int64) and topk_scores.npy (B×k float32) into --out."})
final class RetrieveCommand implements Callable<Integer> {
    @Option(names = "--memory", required = true, description = "stored patterns X, M×d float .npy (float32 is memory-mapped)")
    Path memory;

    @Option(names = "--values", description = "values V, M×dv float .npy (default: V = X)")
    Path values;

    @Option(names = "--queries", required = true, description = "queries, B×d (or d) float .npy")
    Path queries;

    @Option(names = "--out", required = true, description = "folder for the result files")
    Path out;

    @Option(names = "--beta", defaultValue = "1.0", description = "inverse temperature > 0 (default: ${DEFAULT-VALUE})")
    float beta;

    @Option(names = "--k", defaultValue = "5", description = "top-k size (default: ${DEFAULT-VALUE})")
    int k;

    @Option(names = "--backend", defaultValue = "auto", description = "auto, reference, cpu, cuda (GPU) or emu (the CUDA kernels emulated on the host; slow, for tests) (default: ${DEFAULT-VALUE})")
    String backend;

    @Override
    public Integer call() throws Exception {
        RetrievalParams params = new RetrievalParams(beta, k);
        Backend engine = Backends.select(backend);
        try (Arena arena = Arena.ofShared();
             FloatMatrix q = Npy.readFloat(queries)) {
            FloatMatrix x = mapOrRead(memory, arena);
            FloatMatrix v = values == null ? null : mapOrRead(values, arena);
            try (x; v; PatternMemory mem = PatternMemory.wrap(x, v)) {
                long t0 = System.nanoTime();
                RetrievalResult r = engine.retrieve(mem, q, params);
                double ms = (System.nanoTime() - t0) / 1e6;
                int b = r.batch();
                Npy.write(out.resolve("output.npy"), r.output(), b, r.valueDim());
                Npy.write(out.resolve("entropy.npy"), r.entropy(), b);
                Npy.write(out.resolve("confidence.npy"), r.confidence(), b);
                Npy.write(out.resolve("topk_indices.npy"), r.topIndices(), b, r.k());
                Npy.write(out.resolve("topk_scores.npy"), r.topScores(), b, r.k());
                System.out.printf("retrieved B=%d queries against M=%d patterns (d=%d, dv=%d) with %s in %.2f ms -> %s%n",
                        b, mem.size(), mem.dim(), mem.valueDim(), engine.name(), ms, out);
            }
        }
        return 0;
    }

    /** Memory-maps float32 files (closing the result is then a no-op; the arena owns the mapping); loads others. */
    private static FloatMatrix mapOrRead(Path file, Arena arena) throws java.io.IOException {
        return Npy.readHeader(file).descr().equals("<f4") ? Npy.mapFloat(file, arena) : Npy.readFloat(file);
    }
}
