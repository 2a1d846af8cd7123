package dev.engram.engine.cpu;

import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
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

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SQ8 storage of the cpu engine: its top-k equals the float32 engine's bit for bit (indices and cosines) on the
 * row path and the tile path, and its output and entropy stay within the bounds {@link CpuBackend.Storage#SQ8}
 * states against the reference engine; a range whose candidates cannot prove the top-k is scanned again; changed
 * rows are encoded one by one and a row outside the ranges re-derives them.
 */
class Sq8StorageTest {
    private static final int LANES = CpuBackend.vectorLanes();
    /** Row path always (rowPathMaxBatch 1000) and tile path always (0), small chunks and pieces. */
    private static final CpuBackend.Config ROW = new CpuBackend.Config(2, 33, LANES, 1000, 50);
    private static final CpuBackend.Config TILE = new CpuBackend.Config(3, 7, LANES, 0, 5);
    private static final CpuBackend[] F32 = {new CpuBackend(ROW), new CpuBackend(TILE)};
    private static final CpuBackend[] SQ8 = {new CpuBackend(ROW, CpuBackend.Storage.SQ8),
            new CpuBackend(TILE, CpuBackend.Storage.SQ8)};

    @AfterAll
    static void close() {
        for (CpuBackend e : F32) {
            e.close();
        }
        for (CpuBackend e : SQ8) {
            e.close();
        }
    }

    @ParameterizedTest(name = "M={0} d={1} B={2} separate values={3} beta={4} k={5}")
    @CsvSource({"3000, 32, 1, false, 1.0, 10", "2500, 20, 3, false, 4.0, 5", "1800, 64, 9, true, 0.5, 10",
            "700, 7, 2, false, 2.0, 1", "1200, 33, 4, true, 1.5, 0", "40, 16, 2, false, 1.0, 40"})
    void topKEqualsTheFloat32EnginesAndOutputIsWithinTheStatedBound(int m, int d, int b, boolean separate,
                                                                     float beta, int k) {
        RetrievalParams params = new RetrievalParams(beta, k);
        try (FloatMatrix x = RandomMatrices.gaussian(m, d, m + d); FloatMatrix v = RandomMatrices.gaussian(m, 5, 3);
             PatternMemory mem = separate ? PatternMemory.of(x, v) : PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.gaussian(b, d, 7 * m + b)) {
            RetrievalResult ref = new ReferenceBackend().retrieve(mem, q, params);
            for (int e = 0; e < SQ8.length; e++) {
                String label = (e == 0 ? "row path" : "tile path");
                RetrievalResult f32 = F32[e].retrieve(mem, q, params);
                RetrievalResult sq = SQ8[e].retrieve(mem, q, params);
                assertTopKEqual(f32, sq, label);
                assertWithinBound(SQ8[e], mem, q, beta, ref, sq, label);
            }
        }
    }

    /** Many exact ties at the top: more tied rows than candidates, so the bound cannot prove the top-k. */
    @Test
    void aRangeTheCandidatesCannotProveIsScannedAgain() {
        int d = 16;
        int m = 600;
        SplittableRandom rnd = new SplittableRandom(5);
        float[] target = row(d, rnd);
        float[] data = new float[m * d];
        for (int i = 0; i < m; i++) {
            float[] r = i % 3 == 0 ? target : row(d, rnd);  // 200 copies of the target
            System.arraycopy(r, 0, data, i * d, d);
        }
        RetrievalParams params = new RetrievalParams(1f, 5);
        try (FloatMatrix x = FloatMatrix.of(data, m, d); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = FloatMatrix.of(target, 1, d)) {
            for (int e = 0; e < SQ8.length; e++) {
                long before = SQ8[e].sq8Rescans();
                RetrievalResult sq = SQ8[e].retrieve(mem, q, params);
                assertTrue(SQ8[e].sq8Rescans() > before, "the tied candidates cannot prove the top-k");
                assertTopKEqual(F32[e].retrieve(mem, q, params), sq, "ties");
                assertArrayEquals(new long[] {0, 3, 6, 9, 12}, sq.topIndices(0), "the smallest tied indices");
            }
        }
    }

    @Test
    void changedRowsAreEncodedOneByOneAndARowOutsideTheRangesRebuilds() {
        int d = 8;
        SplittableRandom rnd = new SplittableRandom(11);
        RetrievalParams params = new RetrievalParams(1f, 3);
        CpuBackend sq8 = SQ8[0];
        try (FloatMatrix x = RandomMatrices.uniform(300, d, 12); PatternMemory mem = PatternMemory.of(x);
             FloatMatrix q = RandomMatrices.uniform(2, d, 13)) {
            assertTopKEqual(F32[0].retrieve(mem, q, params), sq8.retrieve(mem, q, params), "first use");
            assertArrayEquals(new long[] {300, 1}, sq8.sq8Encoded(mem));
            float[] inside = new float[d];  // uniform(-1, 1) rows: 0 is inside every range
            mem.replace(17, inside, null);
            assertTopKEqual(F32[0].retrieve(mem, q, params), sq8.retrieve(mem, q, params), "in-range replacement");
            assertArrayEquals(new long[] {301, 1}, sq8.sq8Encoded(mem), "one row encoded, no rebuild");
            float[] outside = row(d, rnd);
            outside[3] = 5f;
            mem.replace(40, outside, null);
            RetrievalResult after = sq8.retrieve(mem, q, params);
            assertTopKEqual(F32[0].retrieve(mem, q, params), after, "out-of-range replacement");
            assertArrayEquals(new long[] {601, 2}, sq8.sq8Encoded(mem), "ranges derived again, every row encoded");
            assertEquals(5f, sq8.sq8Ranges(mem)[1][3], "the new maximum of dimension 3");
        }
    }

    @Test
    void theSq8EngineRetrievesOnlyAndIsChosenByName() {
        assertEquals("cpu-sq8", Backends.select(Capability.RETRIEVAL, "cpu-sq8").name());
        assertThrows(IllegalArgumentException.class, () -> Backends.select(Capability.TRAINING, "cpu-sq8"));
    }

    private static void assertTopKEqual(RetrievalResult f32, RetrievalResult sq, String label) {
        for (int b = 0; b < f32.batch(); b++) {
            assertArrayEquals(f32.topIndices(b), sq.topIndices(b), label + ": top-k indices of query " + b);
            assertArrayEquals(f32.topScores(b), sq.topScores(b), label + ": top-k cosines of query " + b);
        }
    }

    /**
     * Output and entropy within the stated bounds of the reference engine's, widened by the float32 tolerance the
     * cpu engine is held to ({@link RetrievalAssertions}); and the SQ8 output does differ from the float32 one (the
     * comparison is not vacuous).
     */
    private static void assertWithinBound(CpuBackend engine, PatternMemory mem, FloatMatrix q, float beta,
                                          RetrievalResult ref, RetrievalResult sq, String label) {
        double[] eps = engine.sq8ScoreErrorBounds(mem, q);
        float[][] ranges = engine.sq8Ranges(mem);
        int dv = mem.valueDim();
        double ds = RetrievalAssertions.logitError(mem, q, beta);
        double vMax = 0;
        double[] vLo = new double[dv];
        double[] vHi = new double[dv];
        java.util.Arrays.fill(vLo, Double.POSITIVE_INFINITY);
        java.util.Arrays.fill(vHi, Double.NEGATIVE_INFINITY);
        for (long i = 0; i < mem.size(); i++) {
            for (int j = 0; j < dv; j++) {
                double v = mem.values().get(i, j);
                vLo[j] = Math.min(vLo[j], v);
                vHi[j] = Math.max(vHi[j], v);
                vMax = Math.max(vMax, Math.abs(v));
            }
        }
        double maxDiff = 0;
        for (int b = 0; b < q.rows(); b++) {
            double eta = beta * eps[b];
            double grow = Math.expm1(2 * eta);
            double sMin = Double.POSITIVE_INFINITY;
            double sMax = Double.NEGATIVE_INFINITY;
            for (long i = 0; i < mem.size(); i++) {
                double s = 0;
                for (int j = 0; j < mem.dim(); j++) {
                    s += (double) q.get(b, j) * mem.patterns().get(i, j);
                }
                sMin = Math.min(sMin, s);
                sMax = Math.max(sMax, s);
            }
            for (int j = 0; j < dv; j++) {
                double bound = mem.valuesArePatterns()
                        ? grow * (ranges[1][j] - ranges[0][j]) / 2 + ranges[2][j] / 2
                        : grow * (vHi[j] - vLo[j]) / 2;
                double tol = bound + 2e-5 * vMax + 4 * ds * vMax;
                double diff = Math.abs(ref.output(b)[j] - sq.output(b)[j]);
                maxDiff = Math.max(maxDiff, diff);
                assertTrue(diff <= tol, label + ": output[" + b + "][" + j + "] " + sq.output(b)[j] + " vs reference "
                        + ref.output(b)[j] + ": |diff| " + diff + " > bound " + tol);
            }
            double hBound = 2 * eta + grow * beta * (sMax - sMin) / 2 + 2e-5 + 4 * ds * (1 + Math.log(mem.size()));
            assertEquals(ref.entropy()[b], sq.entropy()[b], hBound, label + ": entropy of query " + b);
        }
        assertTrue(maxDiff > 0, label + ": the SQ8 output equals the reference exactly: nothing was tested");
    }

    private static float[] row(int d, SplittableRandom rnd) {
        float[] r = new float[d];
        for (int i = 0; i < d; i++) {
            r[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return r;
    }
}
