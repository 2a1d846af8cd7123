package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The bench commands with their peers: a stand-in Python that prints what peerlib.py prints for a peer on the
 * reference BLAS (no Python needed), peerlib's BLAS classification of /proc/PID/maps texts (Python, no torch), and
 * the BLAS a real PyTorch loads (skipped where /usr/bin/python3 has no torch).
 */
class PeerBenchTest {
    private static final String PYTHON = "/usr/bin/python3";
    private static final String REFERENCE_LIB = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0";

    @TempDir
    Path dir;

    /** A stand-in interpreter: "-c import ..." succeeds; running a peer script prints the peer's fixed lines. */
    private Path fakePython(Map<String, String> linesByScript) throws IOException {
        StringBuilder sh = new StringBuilder("#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then exit 0; fi\ncase \"$(basename \"$1\")\" in\n");
        linesByScript.forEach((script, lines) -> sh.append(script).append(") cat <<'EOF'\n").append(lines)
                .append("\nEOF\n;;\n"));
        sh.append("esac\n");
        Path py = dir.resolve("python");
        Files.writeString(py, sh.toString());
        Files.setPosixFilePermissions(py, PosixFilePermissions.fromString("rwx------"));
        Path peers = Files.createDirectories(dir.resolve("home/bench/peers"));
        for (String script : linesByScript.keySet()) {
            Files.writeString(peers.resolve(script), "# stand-in\n");
        }
        return py;
    }

    /** Runs the CLI with engram.home at the stand-in tree; returns stdout. */
    private String execute(String... args) {
        String home = System.getProperty("engram.home");
        PrintStream out = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setProperty("engram.home", dir.resolve("home").toString());
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, EngramCli.commandLine().execute(args));
        } finally {
            System.setOut(out);
            if (home == null) {
                System.clearProperty("engram.home");
            } else {
                System.setProperty("engram.home", home);
            }
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    private static String peerLine(String peer, String computes, String blas, String lib, String figures) {
        return "{\"peer\": \"" + peer + "\", \"computes\": \"" + computes + "\", \"threads\": 2, \"version\": \"X 1.0\","
                + " \"blas\": \"" + blas + "\", \"blas_library\": \"" + lib + "\", \"blas_threads\": 1, " + figures + "}";
    }

    @Test
    void retrievalBenchPrintsNoRatioAgainstAPeerOnTheReferenceBlas() throws Exception {
        Path py = fakePython(Map.of(
                "torch_retrieval.py", peerLine("torch", "output, entropy, confidence, top-k", "reference",
                        REFERENCE_LIB, "\"B\": 1, \"M\": 4000, \"d\": 8, \"ms\": 50.0, \"min_ms\": 49.0, \"reps\": 1"),
                "faiss_topk.py", peerLine("faiss", "top-k", "openblas",
                        "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
                        "\"B\": 1, \"M\": 4000, \"d\": 8, \"ms\": 40.0, \"min_ms\": 39.0, \"reps\": 1")));
        Path out = dir.resolve("results");
        String stdout = execute("bench", "retrieval", "--cases", "1x4000x8", "--engines", "cpu", "--reps", "3", "--python",
                py.toString(), "--out", out.toString());
        assertTrue(stdout.contains("cpu vs torch (output, entropy, confidence, top-k): no ratio"), stdout);
        assertFalse(stdout.matches("(?s).*cpu is [0-9.]+× torch.*"), stdout);
        assertTrue(stdout.matches("(?s).*cpu is [0-9.]+× faiss \\(top-k\\).*"), stdout);

        JsonNode root = new ObjectMapper().readTree(out.resolve("retrieval-latest.json").toFile());
        JsonNode ratios = root.get("cases").get(0).get("ratios");
        assertFalse(ratios.has("cpu_vs_torch"), ratios.toString());
        assertTrue(ratios.has("cpu_vs_torch_withheld"), ratios.toString());
        double cpuMs = root.get("cases").get(0).get("engines").get(0).get("ms").asDouble();
        assertEquals(40.0 / cpuMs, ratios.get("cpu_vs_faiss").asDouble(), 1e-9);
        // the strongest peer is the fastest one a ratio may be reported against: faiss, not the refused torch
        assertEquals("faiss", root.get("cases").get(0).get("strongest_peer").get("peer").asText());
        assertEquals(40.0 / cpuMs, ratios.get("cpu_vs_strongest").asDouble(), 1e-9);
        JsonNode torch = root.get("peers").get(0);
        assertEquals("torch", torch.get("peer").asText());
        assertEquals("reference", torch.get("blas").asText());
        assertEquals(REFERENCE_LIB, torch.get("blas_library").asText());
        JsonNode torchCase = root.get("cases").get(0).get("peers").get("torch");
        assertEquals("reference", torchCase.get("blas").asText());
        assertEquals(1, torchCase.get("blas_threads").asInt());
        assertEquals(2, torchCase.get("threads").asInt());
        JsonNode faiss = root.get("cases").get(0).get("peers").get("faiss");
        assertEquals("openblas", faiss.get("blas").asText());
        assertEquals(2, faiss.get("threads").asInt());
        assertEquals(40.0, faiss.get("ms").asDouble());
    }

    @Test
    void ensembleBenchPrintsNoRatioAgainstAPeerOnTheReferenceBlas() throws Exception {
        Path py = fakePython(Map.of("torch_leapfrog.py", peerLine("torch", "leapfrog with autograd gradients",
                "reference", REFERENCE_LIB, "\"N\": 200, \"steps\": 2, \"seconds\": 0.01, \"reps\": 1,"
                        + " \"traj_steps_per_s\": 40000.0")));
        Path out = dir.resolve("results");
        String stdout = execute("bench", "ensemble", "--cases", "200x2", "--engines", "cpu", "--reps", "1", "--python",
                py.toString(), "--out", out.toString());
        assertTrue(stdout.contains("cpu vs torch (leapfrog with autograd gradients): no ratio"), stdout);
        assertFalse(stdout.matches("(?s).*cpu is [0-9.]+× torch.*"), stdout);
        JsonNode root = new ObjectMapper().readTree(out.resolve("ensemble-latest.json").toFile());
        JsonNode c = root.get("cases").get(0);
        assertFalse(c.get("ratios").has("cpu_vs_torch"), c.toString());
        assertTrue(c.get("ratios").has("cpu_vs_torch_withheld"), c.toString());
        assertEquals("reference", root.get("peers").get(0).get("blas").asText());
        assertEquals(40000.0, c.get("peers").get("torch").get("traj_steps_per_s").asDouble());
    }

    private static Path peersDir() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("bench/peers/peerlib.py"))) {
                return p.resolve("bench/peers");
            }
        }
        throw new AssertionError("bench/peers/peerlib.py not found above " + Path.of("").toAbsolutePath());
    }

    /** Runs /usr/bin/python3 with the given arguments and stdin, in bench/peers; returns stdout (exit 0 asserted). */
    private static String python(String stdin, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(PYTHON));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(peersDir().toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1"); // no __pycache__ left in bench/peers
        pb.environment().putAll(env);
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python did not finish");
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    private static boolean pythonHas(String module) throws InterruptedException {
        if (!Files.isExecutable(Path.of(PYTHON))) {
            return false;
        }
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import " + module).redirectErrorStream(true).start();
            p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static String maps(String... libraries) {
        StringBuilder s = new StringBuilder("55d0c0a00000-55d0c0a01000 r--p 00000000 08:01 1 /usr/bin/python3.11\n")
                .append("7f00aa000000-7f00aa100000 rw-p 00000000 00:00 0 \n")
                .append("7f00ab000000-7f00ab100000 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libtorch_cpu.so.1.13.0\n");
        long a = 0x7f00ac000000L;
        for (String lib : libraries) {
            s.append(String.format("%x-%x r-xp 00000000 08:01 3 %s%n", a, a + 0x1000, lib));
            a += 0x100000;
        }
        return s.toString();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "netlib alone|reference|/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0|" + REFERENCE_LIB,
            "openblas-pthread|openblas|/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so|"
                    + "/usr/lib/x86_64-linux-gnu/openblas-pthread/liblapack.so.3 /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so",
            "blis|blis|/usr/lib/x86_64-linux-gnu/blis-pthread/libblas.so.3|/usr/lib/x86_64-linux-gnu/blis-pthread/libblas.so.3",
            "mkl|mkl|/opt/intel/lib/libmkl_rt.so.2|/opt/intel/lib/libmkl_rt.so.2",
            "no BLAS mapped|unknown||/usr/lib/x86_64-linux-gnu/libc.so.6",
    })
    void peerlibNamesTheBlasAmongTheMappedLibraries(String name, String kind, String library, String mapped)
            throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is not installed");
        JsonNode r = new ObjectMapper().readTree(python(maps(mapped.split(" ")), Map.of(), "peerlib.py", "--classify"));
        assertEquals(kind, r.get("blas").asText(), r.toString());
        assertEquals(library == null ? "null" : library, r.get("blas_library").asText(), r.toString());
    }

    /** The BLAS a real PyTorch calls, and netlib's when the loader is pointed at it (where libblas3 is installed). */
    @Test
    void peerlibNamesTheBlasPyTorchReallyCalls() throws Exception {
        assumeTrue(pythonHas("torch"), PYTHON + " has no torch (Debian: apt-get install python3-torch)");
        String probe = "import json, torch, peerlib\ntorch.rand(64, 64) @ torch.rand(64, 64)\n"
                + "print(json.dumps(peerlib.loaded_blas(('libtorch_cpu',))))\n";
        JsonNode here = new ObjectMapper().readTree(python(probe, Map.of(), "-"));
        assertFalse(here.get("blas").asText().equals("unknown"), here.toString());
        assertTrue(Files.exists(Path.of(here.get("blas_library").asText())), here.toString());
        Path netlib = Path.of("/usr/lib/x86_64-linux-gnu/blas");
        assumeTrue(Files.isDirectory(netlib), "netlib's libblas3 is not installed: the reference case is not tried");
        // libtorch_cpu's sgemm_ now comes from netlib even though OpenBLAS's liblapack.so.3 may be mapped beside it
        JsonNode ref = new ObjectMapper().readTree(python(probe, Map.of("LD_LIBRARY_PATH", netlib.toString()), "-"));
        assertEquals("reference", ref.get("blas").asText(), ref.toString());
        assertEquals(1, ref.get("blas_threads").asInt());
        assertTrue(ref.get("blas_library").asText().startsWith(netlib + "/"), ref.toString());
    }
}
