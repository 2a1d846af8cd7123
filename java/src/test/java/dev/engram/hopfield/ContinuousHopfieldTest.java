package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ContinuousHopfieldTest {

    @Test
    void energyOfASinglePatternIsTheClosedForm() {
        // M = 1: lse(β, x·ξ) = x·ξ, so E = ½‖ξ‖² − x·ξ + ½‖x‖² = ½‖ξ − x‖², and one update lands on x
        try (FloatMatrix x = FloatMatrix.of(new float[] {1, 2, -2}, 1, 3); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix xi = FloatMatrix.of(new float[] {0.5f, 0, 1}, 1, 3)) {
            ContinuousHopfield net = new ContinuousHopfield(mem, Backends.select("reference"), 0.7f);
            double expected = 0.5 * (0.25 + 4 + 9);
            assertEquals(expected, net.energy(xi)[0], 1e-6);
            try (FloatMatrix next = net.update(xi)) {
                assertArrayEquals(new float[] {1, 2, -2}, next.row(0), 1e-6f);
                assertEquals(0, net.energy(next)[0], 1e-6);
            }
        }
    }

    @Test
    void defaultBetaIsOneOverRootD() {
        try (FloatMatrix x = RandomMatrices.uniform(5, 16, 1); PatternMemory mem = PatternMemory.of(x)) {
            assertEquals(0.25f, new ContinuousHopfield(mem, Backends.select("reference")).beta());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"reference", "cpu"})
    void retrievesAStoredPatternFromANoisyProbeAtLargeBeta(String name) {
        Backend engine = Backends.select(name);
        int m = 200;
        int d = 32;
        try (FloatMatrix x = RandomMatrices.gaussian(m, d, 3); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix noise = RandomMatrices.gaussian(2, d, 4); FloatMatrix probe = FloatMatrix.allocate(2, d)) {
            int[] targets = {17, 150};
            for (int b = 0; b < 2; b++) {
                for (int j = 0; j < d; j++) {
                    probe.set(b, j, x.get(targets[b], j) + 0.3f * noise.get(b, j));
                }
            }
            ContinuousHopfield net = new ContinuousHopfield(mem, engine, 2f);
            try (ContinuousHopfield.Retrieval r = net.retrieve(probe, 20, 1e-6)) {
                assertTrue(r.converged(), "converged in " + r.steps() + " steps");
                assertTrue(r.steps() <= 3, "a well-separated pattern is retrieved in one or two updates: " + r.steps());
                for (int b = 0; b < 2; b++) {
                    assertArrayEquals(x.row(targets[b]), r.states().row(b), 1e-4f);
                }
            }
        }
    }

    @Test
    void badInputIsRejectedByName() {
        Backend engine = Backends.select("reference");
        try (FloatMatrix x = RandomMatrices.uniform(4, 3, 1); FloatMatrix v = RandomMatrices.uniform(4, 2, 2);
             PatternMemory mem = PatternMemory.of(x); PatternMemory kv = PatternMemory.of(x, v);
             PatternMemory empty = PatternMemory.create(3); FloatMatrix bad = FloatMatrix.allocate(1, 4);
             FloatMatrix nan = FloatMatrix.of(new float[] {1, Float.NaN, 0}, 1, 3)) {
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new ContinuousHopfield(kv, engine, 1f))
                    .getMessage().contains("dv=2"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new ContinuousHopfield(empty, engine, 1f))
                    .getMessage().contains("empty"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> new ContinuousHopfield(mem, engine, 0f))
                    .getMessage().contains("beta must be a finite number > 0, got 0.0"));
            ContinuousHopfield net = new ContinuousHopfield(mem, engine, 1f);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> net.retrieve(bad, 3, 0))
                    .getMessage().contains("d=4"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> net.retrieve(nan, 3, 0))
                    .getMessage().contains("NaN"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> net.retrieve(x, 0, 0))
                    .getMessage().contains("maxSteps must be >= 1, got 0"));
            assertTrue(assertThrows(IllegalArgumentException.class, () -> net.retrieve(x, 1, -1))
                    .getMessage().contains("tolerance"));
        }
    }
}
