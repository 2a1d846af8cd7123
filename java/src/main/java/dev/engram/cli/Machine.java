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

    /**
     * {@link #describe} with what the suite measures about the machine before it times anything: the streaming read
     * bandwidth ({@link #readBandwidthGBs}) and the float32 FMA peak ({@link #float32PeakGflops}) over all cores,
     * the GPU ({@code nvidia-smi -L}, "none" when there is none) and Engram's version; printed as two lines.
     */
    static ObjectNode measureAndPrint(ObjectMapper json) {
        ObjectNode m = describeAndPrint(json);
        double read = readBandwidthGBs();
        double peak = float32PeakGflops();
        m.put("measured_read_GBps", read).put("measured_f32_peak_GFLOPps", peak).put("gpu", gpu())
                .put("engram", VersionProvider.VERSION).put("load_average", loadAverage());
        System.out.printf("measured on all cores: streaming read %.1f GB/s, float32 FMA peak %.0f GFLOP/s; GPU: %s;"
                + " load average %s%n", read, peak, m.get("gpu").asText(), m.get("load_average").asText());
        return m;
    }

    /** The 1-, 5- and 15-minute load averages from /proc/loadavg ("?" elsewhere): how shared the machine was. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** The GPUs {@code nvidia-smi -L} lists, or "none". */
    static String gpu() {
        try {
            Process p = new ProcessBuilder("nvidia-smi", "-L").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            return p.waitFor() == 0 && !out.isEmpty() ? out.replace('\n', ';') : "none";
        } catch (IOException e) {
            return "none";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "none";
        }
    }

    /**
     * The machine's float32 peak in GFLOP/s: one thread per core runs 8 independent vector FMA chains (enough to
     * cover the FMA latency) for 2^22 iterations; best of 5 passes (the first ones warm up the JIT). The yardstick
     * for compute-bound work (large batches, ensembles, training).
     */
    static double float32PeakGflops() {
        int threads = Runtime.getRuntime().availableProcessors();
        int iters = 1 << 22;
        double best = 0;
        for (int pass = 0; pass < 5; pass++) {
            float[] sums = new float[threads];
            Thread[] workers = new Thread[threads];
            long t0 = System.nanoTime();
            for (int t = 0; t < threads; t++) {
                int id = t;
                workers[t] = new Thread(() -> sums[id] = fmaChains(iters, 1f + id * 1e-7f));
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
            float check = 0;
            for (float v : sums) {
                check += v;
            }
            if (check != 0) {
                best = Math.max(best, threads * (double) iters * 8 * 2 * FloatVector.SPECIES_PREFERRED.length() / sec / 1e9);
            }
        }
        return best;
    }

    private static float fmaChains(int iters, float seed) {
        VectorSpecies<Float> s = FloatVector.SPECIES_PREFERRED;
        FloatVector m = FloatVector.broadcast(s, 0.999999f);
        FloatVector c = FloatVector.broadcast(s, 1e-7f);
        FloatVector a0 = FloatVector.broadcast(s, seed);
        FloatVector a1 = a0.add(1f);
        FloatVector a2 = a0.add(2f);
        FloatVector a3 = a0.add(3f);
        FloatVector a4 = a0.add(4f);
        FloatVector a5 = a0.add(5f);
        FloatVector a6 = a0.add(6f);
        FloatVector a7 = a0.add(7f);
        for (int i = 0; i < iters; i++) {
            a0 = a0.fma(m, c);
            a1 = a1.fma(m, c);
            a2 = a2.fma(m, c);
            a3 = a3.fma(m, c);
            a4 = a4.fma(m, c);
            a5 = a5.fma(m, c);
            a6 = a6.fma(m, c);
            a7 = a7.fma(m, c);
        }
        return a0.add(a1).add(a2.add(a3)).add(a4.add(a5).add(a6.add(a7)))
                .reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
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
