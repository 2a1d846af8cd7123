package dev.engram.engine;

import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Retrieval is a monoid: merging the partials of any split of the memory, in any order, gives the unsplit result. */
class MergeProperties {

    @Provide
    Arbitrary<Backend> engines() {
        return Arbitraries.of(new ReferenceBackend(), CpuBackend.shared());
    }

    @Property(tries = 60)
    void anySplitInAnyOrderEqualsTheWhole(@ForAll("engines") Backend engine,
                                          @ForAll @IntRange(min = 1, max = 400) int m,
                                          @ForAll @IntRange(min = 1, max = 40) int d,
                                          @ForAll @IntRange(min = 1, max = 20) int b,
                                          @ForAll @IntRange(min = 1, max = 8) int pieces,
                                          @ForAll long seed) {
        Random rnd = new Random(seed);
        int k = Math.min(m, 1 + rnd.nextInt(6));
        float beta = (float) Math.exp(rnd.nextDouble() * 6 - 3);
        try (FloatMatrix x = RandomMatrices.uniform(m, d, seed); FloatMatrix q = RandomMatrices.uniform(b, d, seed + 1);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult whole = engine.retrieve(mem, q, params);
            TreeSet<Integer> cuts = new TreeSet<>(List.of(0, m));
            while (cuts.size() < Math.min(pieces + 1, m + 1)) {
                cuts.add(1 + rnd.nextInt(m - 1 > 0 ? m - 1 : 1));
            }
            List<Integer> c = new ArrayList<>(cuts);
            List<RetrievalPartial> parts = new ArrayList<>();
            for (int i = 0; i + 1 < c.size(); i++) {
                parts.add(engine.retrievePartial(mem, c.get(i), c.get(i + 1), q, params));
            }
            Collections.shuffle(parts, rnd);
            RetrievalPartial acc = RetrievalPartial.empty(b, d, k);
            for (RetrievalPartial p : parts) {
                acc = rnd.nextBoolean() ? acc.merge(p) : p.merge(acc);
            }
            RetrievalResult merged = acc.finish();
            assertEquals(m, acc.count());
            // Same engine, same float arithmetic per piece; only the merge order of double sums differs.
            float[] wo = whole.output();
            float[] mo = merged.output();
            for (int i = 0; i < wo.length; i++) {
                assertEquals(wo[i], mo[i], 1e-5 * (1 + Math.abs(wo[i])), "output[" + i + "]");
            }
            for (int i = 0; i < b; i++) {
                assertEquals(whole.entropy()[i], merged.entropy()[i], 1e-5, "entropy");
            }
            // Top-k: the same candidates with the same scores. The Vector API may sum a dot product's lanes in a
            // different order once the JIT compiles the loop (reduceLanes is unordered for floats), so a score can
            // move by an ulp between two calls and swap near-ties; compare scores to 1e-6 and indices off ties.
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
