package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.cpu.MappedSq8Memory;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * A memory larger than RAM on one machine: float32 {@code .npy} shards (generated here when missing), converted by the
 * streaming converter into a memory-mapped SQ8 file ({@link MappedSq8Memory}), then retrieval at growing prefixes M of
 * it for each batch size, with the process's anonymous and file-backed resident memory and the heap after each
 * step (a mapped file counts in RSS as RssFile; nothing of the memory is copied onto the heap).
 */
@Command(name = "scale", mixinStandardHelpOptions = true,
        description = {"Retrieval from a memory-mapped SQ8 memory converted from .npy shards (10^8 x 64 by default:",
                "25.6 GB of shards and a 6.4 GB file in --data); time per batch at growing M, anonymous and",
                "file-backed RSS, heap. Writes scale-*.json to --out.",
                "Example: engram bench scale --rows 2000000 --dim 64 --shard-rows 500000 --sizes 1e6,2e6"})
final class ScaleBenchCommand implements Callable<Integer> {
    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Option(names = "--rows", defaultValue = "1e8", description = "patterns M in all (default: ${DEFAULT-VALUE})")
    double rows;

    @Option(names = "--dim", defaultValue = "64", description = "pattern width d (default: ${DEFAULT-VALUE})")
    int dim;

    @Option(names = "--shard-rows", defaultValue = "1e7", description = "rows per .npy shard (default: ${DEFAULT-VALUE})")
    double shardRows;

    @Option(names = "--sizes", split = ",", defaultValue = "1e6,1e7,1e8",
            description = "prefixes M timed, at most --rows (default: ${DEFAULT-VALUE})")
    List<Double> sizes;

    @Option(names = "--batches", split = ",", defaultValue = "1,64", description = "batch sizes B (default: ${DEFAULT-VALUE})")
    List<Integer> batches;

    @Option(names = "--reps", defaultValue = "3", description = "at most this many timed calls per case, fewer "
            + "once 60 s are spent (default: ${DEFAULT-VALUE})")
    int reps;

    @Option(names = "--data", defaultValue = "out/scale", description = "folder of the shards and the SQ8 file "
            + "(default: ${DEFAULT-VALUE})")
    Path data;

    @Option(names = "--keep-data", description = "keep the shards and the SQ8 file this run generated (default: "
            + "delete them at the end)")
    boolean keep;

    @Option(names = "--seed", defaultValue = "42", description = "seed of the generated shards (default: ${DEFAULT-VALUE})")
    long seed;

    @Override
    public Integer call() throws Exception {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        BenchResults.write(json, output.out, "scale", measure(json));
        return 0;
    }

    ObjectNode measure(ObjectMapper json) throws Exception {
        long m = (long) rows;
        long per = (long) shardRows;
        if (m < 1 || dim < 1 || per < 1 || reps < 1 || batches.stream().anyMatch(b -> b < 1)) {
            throw new IllegalArgumentException("--rows, --dim, --shard-rows, --reps and --batches must be >= 1; got "
                    + m + ", " + dim + ", " + per + ", " + reps + ", " + batches);
        }
        for (double s : sizes) {
            if (s < 10 || s > m) {
                throw new IllegalArgumentException("--sizes: " + (long) s + " is not in 10.." + m + " (--rows)");
            }
        }
        ObjectNode root = json.createObjectNode();
        ObjectNode machine = Machine.measureAndPrint(json);
        root.set("machine", machine);
        double readGbs = machine.get("measured_read_GBps").asDouble();
        root.put("rows", m).put("dim", dim).put("shard_rows", per).put("storage", "SQ8, memory-mapped")
                .put("beta", 0.125).put("k", 10);
        Files.createDirectories(data);
        List<Path> shards = new ArrayList<>();
        List<Path> made = new ArrayList<>();
        long t0 = System.nanoTime();
        for (long s = 0, at = 0; at < m; s++, at += per) {
            long n = Math.min(per, m - at);
            Path p = data.resolve(String.format("shard-%04d.npy", s));
            shards.add(p);
            if (Files.isRegularFile(p) && matches(p, n)) {
                continue;
            }
            System.out.printf("generating %s (%d × %d float32, %.1f GB)%n", p, n, dim, n * dim * 4 / 1e9);
            try (FloatMatrix x = RandomMatrices.uniform(n, dim, seed + s)) {
                Npy.write(p, x);
            }
            made.add(p);
        }
        root.put("generate_s", (System.nanoTime() - t0) / 1e9).put("shards", shards.size())
                .put("shard_bytes", (double) m * dim * 4);
        Path file = data.resolve("memory.sq8");
        t0 = System.nanoTime();
        MappedSq8Memory.convert(shards, file);
        double convertS = (System.nanoTime() - t0) / 1e9;
        root.put("convert_s", convertS).put("file_bytes", Files.size(file));
        System.out.printf("converted %d shards into %s (%.2f GB) in %.1f s (%.0f MB/s of float32 read)%n",
                shards.size(), file, Files.size(file) / 1e9, convertS, m * dim * 4 / 1e6 / convertS);
        CpuBackend engine = CpuBackend.sharedSq8();
        RetrievalParams params = new RetrievalParams(0.125f, 10);
        ArrayNode cases = root.putArray("cases");
        memory(root.putObject("memory_before_open"), "before open");
        try (MappedSq8Memory mem = MappedSq8Memory.open(file)) {
            memory(root.putObject("memory_after_open"), "after open");
            // the JIT first, on a prefix that stays in the page cache, so that first calls time the disk, not C2
            long warm = Math.min(m, 200_000);
            for (int b : batches) {
                try (FloatMatrix q = RandomMatrices.uniform(b, dim, seed + 999)) {
                    Timing.warmUp(() -> engine.retrievePartial(mem, 0, warm, q, params).finish(), 2, 60);
                }
            }
            for (double sd : sizes) {
                long size = (long) sd;
                for (int b : batches) {
                    try (FloatMatrix q = RandomMatrices.uniform(b, dim, seed + 1000 + b)) {
                        long c0 = System.nanoTime();
                        engine.retrievePartial(mem, 0, size, q, params).finish();
                        double coldMs = (System.nanoTime() - c0) / 1e6;
                        Timing.Stats t = Timing.measure(() -> engine.retrievePartial(mem, 0, size, q, params).finish(),
                                0, 1, reps, 60);
                        double gb = (double) size * dim / 1e9;
                        ObjectNode c = t.putInto(cases.addObject().put("M", size).put("B", b).put("first_call_ms", coldMs));
                        c.put("GBps", gb / (t.medianMs() / 1e3))
                                .put("fraction_of_read_bandwidth", gb / (t.medianMs() / 1e3) / readGbs)
                                .put("ms_per_million_patterns", t.medianMs() / (size / 1e6));
                        memory(c.putObject("memory"), null);
                        System.out.printf("  M=%,d B=%d: %s (first call %s), %.2f GB/s of codes (%.0f%% of read), "
                                        + "%.2f ms per 10^6 patterns%n", size, b, t.describe(), Timing.ms(coldMs),
                                gb / (t.medianMs() / 1e3), 100 * gb / (t.medianMs() / 1e3) / readGbs,
                                t.medianMs() / (size / 1e6));
                    }
                }
            }
            memory(root.putObject("memory_after_retrieval"), "after the retrievals");
        } finally {
            if (!keep) {
                Files.deleteIfExists(file);
                for (Path p : made) {
                    Files.deleteIfExists(p);
                }
            }
        }
        return root;
    }

    private boolean matches(Path p, long n) {
        try {
            Npy.Header h = Npy.readHeader(p);
            return h.descr().equals("<f4") && h.shape().length == 2 && h.shape()[0] == n && h.shape()[1] == dim;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * RssAnon, RssFile (mapped files count here), RssShmem from /proc/self/status, and the heap in use after a GC,
     * in MB. The Java heap's committed pages count as anonymous memory.
     */
    static void memory(ObjectNode n, String label) {
        System.gc();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                for (String key : new String[] {"RssAnon", "RssFile", "RssShmem", "VmRSS"}) {
                    if (line.startsWith(key + ":")) {
                        n.put(key + "_MB", Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0);
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            n.put("rss", "not available (" + e.getMessage() + ")");
        }
        Runtime r = Runtime.getRuntime();
        n.put("heap_used_MB", (r.totalMemory() - r.freeMemory()) / 1048576.0).put("heap_max_MB", r.maxMemory() / 1048576.0);
        if (label != null) {
            System.out.printf("memory %s: anonymous %.0f MB, file-backed %.0f MB, heap in use %.0f MB%n", label,
                    n.path("RssAnon_MB").asDouble(), n.path("RssFile_MB").asDouble(), n.path("heap_used_MB").asDouble());
        }
    }
}
