package dev.engram.hopfield;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import dev.engram.testing.CaseInFailure;
import dev.engram.testing.SeededCases;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Invariants of the continuous Hopfield network on both Java engines. Cases: the corners of every range, then 60
 * (energy) and 40 (attention) random draws, each on both engines.
 */
@ExtendWith(CaseInFailure.class)
class ContinuousHopfieldProperties {
    private static final List<String> ENGINES = List.of("reference", "cpu");

    private static Backend engine(String name) {
        return name.equals("cpu") ? CpuBackend.shared() : new ReferenceBackend();
    }

    record EnergyCase(String engine, int m, int d, int b, double logBeta, double scale, long seed) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s M=%d d=%d B=%d logBeta=%.4g scale=%.4g seed=%d",
                    engine, m, d, b, logBeta, scale, seed);
        }
    }

    static Stream<EnergyCase> energyCases() {
        List<double[]> sizes = new ArrayList<>();
        // m, d, b, logBeta, scale: every corner of the ranges [1, 60] × [1, 12] × [1, 4] × [−3, 3] × [0.1, 3]
        for (int corner = 0; corner < 32; corner++) {
            sizes.add(new double[] {(corner & 1) == 0 ? 1 : 60, (corner & 2) == 0 ? 1 : 12, (corner & 4) == 0 ? 1 : 4,
                    (corner & 8) == 0 ? -3 : 3, (corner & 16) == 0 ? 0.1 : 3});
        }
        Random rnd = SeededCases.generator(0x656E6572L);
        for (int i = 0; i < 60; i++) {
            sizes.add(new double[] {SeededCases.between(rnd, 1, 60), SeededCases.between(rnd, 1, 12),
                    SeededCases.between(rnd, 1, 4), SeededCases.between(rnd, -3.0, 3.0),
                    SeededCases.between(rnd, 0.1, 3.0)});
        }
        List<EnergyCase> out = new ArrayList<>();
        for (double[] s : sizes) {
            long seed = rnd.nextLong();
            for (String e : ENGINES) {
                out.add(new EnergyCase(e, (int) s[0], (int) s[1], (int) s[2], s[3], s[4], seed));
            }
        }
        return out.stream();
    }

    record AttentionCase(String engine, int m, int d, double beta, long seed) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s M=%d d=%d beta=%.4g seed=%d", engine, m, d, beta, seed);
        }
    }

    static Stream<AttentionCase> attentionCases() {
        List<double[]> sizes = new ArrayList<>();
        for (int corner = 0; corner < 8; corner++) { // [1, 80] × [1, 16] × [0.05, 8]
            sizes.add(new double[] {(corner & 1) == 0 ? 1 : 80, (corner & 2) == 0 ? 1 : 16,
                    (corner & 4) == 0 ? 0.05 : 8});
        }
        Random rnd = SeededCases.generator(0x61747465L);
        for (int i = 0; i < 40; i++) {
            sizes.add(new double[] {SeededCases.between(rnd, 1, 80), SeededCases.between(rnd, 1, 16),
                    SeededCases.between(rnd, 0.05, 8.0)});
        }
        List<AttentionCase> out = new ArrayList<>();
        for (double[] s : sizes) {
            long seed = rnd.nextLong();
            for (String e : ENGINES) {
                out.add(new AttentionCase(e, (int) s[0], (int) s[1], s[2], seed));
            }
        }
        return out.stream();
    }

    /**
     * Ramsauer et al., Theorem 1: the update is a CCCP step, so E(ξ_{t+1}) ≤ E(ξ_t). States are float32, so E is
     * compared with a slack of 1e-5·(1 + |E|) for the rounding of ξ to float after each step.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("energyCases")
    void energyNeverIncreasesAlongUpdates(EnergyCase c) {
        Backend engine = engine(c.engine());
        int m = c.m();
        int d = c.d();
        int b = c.b();
        double scale = c.scale();
        long seed = c.seed();
        float beta = (float) Math.exp(c.logBeta());
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
    @ParameterizedTest(name = "{0}")
    @MethodSource("attentionCases")
    void oneStepEqualsAttention(AttentionCase c) {
        Backend engine = engine(c.engine());
        int m = c.m();
        int d = c.d();
        double beta = c.beta();
        long seed = c.seed();
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
