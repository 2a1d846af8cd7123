package dev.engram.cli;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Real NumPy writes the inputs (np.save) and checks the outputs of {@code engram retrieve} against its own
 * softmax/entropy/top-k. Runs where a python3 with NumPy exists, is skipped with the reason otherwise.
 */
class NumpyInteropTest {
    @TempDir
    Path dir;

    private static final String PYTHON = "/usr/bin/python3";

    private static boolean numpyAvailable() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import numpy").redirectErrorStream(true).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (Exception e) {
            return false;
        }
    }

    private int python(String script) throws Exception {
        Path f = dir.resolve("check.py");
        Files.writeString(f, script, StandardCharsets.UTF_8);
        Process p = new ProcessBuilder(PYTHON, f.toString()).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(120, TimeUnit.SECONDS);
        System.out.print(out);
        return p.exitValue();
    }

    @Test
    void numpyInputsAndOutputsRoundTrip() throws Exception {
        Assumptions.assumeTrue(numpyAvailable(), PYTHON + " with NumPy is not installed (apt-get install python3-numpy)");
        assertEquals(0, python("""
                import numpy as np
                rng = np.random.default_rng(0)
                np.save('x.npy', rng.standard_normal((500, 7)).astype(np.float32))
                np.save('v.npy', rng.standard_normal((500, 3)))          # float64: converted on load
                np.save('q.npy', rng.standard_normal((9, 7)).astype(np.float32))
                """));
        int code = EngramCli.commandLine().execute("retrieve", "--memory", dir.resolve("x.npy").toString(),
                "--values", dir.resolve("v.npy").toString(), "--queries", dir.resolve("q.npy").toString(),
                "--out", dir.resolve("out").toString(), "--beta", "1.7", "--k", "3", "--backend", "cpu");
        assertEquals(0, code);
        assertEquals(0, python("""
                import numpy as np, sys
                X = np.load('x.npy').astype(np.float64); V = np.load('v.npy'); Q = np.load('q.npy').astype(np.float64)
                s = 1.7 * Q @ X.T
                p = np.exp(s - s.max(1, keepdims=True)); p /= p.sum(1, keepdims=True)
                H = -(p * np.log(p)).sum(1)
                cos = (Q @ X.T) / np.linalg.norm(Q, axis=1)[:, None] / np.linalg.norm(X, axis=1)[None, :]
                top = np.argsort(-cos, axis=1, kind='stable')[:, :3]
                out = np.load('out/output.npy'); ent = np.load('out/entropy.npy'); conf = np.load('out/confidence.npy')
                idx = np.load('out/topk_indices.npy'); sc = np.load('out/topk_scores.npy')
                assert out.dtype == np.float32 and out.shape == (9, 3), (out.dtype, out.shape)
                assert idx.dtype == np.int64 and idx.shape == (9, 3), (idx.dtype, idx.shape)
                assert ent.shape == (9,) and conf.shape == (9,)
                assert np.abs(out - p @ V).max() < 1e-4, np.abs(out - p @ V).max()
                assert np.abs(ent - H).max() < 1e-4, np.abs(ent - H).max()
                assert np.abs(conf - (1 - H / np.log(500))).max() < 1e-4
                assert (idx == top).all(), (idx, top)
                assert np.abs(sc - np.take_along_axis(cos, top, 1)).max() < 1e-5
                print('numpy agrees')
                """));
    }
}
