package dev.engram.cli;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RetrieveCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesNpyResultsThatMatchTheReferenceEngine() throws Exception {
        try (FloatMatrix x = RandomMatrices.uniform(300, 12, 1); FloatMatrix v = RandomMatrices.gaussian(300, 3, 2);
             FloatMatrix q = RandomMatrices.uniform(7, 12, 3)) {
            Npy.write(dir.resolve("x.npy"), x);
            Npy.write(dir.resolve("v.npy"), v);
            Npy.write(dir.resolve("q.npy"), q);
            Path out = dir.resolve("out");
            int code = EngramCli.commandLine().execute("retrieve", "--memory", dir.resolve("x.npy").toString(),
                    "--values", dir.resolve("v.npy").toString(), "--queries", dir.resolve("q.npy").toString(),
                    "--out", out.toString(), "--beta", "2.5", "--k", "4", "--backend", "cpu");
            assertEquals(0, code);
            RetrievalResult expected;
            try (PatternMemory mem = PatternMemory.of(x, v)) {
                expected = new ReferenceBackend().retrieve(mem, q, new RetrievalParams(2.5f, 4));
            }
            try (FloatMatrix o = Npy.readFloat(out.resolve("output.npy"))) {
                assertEquals(7, o.rows());
                assertEquals(3, o.cols());
                float[] a = o.toArray();
                for (int i = 0; i < a.length; i++) {
                    assertEquals(expected.output()[i], a[i], 1e-5);
                }
            }
            assertArrayEquals(expected.topIndices(), Npy.readLong(out.resolve("topk_indices.npy")));
            assertArrayEquals(new long[] {7, 4}, Npy.readHeader(out.resolve("topk_scores.npy")).shape());
            assertArrayEquals(new long[] {7}, Npy.readHeader(out.resolve("confidence.npy")).shape());
            assertTrue(Files.exists(out.resolve("entropy.npy")));
        }
    }

    @Test
    void badInputIsReportedWithExitCode2() throws Exception {
        try (FloatMatrix x = RandomMatrices.uniform(10, 4, 1); FloatMatrix q = RandomMatrices.uniform(2, 5, 3)) {
            Npy.write(dir.resolve("x.npy"), x);
            Npy.write(dir.resolve("q.npy"), q);
            StringWriter err = new StringWriter();
            var cl = EngramCli.commandLine();
            cl.setErr(new PrintWriter(err));
            int code = cl.execute("retrieve", "--memory", dir.resolve("x.npy").toString(),
                    "--queries", dir.resolve("q.npy").toString(), "--out", dir.resolve("o").toString());
            assertEquals(2, code);
            assertTrue(err.toString().contains("d=5"), err.toString());
            assertTrue(Files.notExists(dir.resolve("o")), "nothing written on failure");
            err.getBuffer().setLength(0);
            code = cl.execute("retrieve", "--memory", dir.resolve("x.npy").toString(),
                    "--queries", dir.resolve("x.npy").toString(), "--out", dir.resolve("o").toString(), "--beta", "-1");
            assertEquals(2, code);
            assertTrue(err.toString().contains("beta"), err.toString());
        }
    }
}
