package dev.engram.engine.ffm;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AfterContainer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The native partials obey the RetrievalPartial monoid, and in the same convention as the Java engines (t relative
 * to m): partials of any split of the memory, some from the emulated kernels and some from the reference engine,
 * merged in any order, give the unsplit reference result.
 */
@AddLifecycleHook(RequiresEmulatedEngine.class)
class NativeMergeProperties {
    private static NativeBackend emu;

    private static NativeBackend emu() {
        if (emu == null) {
            emu = NativeBackend.emulated(NativeStorage.F32, new LaunchShape(64, 64, 4));
        }
        return emu;
    }

    @AfterContainer
    static void close() {
        if (emu != null) {
            emu.close();
            emu = null;
        }
    }

    @Property(tries = 40)
    void anySplitInAnyOrderMixedWithJavaPartialsEqualsTheWhole(@ForAll @IntRange(min = 1, max = 300) int m,
                                                                @ForAll @IntRange(min = 1, max = 24) int d,
                                                                @ForAll @IntRange(min = 1, max = 9) int b,
                                                                @ForAll @IntRange(min = 1, max = 6) int pieces,
                                                                @ForAll long seed) {
        NativeBackend engine = emu();
        ReferenceBackend reference = new ReferenceBackend();
        Random rnd = new Random(seed);
        int k = Math.min(m, 1 + rnd.nextInt(8));
        float beta = (float) Math.exp(rnd.nextDouble() * 6 - 3);
        try (FloatMatrix x = RandomMatrices.uniform(m, d, seed); FloatMatrix q = RandomMatrices.uniform(b, d, seed + 1);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult whole = reference.retrieve(mem, q, params);
            TreeSet<Integer> cuts = new TreeSet<>(List.of(0, m));
            while (cuts.size() < Math.min(pieces + 1, m + 1)) {
                cuts.add(1 + rnd.nextInt(Math.max(1, m - 1)));
            }
            List<Integer> c = new ArrayList<>(cuts);
            List<RetrievalPartial> parts = new ArrayList<>();
            for (int i = 0; i + 1 < c.size(); i++) {
                boolean fromNative = i % 2 == 0 || rnd.nextBoolean();
                parts.add((fromNative ? engine : reference).retrievePartial(mem, c.get(i), c.get(i + 1), q, params));
            }
            Collections.shuffle(parts, rnd);
            RetrievalPartial acc = RetrievalPartial.empty(b, d, k);
            for (RetrievalPartial p : parts) {
                acc = rnd.nextBoolean() ? acc.merge(p) : p.merge(acc);
            }
            assertEquals(m, acc.count());
            RetrievalResult merged = acc.finish();
            // float32 logits and sums in the native pieces: the assertAgrees tolerances, written out for d ≤ 24
            float[] wo = whole.output();
            float[] mo = merged.output();
            for (int i = 0; i < wo.length; i++) {
                assertEquals(wo[i], mo[i], 3e-5 * (1 + beta), "output[" + i + "]");
            }
            for (int i = 0; i < b; i++) {
                assertEquals(whole.entropy()[i], merged.entropy()[i], 3e-5 * (1 + beta) * (1 + Math.log(m)), "entropy");
            }
            float[] ws = whole.topScores();
            float[] ms = merged.topScores();
            for (int i = 0; i < ws.length; i++) {
                assertEquals(ws[i], ms[i], 2e-6, "top score " + i);
            }
        }
    }

    /** Same native partials, merged in every rotation of their order: bit-identical results (double merge). */
    @Property(tries = 15)
    void nativeMergeOrderDoesNotMatter(@ForAll @IntRange(min = 40, max = 200) int m, @ForAll long seed) {
        NativeBackend engine = emu();
        try (FloatMatrix x = RandomMatrices.uniform(m, 8, seed); FloatMatrix q = RandomMatrices.uniform(3, 8, seed + 1);
             PatternMemory mem = PatternMemory.of(x)) {
            RetrievalParams params = new RetrievalParams(2f, 5);
            int third = m / 3;
            List<RetrievalPartial> parts = List.of(engine.retrievePartial(mem, 0, third, q, params),
                    engine.retrievePartial(mem, third, 2 * third, q, params),
                    engine.retrievePartial(mem, 2 * third, m, q, params));
            RetrievalResult first = null;
            for (int r = 0; r < 3; r++) {
                RetrievalPartial acc = RetrievalPartial.empty(3, 8, 5);
                for (int i = 0; i < 3; i++) {
                    acc = acc.merge(parts.get((i + r) % 3));
                }
                RetrievalResult res = acc.finish();
                if (first == null) {
                    first = res;
                } else {
                    assertArrayEquals(first.topIndices(), res.topIndices());
                    for (int i = 0; i < first.output().length; i++) {
                        assertEquals(first.output()[i], res.output()[i], 1e-6 * (1 + Math.abs(first.output()[i])));
                    }
                }
            }
        }
    }
}
