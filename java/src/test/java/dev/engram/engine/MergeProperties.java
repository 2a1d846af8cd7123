package dev.engram.engine;

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
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Retrieval is a monoid: merging the partials of any split of the memory, in any order, gives the unsplit result.
 * Cases: the corners of every range (M = 1, d = 1, k = M, more pieces than rows, the largest sizes), then 60 random
 * draws; each on both Java engines and at logit scales 1, 1e3, 1e9 and 1e30 (beta multiplied by the scale, so
 * {@code beta·q·x} reaches ±1e31; the answer must stay finite and merge exactly at any finite scale).
 */
@ExtendWith(CaseInFailure.class)
class MergeProperties {
    static final double[] LOGIT_SCALES = {1, 1e3, 1e9, 1e30};
    private static final int RANDOM_DRAWS = 60;

    /**
     * One case; everything else (the matrices, the cuts, the merge order) follows from {@code seed}.
     *
     * @param beta the beta before the logit scale, in [e⁻³, e³]
     */
    record Case(String engine, int m, int d, int b, int pieces, int k, float beta, double logitScale, long seed) {
        float scaledBeta() {
            return (float) (beta * logitScale);
        }

        Backend backend() {
            return engine.equals("cpu") ? CpuBackend.shared() : new ReferenceBackend();
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s M=%d d=%d B=%d pieces=%d k=%d beta=%.4g scale=%.0e seed=%d",
                    engine, m, d, b, pieces, k, beta, logitScale, seed);
        }
    }

    static Stream<Case> cases() {
        float lo = (float) Math.exp(-3);
        float hi = (float) Math.exp(3);
        // m, d, b, pieces, k, beta: the boundary of every range
        List<Object[]> sizes = new ArrayList<>(List.of(
                new Object[] {1, 1, 1, 1, 1, lo},          // M = 1, d = 1, B = 1, k = M
                new Object[] {1, 40, 20, 8, 1, hi},        // more pieces than rows (M = 1)
                new Object[] {3, 5, 2, 8, 3, hi},          // k = M, more pieces than rows
                new Object[] {6, 3, 4, 6, 6, lo},          // every piece one row, k = M
                new Object[] {400, 1, 1, 8, 6, hi},        // largest M, d = 1
                new Object[] {400, 40, 20, 1, 1, lo},      // largest everything, one piece
                new Object[] {400, 40, 20, 8, 6, hi}));
        Random rnd = SeededCases.generator(0x6D657267L);
        for (int i = 0; i < RANDOM_DRAWS; i++) {
            int m = SeededCases.between(rnd, 1, 400);
            sizes.add(new Object[] {m, SeededCases.between(rnd, 1, 40), SeededCases.between(rnd, 1, 20),
                    SeededCases.between(rnd, 1, 8), Math.min(m, SeededCases.between(rnd, 1, 6)),
                    (float) Math.exp(SeededCases.between(rnd, -3.0, 3.0))});
        }
        List<Case> out = new ArrayList<>();
        long seed = 1;
        for (Object[] s : sizes) {
            for (double scale : LOGIT_SCALES) {
                for (String engine : List.of("reference", "cpu")) {
                    out.add(new Case(engine, (int) s[0], (int) s[1], (int) s[2], (int) s[3], (int) s[4], (float) s[5],
                            scale, seed * 7919 + rnd.nextInt(1 << 20)));
                }
            }
            seed++;
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void anySplitInAnyOrderEqualsTheWhole(Case c) {
        Backend engine = c.backend();
        int m = c.m();
        int b = c.b();
        int k = c.k();
        Random rnd = new Random(c.seed());
        try (FloatMatrix x = RandomMatrices.uniform(m, c.d(), c.seed());
             FloatMatrix q = RandomMatrices.uniform(b, c.d(), c.seed() + 1);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalParams params = new RetrievalParams(c.scaledBeta(), k);
            RetrievalResult whole = engine.retrieve(mem, q, params);
            TreeSet<Integer> cuts = new TreeSet<>(List.of(0, m));
            while (cuts.size() < Math.min(c.pieces() + 1, m + 1)) {
                cuts.add(1 + rnd.nextInt(m - 1 > 0 ? m - 1 : 1));
            }
            List<Integer> cut = new ArrayList<>(cuts);
            List<RetrievalPartial> parts = new ArrayList<>();
            for (int i = 0; i + 1 < cut.size(); i++) {
                parts.add(engine.retrievePartial(mem, cut.get(i), cut.get(i + 1), q, params));
            }
            Collections.shuffle(parts, rnd);
            RetrievalPartial acc = RetrievalPartial.empty(b, c.d(), k);
            for (RetrievalPartial p : parts) {
                acc = rnd.nextBoolean() ? acc.merge(p) : p.merge(acc);
            }
            RetrievalResult merged = acc.finish();
            assertEquals(m, acc.count());
            SoftmaxBounds.assertSoftmaxAverage(whole, x, "whole");
            SoftmaxBounds.assertSoftmaxAverage(merged, x, "merged");
            // Same engine, same float arithmetic per piece; only the merge order of double sums differs.
            float[] wo = whole.output();
            float[] mo = merged.output();
            for (int i = 0; i < wo.length; i++) {
                assertEquals(wo[i], mo[i], 1e-5 * (1 + Math.abs(wo[i])), "output[" + i + "]");
            }
            for (int i = 0; i < b; i++) {
                assertEquals(whole.entropy()[i], merged.entropy()[i], 1e-5, "entropy");
            }
            // Top-k: the same candidates with the same scores (cosines, independent of beta). The Vector API may sum
            // a dot product's lanes in a different order once the JIT compiles the loop (reduceLanes is unordered
            // for floats), so a score can move by an ulp between two calls and swap near-ties; compare scores to
            // 1e-6 and indices off ties.
            float[] ws = whole.topScores();
            float[] ms = merged.topScores();
            long[] wi = whole.topIndices();
            long[] mi = merged.topIndices();
            for (int i = 0; i < ws.length; i++) {
                assertEquals(ws[i], ms[i], 1e-6, "top-k score " + i);
                boolean tie = (i > 0 && Math.abs(ws[i] - ws[i - 1]) <= 1e-6)
                        || (i + 1 < ws.length && Math.abs(ws[i] - ws[i + 1]) <= 1e-6)
                        || (i % k == k - 1); // the k-th may tie with an unseen (k+1)-th
                if (!tie) {
                    assertEquals(wi[i], mi[i], "top-k index " + i);
                }
            }
        }
    }
}
