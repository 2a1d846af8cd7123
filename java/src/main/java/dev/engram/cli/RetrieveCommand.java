package dev.engram.cli;

import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FileErrors;
import dev.engram.tensor.FileSet;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** Reads memory and queries from .npy files, retrieves, writes the results as .npy files. */
@Command(name = "retrieve", mixinStandardHelpOptions = true,
        description = {"softmax(beta·q·Xᵀ)·V, entropy, confidence and cosine top-k for a batch of queries.",
                "Writes output.npy (B×dv float32), entropy.npy and confidence.npy (B float32),",
                "topk_indices.npy (B×k int64) and topk_scores.npy (B×k float32) into --out. Inputs are .npy files",
                "(numpy.save of float32 arrays).",
                "Example: engram retrieve --memory out/npy/memory.npy --queries out/npy/queries.npy --beta 8 --k 3"
                        + " --out out/retrieve"})
final class RetrieveCommand implements Callable<Integer> {
    @Mixin
    final EngineOptions engineOptions = new EngineOptions();

    @Mixin
    final OutputOption output = new OutputOption();

    @Option(names = "--memory", required = true, description = "stored patterns X, M×d float .npy (float32 is memory-mapped)")
    Path memory;

    @Option(names = "--values", description = "values V, M×dv float .npy (default: V = X)")
    Path values;

    @Option(names = "--queries", required = true, description = "queries, B×d (or d) float .npy")
    Path queries;


    @Option(names = "--beta", defaultValue = "1.0", description = "inverse temperature > 0 (default: ${DEFAULT-VALUE})")
    float beta;

    @Option(names = "--k", defaultValue = "5", description = "top-k size, 1 to M (default: ${DEFAULT-VALUE})")
    int k;


    /** The --backend help shared by the retrieval commands. */
    static final String BACKENDS = "auto, reference, cpu, cpu-bf16 (the CPU engine reading a bfloat16 copy of the "
            + "patterns: half the bytes), cuda (GPU) or emu (the CUDA kernels emulated on the host; slow, for tests) "
            + "(default: ${DEFAULT-VALUE})";

    @Override
    public Integer call() throws Exception {
        Path out = output.out;
        if (out == null) {
            throw new IllegalArgumentException("--out DIR is required: the folder the five result files go into");
        }
        if (k < 1) {
            throw new IllegalArgumentException("--k must be >= 1 (the number of nearest patterns to report), got " + k);
        }
        if (!(beta > 0) || !Float.isFinite(beta)) {
            throw new IllegalArgumentException("--beta must be a finite number > 0, got " + beta);
        }
        RetrievalParams params = new RetrievalParams(beta, k);
        Backend engine = engineOptions.select(Capability.RETRIEVAL);
        OutputFolder.check("--out", out);
        try (Arena arena = Arena.ofShared();
             FloatMatrix q = Npy.readFloat(queries)) {
            FloatMatrix x = mapOrRead(memory, arena);
            FloatMatrix v = values == null ? null : mapOrRead(values, arena);
            afterMapping.run();
            try (x; v; PatternMemory mem = wrap(x, v)) {
                if (k > mem.size()) {
                    throw new IllegalArgumentException("--k " + k + " is larger than the memory (M=" + mem.size()
                            + " patterns in " + memory + "); use --k " + mem.size() + " or less");
                }
                long t0 = System.nanoTime();
                RetrievalResult r = retrieve(engine, mem, q, params);
                double ms = (System.nanoTime() - t0) / 1e6;
                int b = r.batch();
                try (FileSet set = FileSet.in(out)) {
                    set.write("output.npy", f -> Npy.write(f, r.output(), b, r.valueDim()));
                    set.write("entropy.npy", f -> Npy.write(f, r.entropy(), b));
                    set.write("confidence.npy", f -> Npy.write(f, r.confidence(), b));
                    set.write("topk_indices.npy", f -> Npy.write(f, r.topIndices(), b, r.k()));
                    set.write("topk_scores.npy", f -> Npy.write(f, r.topScores(), b, r.k()));
                    set.commit();
                }
                System.out.printf("retrieved B=%d queries against M=%d patterns (d=%d, dv=%d) with %s in %.2f ms -> %s%n",
                        b, mem.size(), mem.dim(), mem.valueDim(), engine.name(), ms, out);
            }
        }
        return 0;
    }

    /** Test seam: runs after the inputs are mapped and before they are read (a test truncates a file here). */
    Runnable afterMapping = () -> { };

    /*
     * Reading memory-mapped files: a file truncated or replaced under the mapping faults on access, which the JVM
     * reports as an InternalError (from a worker thread: wrapped); that becomes a message naming the files.
     */

    private PatternMemory wrap(FloatMatrix x, FloatMatrix v) throws IOException {
        try {
            return PatternMemory.wrap(x, v);
        } catch (InternalError | RuntimeException e) {
            throw mappedFault(e);
        }
    }

    private RetrievalResult retrieve(Backend engine, PatternMemory mem, FloatMatrix q, RetrievalParams params)
            throws IOException {
        try {
            return engine.retrieve(mem, q, params);
        } catch (InternalError | RuntimeException e) {
            throw mappedFault(e);
        }
    }

    private IOException mappedFault(Throwable e) {
        for (Throwable c = e; c != null; c = c.getCause()) {
            if (c instanceof InternalError) {
                return FileErrors.of("read", memory, (values == null ? "" : "it or " + values + ": ")
                        + "the file changed or was truncated while it was being read (memory-mapped)",
                        "do not modify input files during a run, and run again", e);
            }
        }
        if (e instanceof RuntimeException re) {
            throw re;
        }
        throw (Error) e;
    }

    /** Memory-maps float32 files (closing the result is then a no-op; the arena owns the mapping); loads others. */
    private static FloatMatrix mapOrRead(Path file, Arena arena) throws IOException {
        return Npy.readHeader(file).descr().equals("<f4") ? Npy.mapFloat(file, arena) : Npy.readFloat(file);
    }
}
