package dev.engram.engine.cpu;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalAssertions;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The bfloat16 copy of a changing memory is updated row by row: after random replacements and appends it converts
 * exactly the replaced rows it held plus the appended ones, and retrieval equals the reference engine on the updated
 * memory rounded to bfloat16.
 */
class Bf16RowUpdateTest {
    private static final int LANES = CpuBackend.vectorLanes();
    /** The row path and the tile path (forced), with small chunks so updates land in many chunks. */
    private static final CpuBackend[] ENGINES = {
            new CpuBackend(new CpuBackend.Config(2, 33, LANES, 1000, 50), CpuBackend.Storage.BF16),
            new CpuBackend(new CpuBackend.Config(3, 7, LANES, 0, 5), CpuBackend.Storage.BF16)};
    private static final float BETA = 1.5f;
    private static final RetrievalParams PARAMS = new RetrievalParams(BETA, 4);

    @AfterAll
    static void close() {
        for (CpuBackend e : ENGINES) {
            e.close();
        }
    }

    @ParameterizedTest(name = "M0={0} d={1} separate values={2} seed={3}")
    @CsvSource({"300, 8, false, 1", "517, 33, false, 2", "260, 16, true, 3", "5, 5, false, 4"})
    void onlyChangedRowsAreConvertedAndRetrievalEqualsTheReference(int m0, int d, boolean separate, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        try (FloatMatrix x = RandomMatrices.uniform(m0, d, seed); FloatMatrix v = RandomMatrices.gaussian(m0, 3, seed + 1);
             PatternMemory mem = separate ? PatternMemory.of(x, v) : PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.uniform(5, d, seed + 2)) {
            for (CpuBackend engine : ENGINES) {
                check(engine, mem, q, "first use");
            }
            long[] converted = {m0, m0};
            for (int round = 0; round < 5; round++) {
                long held = mem.size();
                int appended = rnd.nextInt(3) == 0 ? 0 : 1 + rnd.nextInt(50);
                if (appended > 0) {
                    try (FloatMatrix nx = RandomMatrices.uniform(appended, d, seed * 100 + round);
                         FloatMatrix nv = RandomMatrices.gaussian(appended, 3, seed * 100 + round + 50)) {
                        if (separate) {
                            mem.append(nx, nv);
                        } else {
                            mem.append(nx);
                        }
                    }
                }
                TreeSet<Long> replacedHeld = new TreeSet<>();
                int replacements = 1 + rnd.nextInt(30);
                for (int i = 0; i < replacements; i++) {
                    long row = rnd.nextLong(mem.size());
                    mem.replace(row, randomRow(d, rnd), separate ? randomRow(3, rnd) : null);
                    if (row < held) {
                        replacedHeld.add(row);
                    }
                }
                String label = "round " + round + " (" + replacements + " replacements, " + appended + " appended)";
                for (int e = 0; e < ENGINES.length; e++) {
                    check(ENGINES[e], mem, q, label);
                    converted[e] += replacedHeld.size() + appended;
                    assertEquals(converted[e], ENGINES[e].bf16RowsConverted(mem), label + ": rows converted");
                }
            }
        }
    }

    @Test
    void aCopyFurtherBehindThanTheChangeLogConvertsEveryRowOnce() {
        SplittableRandom rnd = new SplittableRandom(9);
        CpuBackend engine = ENGINES[0];
        try (FloatMatrix x = RandomMatrices.uniform(120, 8, 10); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.uniform(2, 8, 11)) {
            check(engine, mem, q, "first use");
            for (int i = 0; i <= PatternMemory.CHANGE_LOG_CAPACITY; i++) {
                mem.replace(rnd.nextLong(120), randomRow(8, rnd), null);
            }
            check(engine, mem, q, "after the log overran");
            assertEquals(240, engine.bf16RowsConverted(mem));
        }
    }

    /** Retrieval through the engine equals the reference engine on the memory's patterns rounded to bfloat16. */
    private static void check(CpuBackend engine, PatternMemory mem, FloatMatrix q, String label) {
        RetrievalResult actual = engine.retrieve(mem, q, PARAMS);
        try (FloatMatrix xr = mem.patterns().copy()) {
            for (long i = 0; i < xr.rows(); i++) {
                for (int j = 0; j < xr.cols(); j++) {
                    xr.set(i, j, Bf16Patterns.widen(Bf16Patterns.round(xr.get(i, j), i, j)));
                }
            }
            try (PatternMemory rounded = mem.valuesArePatterns() ? PatternMemory.of(xr) : PatternMemory.of(xr, mem.values())) {
                RetrievalResult expected = new ReferenceBackend().retrieve(rounded, q, PARAMS);
                RetrievalAssertions.assertAgrees(expected, actual, rounded, q, BETA, engine.config() + " " + label);
            }
        }
    }

    private static float[] randomRow(int width, SplittableRandom rnd) {
        float[] r = new float[width];
        for (int i = 0; i < width; i++) {
            r[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return r;
    }
}
