package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The README's "Associative memory models" example, kept compiling and running here. */
class ReadmeExampleTest {

    @Test
    void readmeExample(@TempDir Path dir) throws Exception {
        Backend engine = Backends.select("auto");
        long t0 = 1_700_000_000_000L;
        long day = 86_400_000L;
        try (PatternStore store = new PatternStore(PatternStore.Config.defaults(4, 100_000), engine)) {
            store.insert(new float[] {0.8f, -0.1f, 0.3f, 1.2f}, +0.012, t0);            // features, next return, date
            store.insert(new float[] {0.82f, -0.12f, 0.29f, 1.19f}, +0.006, t0 + day); // cosine > 0.95: merged
            store.insert(new float[] {-0.5f, 0.9f, 0.1f, -0.3f}, -0.015, t0 + 2 * day);
            PatternStore.Prediction p = store.query(new float[] {0.79f, -0.1f, 0.31f, 1.2f}, 2);
            System.out.printf("predicted %.4f, confidence %.2f, nearest: %s%n", p.prediction(), p.confidence(),
                    p.neighbors().getFirst());
            store.save(dir.resolve("store.eps"));                                      // atomic, versioned, checksummed

            assertEquals(2, store.size());
            assertEquals(0.7 * 0.012 + 0.3 * 0.006, p.neighbors().getFirst().outcome(), 1e-6);
            assertEquals(t0 + day, p.neighbors().getFirst().dateMs());
            assertTrue(p.prediction() > 0.009 && p.confidence() > 0.9, p.toString());
        }

        try (FloatMatrix x = RandomMatrices.gaussian(1000, 32, 1); PatternMemory memory = PatternMemory.of(x);
             FloatMatrix probe = FloatMatrix.of(x.row(7), 1, 32)) {
            probe.set(0, 0, probe.get(0, 0) + 0.5f);                                   // a damaged copy of pattern 7
            ContinuousHopfield net = new ContinuousHopfield(memory, engine, 2f);
            try (ContinuousHopfield.Retrieval r = net.retrieve(probe, 10, 1e-6)) {
                System.out.printf("retrieved in %d steps, energy %.4f%n", r.steps(), net.energy(r.states())[0]);
                assertArrayEquals(x.row(7), r.states().row(0), 1e-4f);
            }
        }
    }
}
