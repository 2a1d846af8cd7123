package dev.engram.engine.ffm;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.SoftmaxBounds;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import dev.engram.testing.CaseInFailure;
import dev.engram.testing.SeededCases;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native partials obey the RetrievalPartial monoid, and in the same convention as the Java engines (t relative
 * to m): partials of any split of the memory, some from the emulated kernels and some from the reference engine,
 * merged in any order, give the unsplit reference result. Cases: the corners of every range, then 40 random draws,
 * each at logit scales 1, 1e3, 1e9 and 1e30. Skipped, with the reason, when libengram_emu was not built.
 */
@ExtendWith(CaseInFailure.class)
class NativeMergeProperties {
    private static final double[] LOGIT_SCALES = {1, 1e3, 1e9, 1e30};
    private static NativeBackend emu;

    /** Each case skips with the reason when the library is missing (a skipped container would not show it). */
    @BeforeEach
    void open() {
        NativeTestSupport.assumeEmu();
        if (emu == null) {
            emu = NativeBackend.emulated(NativeStorage.F32, new LaunchShape(64, 64, 4));
        }
    }

    @AfterAll
    static void close() {
        if (emu != null) {
            emu.close();
            emu = null;
        }
    }

    /** @param beta the beta before the logit scale, in [e⁻³, e³] */
    record SplitCase(int m, int d, int b, int pieces, int k, float beta, double logitScale, long seed) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "M=%d d=%d B=%d pieces=%d k=%d beta=%.4g scale=%.0e seed=%d",
                    m, d, b, pieces, k, beta, logitScale, seed);
        }
    }

    static Stream<SplitCase> splitCases() {
        float lo = (float) Math.exp(-3);
        float hi = (float) Math.exp(3);
        List<Object[]> sizes = new ArrayList<>(List.of(
                new Object[] {1, 1, 1, 1, 1, lo},        // M = 1, d = 1, B = 1, k = M
                new Object[] {1, 24, 9, 6, 1, hi},       // more pieces than rows
                new Object[] {4, 3, 2, 6, 4, hi},        // k = M, more pieces than rows
                new Object[] {300, 1, 1, 6, 8, lo},      // largest M, d = 1
                new Object[] {300, 24, 9, 1, 8, hi}));   // largest everything, one piece
        Random rnd = SeededCases.generator(0x6E6D6572L);
        for (int i = 0; i < 40; i++) {
            int m = SeededCases.between(rnd, 1, 300);
            sizes.add(new Object[] {m, SeededCases.between(rnd, 1, 24), SeededCases.between(rnd, 1, 9),
                    SeededCases.between(rnd, 1, 6), Math.min(m, SeededCases.between(rnd, 1, 8)),
                    (float) Math.exp(SeededCases.between(rnd, -3.0, 3.0))});
        }
        List<SplitCase> out = new ArrayList<>();
        for (Object[] s : sizes) {
            long seed = rnd.nextLong();
            for (double scale : LOGIT_SCALES) {
                out.add(new SplitCase((int) s[0], (int) s[1], (int) s[2], (int) s[3], (int) s[4], (float) s[5], scale,
                        seed));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("splitCases")
    void anySplitInAnyOrderMixedWithJavaPartialsEqualsTheWhole(SplitCase c) {
        ReferenceBackend reference = new ReferenceBackend();
        int m = c.m();
        int b = c.b();
        int k = c.k();
        Random rnd = new Random(c.seed());
        float beta = (float) (c.beta() * c.logitScale());
        try (FloatMatrix x = RandomMatrices.uniform(m, c.d(), c.seed());
             FloatMatrix q = RandomMatrices.uniform(b, c.d(), c.seed() + 1);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult whole = reference.retrieve(mem, q, params);
            TreeSet<Integer> cuts = new TreeSet<>(List.of(0, m));
            while (cuts.size() < Math.min(c.pieces() + 1, m + 1)) {
                cuts.add(1 + rnd.nextInt(Math.max(1, m - 1)));
            }
            List<Integer> cut = new ArrayList<>(cuts);
            List<RetrievalPartial> parts = new ArrayList<>();
            for (int i = 0; i + 1 < cut.size(); i++) {
                boolean fromNative = i % 2 == 0 || rnd.nextBoolean();
                parts.add((fromNative ? emu : reference).retrievePartial(mem, cut.get(i), cut.get(i + 1), q, params));
            }
            Collections.shuffle(parts, rnd);
            RetrievalPartial acc = RetrievalPartial.empty(b, c.d(), k);
            for (RetrievalPartial p : parts) {
                acc = rnd.nextBoolean() ? acc.merge(p) : p.merge(acc);
            }
            assertEquals(m, acc.count());
            RetrievalResult merged = acc.finish();
            SoftmaxBounds.assertSoftmaxAverage(merged, x, "merged");
            float[] wo = whole.output();
            float[] mo = merged.output();
            double xNorm = maxRowNorm(x);
            for (int qi = 0; qi < b; qi++) {
                double outTol;
                double hTol;
                if (c.logitScale() == 1) {
                    // float32 logits and sums in the native pieces: the assertAgrees tolerances, written out for d ≤ 24
                    outTol = 3e-5 * (1 + beta);
                    hTol = 3e-5 * (1 + beta) * (1 + Math.log(m));
                } else {
                    // logit error δ: 4× a float32 dot product's d·2⁻²⁴·‖q‖·‖x‖, times beta; |v| ≤ 1 (see SoftmaxBounds)
                    double delta = 4 * beta * c.d() * Math.pow(2, -24) * rowNorm(q, qi) * xNorm;
                    outTol = 3e-5 + SoftmaxBounds.weightChangeBound(x, q, qi, beta, delta);
                    hTol = 3e-5 + SoftmaxBounds.nearOneHotEntropyBound(x, q, qi, beta, delta);
                }
                for (int j = 0; j < c.d(); j++) {
                    int i = qi * c.d() + j;
                    assertEquals(wo[i], mo[i], outTol, "output[" + qi + "][" + j + "]");
                }
                if (Double.isFinite(hTol)) { // otherwise the range check above is what holds
                    assertEquals(whole.entropy()[qi], merged.entropy()[qi], hTol, "entropy[" + qi + "]");
                }
            }
            float[] ws = whole.topScores();
            float[] ms = merged.topScores();
            for (int i = 0; i < ws.length; i++) {
                assertEquals(ws[i], ms[i], 2e-6, "top score " + i);
            }
        }
    }

    record OrderCase(int m, double logitScale, long seed) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "M=%d scale=%.0e seed=%d", m, logitScale, seed);
        }
    }

    static Stream<OrderCase> orderCases() {
        Random rnd = SeededCases.generator(0x6F726465L);
        List<Integer> ms = new ArrayList<>(List.of(40, 200));
        for (int i = 0; i < 15; i++) {
            ms.add(SeededCases.between(rnd, 40, 200));
        }
        List<OrderCase> out = new ArrayList<>();
        for (int m : ms) {
            long seed = rnd.nextLong();
            for (double scale : LOGIT_SCALES) {
                out.add(new OrderCase(m, scale, seed));
            }
        }
        return out.stream();
    }

    /** Same native partials, merged in every rotation of their order: the same results (double merge). */
    @ParameterizedTest(name = "{0}")
    @MethodSource("orderCases")
    void nativeMergeOrderDoesNotMatter(OrderCase c) {
        int m = c.m();
        try (FloatMatrix x = RandomMatrices.uniform(m, 8, c.seed());
             FloatMatrix q = RandomMatrices.uniform(3, 8, c.seed() + 1);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalParams params = new RetrievalParams((float) (2 * c.logitScale()), 5);
            int third = m / 3;
            List<RetrievalPartial> parts = List.of(emu.retrievePartial(mem, 0, third, q, params),
                    emu.retrievePartial(mem, third, 2 * third, q, params),
                    emu.retrievePartial(mem, 2 * third, m, q, params));
            RetrievalResult first = null;
            for (int r = 0; r < 3; r++) {
                RetrievalPartial acc = RetrievalPartial.empty(3, 8, 5);
                for (int i = 0; i < 3; i++) {
                    acc = acc.merge(parts.get((i + r) % 3));
                }
                RetrievalResult res = acc.finish();
                SoftmaxBounds.assertSoftmaxAverage(res, x, "rotation " + r);
                if (first == null) {
                    first = res;
                } else {
                    assertArrayEquals(first.topIndices(), res.topIndices());
                    for (int i = 0; i < first.output().length; i++) {
                        assertEquals(first.output()[i], res.output()[i], 1e-6 * (1 + Math.abs(first.output()[i])));
                    }
                    for (int i = 0; i < 3; i++) {
                        assertTrue(Math.abs(first.entropy()[i] - res.entropy()[i]) <= 1e-6, "entropy " + i);
                    }
                }
            }
        }
    }

    private static double rowNorm(FloatMatrix m, int r) {
        double s = 0;
        for (int c = 0; c < m.cols(); c++) {
            s += (double) m.get(r, c) * m.get(r, c);
        }
        return Math.sqrt(s);
    }

    private static double maxRowNorm(FloatMatrix m) {
        double best = 0;
        for (int r = 0; r < m.rows(); r++) {
            best = Math.max(best, rowNorm(m, r));
        }
        return best;
    }
}
