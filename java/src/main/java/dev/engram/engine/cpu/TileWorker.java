package dev.engram.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;

/**
 * The batched path: vectors run along queries. Per chunk of C patterns, copied once from memory into L1/L2 and
 * reused by every query tile:
 * <pre>
 *   Sᵀ (C × tile)  = X_chunk · Q_tileᵀ                    (register-blocked micro-kernel)
 *   top-k          : cosᵀ = Sᵀ ∘ (1/‖x‖) ∘ (1/‖q‖) compared against each query's k-th best
 *   m_new          = max(m_run, beta·max_c Sᵀ[c])         (per query, vectorised)
 *   rescale group  : l, t, Oᵀ by e^(m_run − m_new) when the max moved
 *   Pᵀ             = exp(Zᵀ − m_new), Zᵀ = beta·Sᵀ rounded (≤ m_new);  l += Σ_c Pᵀ;  t += Σ_c Pᵀ·(Zᵀ − m_new)
 *   Oᵀ (dv × tile) += V_chunkᵀ · Pᵀ                        (same micro-kernel, V read column-wise)
 * </pre>
 * The B×M score matrix is never formed; X and V are read from memory once per call. Vectors run along queries, so
 * every sum of one query is a chain over c or over d whatever the vector width.
 */
final class TileWorker extends RangeWorker {
    private static final VectorSpecies<Float> S = CpuVectors.SPECIES;
    private static final int L = CpuVectors.LANES;

    private final int padded;
    private final int tile;
    private final boolean valuesArePatterns;
    private final float[] xc;
    private final float[] vc;
    private final float[] xInv;
    private final float[] s;
    private final float[] alphas = new float[L];

    private final boolean halfX;
    /** Where e^x is 0 in float32 by far (see processTile). */
    private static final float SHIFT_MIN = -128f;

    /** SQ8 mode: the quantised patterns (decoded while the chunk is copied), else null. */
    private final Sq8Patterns sq;
    /** SQ8 mode: scale_j and offset_j repeated for every row of a chunk (element e of the chunk: j = e mod d). */
    private final float[] scaleRep;
    private final float[] offsetRep;
    /** SQ8 mode: per query lane, the score bound ε (0 for padding); candidates rank by the cosine of s̃ + ε. */
    private final float[] eps;

    /** @param halfX {@code xs} holds bfloat16 patterns (widened while the chunk is copied); else float32 */
    TileWorker(PreparedQueries q, int dv, float beta, int k, int chunk, int tile,
               MemorySegment xs, MemorySegment vs, MemorySegment norms, boolean valuesArePatterns, boolean halfX) {
        this(q, dv, beta, k, chunk, tile, xs, vs, norms, valuesArePatterns, halfX, null);
    }

    /**
     * SQ8 mode when {@code sq} is non-null: each chunk's codes are decoded to x̃ = offset + scale·code into the
     * chunk copy (so o is in value space, V = X included), and the top-k holds candidates ranked by an upper bound
     * of their float32 cosine, which the caller re-ranks exactly.
     */
    TileWorker(PreparedQueries q, int dv, float beta, int k, int chunk, int tile, MemorySegment xs, MemorySegment vs,
               MemorySegment norms, boolean valuesArePatterns, boolean halfX, Sq8Patterns sq) {
        super(q, q.padded, q.padded, 1, dv, beta, k, chunk, sq != null ? sq.codes : xs, vs, norms);
        this.sq = sq;
        if (sq != null) {
            int d = q.dim;
            scaleRep = new float[chunk * d];
            offsetRep = new float[chunk * d];
            for (int e = 0; e < chunk * d; e++) {
                scaleRep[e] = sq.scale[e % d];
                offsetRep[e] = sq.offset[e % d];
            }
            eps = new float[q.padded];
            for (int b = 0; b < q.batch; b++) {
                eps[b] = Math.nextUp((float) sq.scoreErrorBound(q.rows, b * d));
            }
        } else {
            scaleRep = null;
            offsetRep = null;
            eps = null;
        }
        this.padded = q.padded;
        this.tile = tile;
        this.valuesArePatterns = valuesArePatterns;
        this.halfX = halfX;
        xc = new float[chunk * d];
        vc = valuesArePatterns ? xc : new float[chunk * dv];
        xInv = new float[chunk];
        s = new float[chunk * Math.min(tile, padded)];
    }

    @Override
    void processChunk(long c0, int n) {
        if (sq != null) {
            decode(c0 * d, n * d);
        } else if (halfX) {
            widen(c0 * d, n * d);
        } else {
            MemorySegment.copy(xs, FLOAT, c0 * d * Float.BYTES, xc, 0, n * d);
        }
        if (!valuesArePatterns) {
            MemorySegment.copy(vs, FLOAT, c0 * dv * Float.BYTES, vc, 0, n * dv);
        }
        inverseNorms(c0, n, xInv);
        for (int b0 = 0; b0 < padded; b0 += tile) {
            processTile(c0, n, b0, Math.min(tile, padded - b0));
        }
    }

    private void processTile(long c0, int n, int b0, int width) {
        MicroKernels.gemm(xc, 0, d, 1, n, d, q.transposed, b0, padded, s, 0, width, width, false);
        FloatVector betaV = FloatVector.broadcast(S, beta);
        for (int w = 0; w < width; w += L) {
            int bq = b0 + w;
            FloatVector qInv = FloatVector.fromArray(S, q.inverseNorm, bq);
            // SQ8: an upper bound of the float32 cosine (q·x ≤ q·x̃ + ε, rounding is monotone)
            FloatVector margin = sq != null ? FloatVector.fromArray(S, eps, bq) : FloatVector.zero(S);
            FloatVector threshold = FloatVector.fromArray(S, thr, bq);
            FloatVector mc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int c = 0, i = w; c < n; c++, i += width) {
                FloatVector sv = FloatVector.fromArray(S, s, i);
                mc = mc.max(sv);
                FloatVector cos = (sq != null ? sv.add(margin) : sv).mul(qInv).mul(xInv[c]);
                VectorMask<Float> enter = cos.compare(VectorOperators.GT, threshold);
                if (enter.anyTrue()) {
                    for (int lane = enter.firstTrue(); lane < L; lane++) {
                        if (enter.laneIsSet(lane)) {
                            offer(bq + lane, cos.lane(lane), c0 + c);
                        }
                    }
                    threshold = FloatVector.fromArray(S, thr, bq);
                }
            }
            FloatVector mOld = FloatVector.fromArray(S, mRun, bq);
            // beta > 0 and rounding is monotone: round(beta·max s) is the largest rounded logit
            FloatVector mNew = mOld.max(mc.mul(betaV));
            if (!mNew.test(VectorOperators.IS_FINITE).allTrue()) {
                int lane = mNew.test(VectorOperators.IS_FINITE).not().firstTrue();
                throw logitOverflow(bq + lane, mc.lane(lane));
            }
            if (mNew.compare(VectorOperators.GT, mOld).anyTrue()) {
                rescale(bq, mOld, mNew);
            }
            // z − m ≤ 0, clamped where e^x is 0 by far so that p·(z − m) is 0, never 0·∞
            ReproducibleMath.expShiftSum(s, w, width, n, beta, mRun, SHIFT_MIN, lF, tF, bq);
        }
        MicroKernels.gemm(vc, 0, 1, dv, dv, n, s, 0, width, oF, b0, padded, width, true);
    }

    /** xc[0, count) ← the SQ8 patterns from element {@code first} on, decoded: offset_j + scale_j·code (one FMA). */
    private void decode(long first, int count) {
        int i = 0;
        for (; i + L <= count; i += L) {
            CpuVectors.codes(xs, first + i).fma(FloatVector.fromArray(S, scaleRep, i),
                    FloatVector.fromArray(S, offsetRep, i)).intoArray(xc, i);
        }
        for (; i < count; i++) {
            xc[i] = Math.fma(xs.get(java.lang.foreign.ValueLayout.JAVA_BYTE, first + i), scaleRep[i], offsetRep[i]);
        }
    }

    /** xc[0, count) ← the bfloat16 patterns from element {@code first} on, widened to float32. */
    private void widen(long first, int count) {
        int i = 0;
        for (; i + L <= count; i += L) {
            CpuVectors.bf16(xs, (first + i) * Short.BYTES).intoArray(xc, i);
        }
        for (; i < count; i++) {
            xc[i] = Bf16Patterns.widen(xs.getAtIndex(java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED, first + i));
        }
    }

    /**
     * Moves the group state of queries {@code [bq, bq + L)} from max {@code mOld} to {@code mNew}. Lanes where
     * α = e^(m_old − m_new) is 0 (nothing accumulated, or an old max too far below) become empty, which avoids
     * ∞·0 in (m_old − m_new)·l.
     */
    private void rescale(int bq, FloatVector mOld, FloatVector mNew) {
        FloatVector delta = mOld.sub(mNew);
        delta.intoArray(alphas, 0);
        ReproducibleMath.exp(alphas, 0, L);
        FloatVector alpha = FloatVector.fromArray(S, alphas, 0);
        FloatVector l = FloatVector.fromArray(S, lF, bq);
        FloatVector t = FloatVector.fromArray(S, tF, bq);
        // t relative to the new max: α·(t + (m_old − m_new)·l)
        VectorMask<Float> empty = alpha.compare(VectorOperators.EQ, 0f);
        t = t.add(delta.mul(l)).mul(alpha).blend(0f, empty);
        l.mul(alpha).blend(0f, empty).intoArray(lF, bq);
        t.intoArray(tF, bq);
        for (int j = 0, i = bq; j < dv; j++, i += padded) {
            FloatVector.fromArray(S, oF, i).mul(alpha).intoArray(oF, i);
        }
        mNew.intoArray(mRun, bq);
    }
}
