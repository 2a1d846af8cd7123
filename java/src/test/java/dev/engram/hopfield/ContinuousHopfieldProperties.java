package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Invariants of the continuous Hopfield network on any engine. */
class ContinuousHopfieldProperties {

    @Provide
    Arbitrary<Backend> engines() {
        return Arbitraries.of(new ReferenceBackend(), CpuBackend.shared());
    }

    /**
     * Ramsauer et al., Theorem 1: the update is a CCCP step, so E(ξ_{t+1}) ≤ E(ξ_t). States are float32, so E is
     * compared with a slack of 1e-5·(1 + |E|) for the rounding of ξ to float after each step.
     */
    @Property(tries = 60)
    void energyNeverIncreasesAlongUpdates(@ForAll("engines") Backend engine,
                                          @ForAll @IntRange(min = 1, max = 60) int m,
                                          @ForAll @IntRange(min = 1, max = 12) int d,
                                          @ForAll @IntRange(min = 1, max = 4) int b,
                                          @ForAll @DoubleRange(min = -3, max = 3) double logBeta,
                                          @ForAll @DoubleRange(min = 0.1, max = 3) double scale,
                                          @ForAll long seed) {
        float beta = (float) Math.exp(logBeta);
        try (FloatMatrix x = RandomMatrices.gaussian(m, d, seed); FloatMatrix xi = RandomMatrices.gaussian(b, d, seed + 1)) {
            scaleInPlace(x, scale);
            scaleInPlace(xi, 2 * scale);
            try (PatternMemory mem = PatternMemory.of(x)) {
                ContinuousHopfield net = new ContinuousHopfield(mem, engine, beta);
                FloatMatrix state = xi.copy();
                double[] e = net.energy(state);
                for (int step = 0; step < 8; step++) {
                    FloatMatrix next = net.update(state);
                    state.close();
                    state = next;
                    double[] e2 = net.energy(state);
                    for (int q = 0; q < b; q++) {
                        assertTrue(e2[q] <= e[q] + 1e-5 * (1 + Math.abs(e[q])),
                                "step " + step + " query " + q + ": energy rose from " + e[q] + " to " + e2[q]);
                        // E is bounded below by 0 (Ramsauer et al., Lemma A1 with the ½·max‖x‖² term)
                        assertTrue(e2[q] >= -1e-4 * (1 + Math.abs(e[q])), "energy " + e2[q] + " below 0");
                    }
                    e = e2;
                }
                state.close();
            }
        }
    }

    /** One update is attention with V = X: ξ' = Σ_i softmax(β·X·ξ)_i·x_i, computed here in plain double. */
    @Property(tries = 40)
    void oneStepEqualsAttention(@ForAll("engines") Backend engine,
                                @ForAll @IntRange(min = 1, max = 80) int m,
                                @ForAll @IntRange(min = 1, max = 16) int d,
                                @ForAll @DoubleRange(min = 0.05, max = 8) double beta,
                                @ForAll long seed) {
        try (FloatMatrix x = RandomMatrices.uniform(m, d, seed); FloatMatrix xi = RandomMatrices.uniform(3, d, seed + 7);
             PatternMemory mem = PatternMemory.of(x)) {
            ContinuousHopfield net = new ContinuousHopfield(mem, engine, (float) beta);
            float beta32 = net.beta();
            try (FloatMatrix out = net.update(xi)) {
                for (int q = 0; q < 3; q++) {
                    double[] s = new double[m];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int i = 0; i < m; i++) {
                        double dot = 0;
                        for (int j = 0; j < d; j++) {
                            dot += (double) x.get(i, j) * xi.get(q, j);
                        }
                        s[i] = beta32 * dot;
                        max = Math.max(max, s[i]);
                    }
                    double z = 0;
                    for (int i = 0; i < m; i++) {
                        s[i] = Math.exp(s[i] - max);
                        z += s[i];
                    }
                    for (int j = 0; j < d; j++) {
                        double v = 0;
                        for (int i = 0; i < m; i++) {
                            v += s[i] / z * x.get(i, j);
                        }
                        // |x| ≤ 1: float32 scores over d ≤ 16 terms move the weights by ~β·d·2⁻²⁴ relative
                        assertEquals(v, out.get(q, j), 2e-5, "query " + q + " component " + j);
                    }
                }
            }
        }
    }

    private static void scaleInPlace(FloatMatrix m, double s) {
        for (long r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                m.set(r, c, (float) (m.get(r, c) * s));
            }
        }
    }
}
