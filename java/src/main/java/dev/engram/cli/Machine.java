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
     * Streaming read bandwidth of this machine in GB/s: one thread per core sums its part of a 512 MB off-heap buffer
     * with vector loads into four independent accumulators; best of 8 passes (the first ones warm up the JIT). The
     * yardstick for memory-bound retrieval (B = 1).
     */
    static double readBandwidthGBs() {
        int threads = Runtime.getRuntime().availableProcessors();
        try (FloatMatrix buf = FloatMatrix.allocate((128L << 20) / 1024, 1024)) {
            MemorySegment seg = buf.segment();
            long per = seg.byteSize() / threads / 256 * 256;
            seg.fill((byte) 1);
            double best = 0;
            for (int pass = 0; pass < 8; pass++) {
                double[] sums = new double[threads];
                Thread[] workers = new Thread[threads];
                long t0 = System.nanoTime();
                for (int t = 0; t < threads; t++) {
                    int id = t;
                    workers[t] = new Thread(() -> sums[id] = sum(seg, per * id, per * (id + 1)));
                    workers[t].start();
                }
                for (Thread w : workers) {
                    try {
                        w.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return best;
                    }
                }
                double sec = (System.nanoTime() - t0) / 1e9;
                if (java.util.Arrays.stream(sums).sum() != 0) {
                    best = Math.max(best, per * threads / 1e9 / sec);
                }
            }
            return best;
        }
    }

    private static double sum(MemorySegment seg, long from, long to) {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        int vb = s.vectorByteSize();
        FloatVector a0 = FloatVector.zero(s);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        for (long o = from; o + 4L * vb <= to; o += 4L * vb) {
            a0 = a0.add(FloatVector.fromMemorySegment(s, seg, o, ByteOrder.LITTLE_ENDIAN));
            a1 = a1.add(FloatVector.fromMemorySegment(s, seg, o + vb, ByteOrder.LITTLE_ENDIAN));
            a2 = a2.add(FloatVector.fromMemorySegment(s, seg, o + 2L * vb, ByteOrder.LITTLE_ENDIAN));
            a3 = a3.add(FloatVector.fromMemorySegment(s, seg, o + 3L * vb, ByteOrder.LITTLE_ENDIAN));
        }
        return a0.add(a1).add(a2.add(a3)).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
    }
}
