package dev.engram.hopfield;

import dev.engram.engine.Attention;
import dev.engram.engine.AttentionForward;
import dev.engram.engine.AttentionGradient;
import dev.engram.engine.Backend;
import dev.engram.engine.Capability;
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

    /** The README's training-attention example ("Training the dense memory and Hopfield pooling on the engines"). */
    @Test
    void readmeTrainingAttentionExample() {
        Backend engine = Backends.select(Capability.TRAINING, "auto");           // cpu: float32 tiles on every core
        Attention a = new Attention(1, 2, 3, 2, 1,                               // 1 head, 2 queries, 3 rows, dk 2, dv 1
                new double[] {1, 0, 0, 1},                                       // queries, H×B×dk
                new double[] {1, 0, 0, 1, 1, 1},                                 // keys, H×M×dk
                new double[] {10, 20, 30},                                       // values, H×M×dv
                4.0);                                                            // β
        AttentionForward f = engine.attend(a);                                   // outputs, max, log-sum-exp, entropy
        AttentionGradient g = engine.attendBackward(a, f, new double[] {1, 1}); // ∂L/∂o = 1 for both queries
        System.out.printf("o = %s, dL/dbeta = %.4f%n", java.util.Arrays.toString(f.output()), g.beta());

        // query (1, 0) scores 1, 0, 1: weights e⁴/(2e⁴ + 1) on rows 0 and 2; query (0, 1) scores 0, 1, 1
        double e4 = Math.exp(4);
        assertEquals((40 * e4 + 20) / (2 * e4 + 1), f.output()[0], 1e-4);
        assertEquals((50 * e4 + 10) / (2 * e4 + 1), f.output()[1], 1e-4);
        // ∂L/∂β against the double reference engine (float32 tiles: 1e-5 relative)
        AttentionGradient ref = Backends.select(Capability.TRAINING, "reference").attendBackward(a,
                Backends.select(Capability.TRAINING, "reference").attend(a), new double[] {1, 1});
        assertEquals(ref.beta(), g.beta(), 1e-5 * Math.abs(ref.beta()));
    }
}
