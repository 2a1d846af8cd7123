package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.cpu.CpuBackend;
import dev.engram.tensor.FloatMatrix;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.IntStream;

/** What a benchmark prints about the machine it ran on, and the machine's own streaming-read bandwidth. */
final class Machine {
    private Machine() {
    }

    /** The project folder: {@code -Dengram.home} (set by the launcher), else the working directory. */
    static Path home() {
        return Path.of(System.getProperty("engram.home", ".")).toAbsolutePath().normalize();
    }

    static ObjectNode describe(ObjectMapper json) {
        ObjectNode n = json.createObjectNode();
        n.put("cpu", procField("/proc/cpuinfo", "model name", System.getProperty("os.arch")));
        n.put("cores", Runtime.getRuntime().availableProcessors());
        String mem = procField("/proc/meminfo", "MemTotal", "?");
        try {
            mem = String.format("%.1f GiB", Long.parseLong(mem.replaceAll("[^0-9]", "")) / 1048576.0);
        } catch (NumberFormatException ignored) {
            // keep the raw text
        }
        n.put("memory", mem);
        n.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        n.put("jdk", System.getProperty("java.vm.name") + " " + Runtime.version());
        n.put("vector", CpuBackend.shared().describe());
        return n;
    }

    /** {@link #describe} and one line about it on stdout. */
    static ObjectNode describeAndPrint(ObjectMapper json) {
        ObjectNode m = describe(json);
        System.out.printf("machine: %s, %d cores, %s; JDK %s; %s%n", m.get("cpu").asText(), m.get("cores").asInt(),
                m.get("memory").asText(), m.get("jdk").asText(), m.get("vector").asText());
        return m;
    }

    private static String procField(String file, String key, String fallback) {
        try {
            for (String line : Files.readAllLines(Path.of(file))) {
                if (line.startsWith(key)) {
                    return line.substring(line.indexOf(':') + 1).strip();
                }
            }
        } catch (IOException | RuntimeException ignored) {
            // not Linux: fall through
        }
        return fallback;
    }

    /**
     * Streaming read bandwidth of this machine in GB/s: all cores sum disjoint parts of a 512 MB off-heap buffer
     * with vector loads; best of 5 passes. The yardstick for memory-bound retrieval (B = 1).
     */
    static double readBandwidthGBs() {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        long floats = 128L << 20;
        int threads = Runtime.getRuntime().availableProcessors();
        try (FloatMatrix buf = FloatMatrix.allocate(floats / 1024, 1024)) {
            MemorySegment seg = buf.segment();
            IntStream.range(0, threads).parallel().forEach(t -> seg.asSlice(seg.byteSize() / threads * t,
                    seg.byteSize() / threads).fill((byte) 1));
            double best = 0;
            for (int pass = 0; pass < 5; pass++) {
                long t0 = System.nanoTime();
                double sum = IntStream.range(0, threads).parallel().mapToDouble(t -> {
                    long per = seg.byteSize() / threads;
                    long start = per * t;
                    long end = start + per;
                    FloatVector a0 = FloatVector.zero(s);
                    FloatVector a1 = a0;
                    long step = 2L * s.vectorByteSize();
                    for (long o = start; o + step <= end; o += step) {
                        a0 = a0.add(FloatVector.fromMemorySegment(s, seg, o, ByteOrder.LITTLE_ENDIAN));
                        a1 = a1.add(FloatVector.fromMemorySegment(s, seg, o + s.vectorByteSize(), ByteOrder.LITTLE_ENDIAN));
                    }
                    return a0.add(a1).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
                }).sum();
                double sec = (System.nanoTime() - t0) / 1e9;
                if (sum != 0) {
                    best = Math.max(best, seg.byteSize() / 1e9 / sec);
                }
            }
            return best;
        }
    }
}
