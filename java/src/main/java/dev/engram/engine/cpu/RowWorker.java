package dev.engram.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The small-batch path (B = 1, 2, ...), where vectors along queries would be mostly empty: vectors run along d and
 * dv, and X and V are read straight
 * from their (possibly memory-mapped) segments: a heap copy per chunk measured slower than the whole pass. Per chunk and query:
 * <pre>
 *   s_c = q·x_c                      (vector dot, one horizontal sum per pattern)
 *   top-k on s_c/(‖q‖·‖x_c‖)
 *   m_new = max(m_run, beta·max s);  rescale l, t, o when it moved
 *   p_c = exp(z_c − m_new),  z_c = beta·s_c rounded   (vectorised along the chunk)
 *   o  += Σ_c p_c·v_c                 (vectors along dv, four accumulators)
 * </pre>
 * This path is memory-bound: the budget per pattern is the time to read its d (+dv) floats.
 *
 * <p>Every sum has an order that does not depend on the vector width: dot products and the sums of p over the
 * chunk run in {@link ReproducibleMath}'s 16 virtual lanes, and each element of o is one chain of FMAs over c
 * (four interleaved chains, then ((a0 + a1) + (a2 + a3))) whether it sits in a full vector or in the tail.
 */
final class RowWorker extends RangeWorker {
    private static final VectorSpecies<Float> S = CpuVectors.SPECIES;
    private static final int L = CpuVectors.LANES;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Integer> INT = S.withLanes(int.class);
    private static final java.lang.foreign.ValueLayout.OfShort HALF = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

    private static final int V = ReproducibleMath.VIRTUAL_LANES;
    /** Where e^x is 0 in float32 by far; see {@link #exponentiate}. */
    private static final float SHIFT_MIN = -128f;

    private final float[] s;
    private final float[] ts;
    /** 16 virtual-lane partial sums per pattern of the chunk, reduced by {@link ReproducibleMath#sum16Rows}. */
    private final float[] lanes;
    private final float[] xInv;
    /** Masks of the last, partial virtual block of d for each of the 16/L accumulators; null when empty. */
    private final VectorMask<Float>[] dTail;
    private final VectorMask<Float> dvTail;
    private final boolean halfX;
    private final boolean halfV;
    /** bfloat16 mode: the queries' even and odd elements of every 32-element block of d (see {@link #scoresHalf}). */
    private final float[] qEven;
    private final float[] qOdd;
    private final float[] even = new float[L];
    private final float[] odd = new float[L];
    /** SQ8 mode: the quantised patterns, else null (see {@link #scoresSq8}). */
    private final Sq8Patterns sq;
    /** SQ8 mode: V = X, so o accumulates Σ p·code per dimension (decoded by the caller: offset·l + scale·o). */
    private final boolean sqV;
    /** SQ8 mode: d rounded up to whole blocks of 16; q_j·scale_j per query in rows of dPad, zero-padded. */
    private final int dPad;
    private final float[] qScaled;
    /** SQ8 mode: Σ_j q_j·offset_j per query. */
    private final float[] qOffset;
    /** SQ8 mode: per query, the bound ε on |q·x̃ − q·x|; candidates are ranked by the cosine of q·x̃ + ε. */
    private final float[] eps;

    /**
     * @param halfX {@code xs} holds bfloat16 patterns (else float32)
     * @param halfV {@code vs} holds bfloat16 values (else float32)
     */
    RowWorker(PreparedQueries q, int dv, float beta, int k, int chunk,
              MemorySegment xs, MemorySegment vs, MemorySegment norms, boolean halfX, boolean halfV) {
        this(q, dv, beta, k, chunk, xs, vs, norms, halfX, halfV, null, false);
    }

    /**
     * SQ8 mode when {@code sq} is non-null: {@code xs} is ignored (the codes are read from {@code sq}); the top-k
     * holds candidates ranked by an upper bound of their float32 cosine, which the caller re-ranks exactly.
     *
     * @param sqV V = X: values are read as codes too, and o is left in code space (see {@link #sqV})
     */
    RowWorker(PreparedQueries q, int dv, float beta, int k, int chunk, MemorySegment xs, MemorySegment vs,
              MemorySegment norms, boolean halfX, boolean halfV, Sq8Patterns sq, boolean sqV) {
        super(q, q.batch, 1, dv, dv, beta, k, chunk, sq != null ? sq.codes : xs, vs, norms);
        this.halfX = halfX;
        this.halfV = halfV;
        this.sq = sq;
        this.sqV = sq != null && sqV;
        this.dPad = (q.dim + V - 1) / V * V;
        if (sq != null) {
            qScaled = new float[batch * dPad];
            qOffset = new float[batch];
            eps = new float[batch];
            for (int b = 0; b < batch; b++) {
                double off = 0;
                for (int j = 0; j < q.dim; j++) {
                    qScaled[b * dPad + j] = q.rows[b * q.dim + j] * sq.scale[j];
                    off += (double) q.rows[b * q.dim + j] * sq.offset[j];
                }
                qOffset[b] = (float) off;
                eps[b] = (float) Math.nextUp((float) sq.scoreErrorBound(q.rows, b * q.dim));
            }
        } else {
            qScaled = null;
            qOffset = null;
            eps = null;
        }
        int blocks = d / (2 * V);
        qEven = new float[batch * Math.max(1, blocks) * V];
        qOdd = new float[batch * Math.max(1, blocks) * V];
        for (int b = 0; b < batch; b++) {
            for (int blk = 0; blk < blocks; blk++) {
                for (int i = 0; i < V; i++) {
                    qEven[(b * blocks + blk) * V + i] = q.rows[b * d + blk * 2 * V + 2 * i];
                    qOdd[(b * blocks + blk) * V + i] = q.rows[b * d + blk * 2 * V + 2 * i + 1];
                }
            }
        }
        s = new float[chunk];
        ts = new float[chunk];
        lanes = new float[chunk * V];
        xInv = new float[chunk];
        int full = d / V * V;
        @SuppressWarnings("unchecked")
        VectorMask<Float>[] tails = new VectorMask[V / L];
        for (int r = 0; r < V / L; r++) {
            tails[r] = tailMask(full + r * L, d);
        }
        dTail = tails;
        dvTail = S.indexInRange(0, dv % L);
    }

    /** Lanes of a vector starting at element {@code from} that lie below {@code end}; null if none. */
    private static VectorMask<Float> tailMask(int from, int end) {
        return from >= end ? null : S.indexInRange(from, end);
    }

    @Override
    void processChunk(long c0, int n) {
        inverseNorms(c0, n, xInv);
        for (int b = 0; b < batch; b++) {
            scores(b, c0, n);
            float qInv = q.inverseNorm[b];
            float mc = Float.NEGATIVE_INFINITY;
            float margin = sq != null ? eps[b] : 0f;
            for (int c = 0; c < n; c++) {
                float sc = s[c];
                mc = Math.max(mc, sc);
                // SQ8: an upper bound of the float32 cosine (q·x ≤ q·x̃ + ε, rounding is monotone)
                float cos = (sc + margin) * qInv * xInv[c];
                if (cos > thr[b]) {
                    offer(b, cos, c0 + c);
                }
            }
            float mOld = mRun[b];
            // beta > 0 and rounding is monotone: round(beta·max s) is the largest rounded logit z_c
            float mNew = Math.max(mOld, mc * beta);
            if (!Float.isFinite(mNew)) {
                throw logitOverflow(b, mc);
            }
            if (mNew > mOld) {
                rescale(b, mOld, mNew);
            }
            exponentiate(b, n, mNew);
            accumulateValues(b, c0, n);
        }
    }

    /** s[c] = q_b · x_{c0+c}: full vectors, then a masked last vector only when L does not divide d. */
    private void scores(int b, long c0, int n) {
        if (sq != null) {
            scoresSq8(b, c0, n);
            return;
        }
        if (halfX) {
            scoresHalf(b, c0, n);
            return;
        }
        int qo = b * d;
        int full = d / V * V;
        long rowBytes = (long) d * Float.BYTES;
        long base = c0 * rowBytes;
        FloatVector zero = FloatVector.zero(S);
        for (int c = 0; c < n; c++, base += rowBytes) {
            // element j goes to virtual lane j mod 16, i.e. to lane (j mod 16) mod L of accumulator r = (j mod 16) / L;
            // one accumulator at a time keeps this loop small enough for the JIT to compile it well at any L
            for (int r = 0; r < V; r += L) {
                FloatVector acc = zero;
                for (int j = r; j < full; j += V) {
                    acc = FloatVector.fromMemorySegment(S, xs, base + (long) j * Float.BYTES, LE)
                            .fma(FloatVector.fromArray(S, q.rows, qo + j), acc);
                }
                VectorMask<Float> m = dTail[r / L];
                if (m != null) {
                    int j = full + r;
                    acc = FloatVector.fromMemorySegment(S, xs, base + (long) j * Float.BYTES, LE, m)
                            .fma(FloatVector.fromArray(S, q.rows, qo + j, m), acc);
                }
                acc.intoArray(lanes, c * V + r);
            }
        }
        ReproducibleMath.sum16Rows(lanes, n, s, 0);
    }

    /**
     * {@link #scores} over bfloat16 patterns. One int-vector load brings 2L bfloat16 values; as floats, the even
     * elements are the words shifted left by 16 and the odd ones the words with the low half cleared — widening
     * without a shuffle. A dot product does not care about order, so it runs on the queries' even and odd elements.
     * Blocks of 32 elements (16 virtual lanes of pairs, whatever L is), then the rest in order.
     */
    private void scoresHalf(int b, long c0, int n) {
        int blocks = d / (2 * V);
        int done = blocks * 2 * V;
        long rowBytes = (long) d * Short.BYTES;
        long base = c0 * rowBytes;
        int qb = b * blocks * V;
        FloatVector zero = FloatVector.zero(S);
        for (int c = 0; c < n; c++, base += rowBytes) {
            for (int r = 0; r < V; r += L) {
                FloatVector acc = zero;
                for (int blk = 0; blk < blocks; blk++) {
                    int qi = qb + blk * V + r;
                    IntVector w = IntVector.fromMemorySegment(INT, xs, base + (long) (blk * 2 * V + 2 * r) * Short.BYTES, LE);
                    acc = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(FloatVector.fromArray(S, qEven, qi), acc);
                    acc = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(FloatVector.fromArray(S, qOdd, qi), acc);
                }
                acc.intoArray(lanes, c * V + r);
            }
        }
        ReproducibleMath.sum16Rows(lanes, n, s, 0);
        // then the elements past the last whole block of 32, in order
        base = c0 * rowBytes;
        for (int c = 0; c < n && done < d; c++, base += rowBytes) {
            float sum = s[c];
            for (int j = done; j < d; j++) {
                sum += Bf16Patterns.widen(xs.get(HALF, base + (long) j * Short.BYTES)) * q.rows[b * d + j];
            }
            s[c] = sum;
        }
    }

    /**
     * {@link #scores} over SQ8 codes: s[c] = Σ_j q_j·offset_j + Σ_j (q_j·scale_j)·code_j, the second sum in the 16
     * virtual lanes of {@link ReproducibleMath} (element j in lane j mod 16, whatever L is). L codes per byte-vector
     * load, sign-extended to ints and converted to floats; q·scale is zero past d, so the bytes of the next row (or
     * the padding after the last) that a load reaches add nothing.
     */
    private void scoresSq8(int b, long c0, int n) {
        long base = c0 * d;
        int qo = b * dPad;
        FloatVector zero = FloatVector.zero(S);
        for (int c = 0; c < n; c++, base += d) {
            for (int r = 0; r < V; r += L) {
                FloatVector acc = zero;
                for (int j = r; j < dPad; j += V) {
                    acc = codes(base + j).fma(FloatVector.fromArray(S, qScaled, qo + j), acc);
                }
                acc.intoArray(lanes, c * V + r);
            }
        }
        ReproducibleMath.sum16Rows(lanes, n, s, 0);
        float off = qOffset[b];
        for (int c = 0; c < n; c++) {
            s[c] = off + s[c];
        }
    }

    /** L signed codes at byte {@code at} of the codes, as floats. */
    private FloatVector codes(long at) {
        return CpuVectors.codes(xs, at);
    }

    /**
     * o_b += Σ_c p_c · code_c (V = X in SQ8 mode, code space), one L-wide slot of d at a time with four chains over
     * c as {@link #accumulateSlot}; the last slot is stored through a mask (its lanes past d hold other bytes).
     */
    private void accumulateSq8(int b, long c0, int n) {
        for (int j = 0; j < dv; j += L) {
            long base = c0 * d + j;
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = a0;
            FloatVector a2 = a0;
            FloatVector a3 = a0;
            int c = 0;
            for (; c + 4 <= n; c += 4, base += 4L * d) {
                a0 = codes(base).fma(FloatVector.broadcast(S, s[c]), a0);
                a1 = codes(base + d).fma(FloatVector.broadcast(S, s[c + 1]), a1);
                a2 = codes(base + 2L * d).fma(FloatVector.broadcast(S, s[c + 2]), a2);
                a3 = codes(base + 3L * d).fma(FloatVector.broadcast(S, s[c + 3]), a3);
            }
            for (; c < n; c++, base += d) {
                a0 = codes(base).fma(FloatVector.broadcast(S, s[c]), a0);
            }
            int o = b * dv + j;
            if (j + L <= dv) {
                a0.add(a1).add(a2.add(a3)).add(FloatVector.fromArray(S, oF, o)).intoArray(oF, o);
            } else {
                VectorMask<Float> m = S.indexInRange(j, dv);
                a0.add(a1).add(a2.add(a3)).add(FloatVector.fromArray(S, oF, o, m)).intoArray(oF, o, m);
            }
        }
    }

    /** Moves query b's group state from max mOld to mNew: ×α = e^(mOld − mNew); α = 0 empties it (no ∞·0). */
    private void rescale(int b, float mOld, float mNew) {
        float delta = mOld - mNew;
        float alpha = ReproducibleMath.exp(delta);
        float l = lF[b];
        if (alpha == 0) {
            lF[b] = 0;
            tF[b] = 0;
            java.util.Arrays.fill(oF, b * dv, (b + 1) * dv, 0f);
        } else {
            tF[b] = alpha * (tF[b] + delta * l);
            lF[b] = alpha * l;
            for (int j = b * dv, end = j + dv; j < end; j++) {
                oF[j] *= alpha;
            }
        }
        mRun[b] = mNew;
    }

    /**
     * s[c] ← p_c = exp(z_c − m) with z_c = beta·s_c rounded to float, so z_c − m ≤ 0 (the exponent never
     * overflows, however large the logits); accumulates l and t. z_c − m is clamped at {@link #SHIFT_MIN}, where
     * p_c is already 0, so that p·(z − m) stays 0 instead of 0·∞.
     */
    private void exponentiate(int b, int n, float m) {
        FloatVector betaV = FloatVector.broadcast(S, beta);
        FloatVector mV = FloatVector.broadcast(S, m);
        int c = 0;
        for (; c + L <= n; c += L) {
            FloatVector sh = FloatVector.fromArray(S, s, c).mul(betaV).sub(mV).max(SHIFT_MIN);
            sh.intoArray(s, c);
            sh.intoArray(ts, c);
        }
        for (; c < n; c++) {
            s[c] = ts[c] = Math.max(s[c] * beta - m, SHIFT_MIN);
        }
        ReproducibleMath.exp(s, 0, n);
        for (c = 0; c + L <= n; c += L) {
            FloatVector.fromArray(S, s, c).mul(FloatVector.fromArray(S, ts, c)).intoArray(ts, c);
        }
        for (; c < n; c++) {
            ts[c] = s[c] * ts[c];
        }
        lF[b] += ReproducibleMath.sum(s, 0, n);
        tF[b] += ReproducibleMath.sum(ts, 0, n);
    }

    /** o_b += Σ_c p_c · v_{c0+c}, one dv-vector slot at a time with four accumulators over c (FMA latency). */
    private void accumulateValues(int b, long c0, int n) {
        if (sqV) {
            accumulateSq8(b, c0, n);
            return;
        }
        if (halfV) {
            accumulateHalf(b, c0, n);
            return;
        }
        int full = dv / L * L;
        for (int j = 0; j < full; j += L) {
            accumulateSlot(b, c0, n, j);
        }
        if (full != dv) {
            accumulateTail(b, c0, n, full);
        }
    }

    private void accumulateSlot(int b, long c0, int n, int j) {
        long rowBytes = (long) dv * Float.BYTES;
        long base = c0 * rowBytes + (long) j * Float.BYTES;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        int c = 0;
        for (; c + 4 <= n; c += 4, base += 4 * rowBytes) {
            a0 = FloatVector.fromMemorySegment(S, vs, base, LE).fma(FloatVector.broadcast(S, s[c]), a0);
            a1 = FloatVector.fromMemorySegment(S, vs, base + rowBytes, LE).fma(FloatVector.broadcast(S, s[c + 1]), a1);
            a2 = FloatVector.fromMemorySegment(S, vs, base + 2 * rowBytes, LE).fma(FloatVector.broadcast(S, s[c + 2]), a2);
            a3 = FloatVector.fromMemorySegment(S, vs, base + 3 * rowBytes, LE).fma(FloatVector.broadcast(S, s[c + 3]), a3);
        }
        for (; c < n; c++, base += rowBytes) {
            a0 = FloatVector.fromMemorySegment(S, vs, base, LE).fma(FloatVector.broadcast(S, s[c]), a0);
        }
        int o = b * dv + j;
        a0.add(a1).add(a2.add(a3)).add(FloatVector.fromArray(S, oF, o)).intoArray(oF, o);
    }

    /**
     * o_b += Σ_c p_c · v_c over bfloat16 values (V = X), 2L elements per int-vector load, split into even and odd
     * elements as in {@link #scoresHalf} and interleaved back into o once per chunk.
     */
    private void accumulateHalf(int b, long c0, int n) {
        int blocks = dv / (2 * L);
        long rowBytes = (long) dv * Short.BYTES;
        int ob = b * dv;
        for (int blk = 0; blk < blocks; blk++) {
            long base = c0 * rowBytes + (long) blk * 2 * L * Short.BYTES;
            FloatVector e0 = FloatVector.zero(S);
            FloatVector e1 = e0;
            FloatVector o0 = e0;
            FloatVector o1 = e0;
            int c = 0;
            for (; c + 2 <= n; c += 2, base += 2 * rowBytes) {
                IntVector w0 = IntVector.fromMemorySegment(INT, vs, base, LE);
                IntVector w1 = IntVector.fromMemorySegment(INT, vs, base + rowBytes, LE);
                FloatVector p0 = FloatVector.broadcast(S, s[c]);
                FloatVector p1 = FloatVector.broadcast(S, s[c + 1]);
                e0 = w0.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(p0, e0);
                o0 = w0.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(p0, o0);
                e1 = w1.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(p1, e1);
                o1 = w1.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(p1, o1);
            }
            for (; c < n; c++, base += rowBytes) {
                IntVector w = IntVector.fromMemorySegment(INT, vs, base, LE);
                FloatVector p = FloatVector.broadcast(S, s[c]);
                e0 = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().fma(p, e0);
                o0 = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats().fma(p, o0);
            }
            e0.add(e1).intoArray(even, 0);
            o0.add(o1).intoArray(odd, 0);
            int j0 = ob + blk * 2 * L;
            for (int i = 0; i < L; i++) {
                oF[j0 + 2 * i] += even[i];
                oF[j0 + 2 * i + 1] += odd[i];
            }
        }
        // the rest: the same two FMA chains (even c, odd c) as a lane above, so no element depends on L
        for (int j = blocks * 2 * L; j < dv; j++) {
            float accEven = 0;
            float accOdd = 0;
            long at = c0 * rowBytes + (long) j * Short.BYTES;
            for (int c = 0; c < n; c++, at += rowBytes) {
                float w = Bf16Patterns.widen(vs.get(HALF, at));
                if ((c & 1) == 0) {
                    accEven = Math.fma(w, s[c], accEven);
                } else {
                    accOdd = Math.fma(w, s[c], accOdd);
                }
            }
            oF[ob + j] += accEven + accOdd;
        }
    }

    /** {@link #accumulateSlot} for the last, partial vector of dv: the same four chains, masked. */
    private void accumulateTail(int b, long c0, int n, int j) {
        long rowBytes = (long) dv * Float.BYTES;
        long base = c0 * rowBytes + (long) j * Float.BYTES;
        FloatVector a0 = FloatVector.zero(S);
        FloatVector a1 = a0;
        FloatVector a2 = a0;
        FloatVector a3 = a0;
        VectorMask<Float> m = dvTail;
        int c = 0;
        for (; c + 4 <= n; c += 4, base += 4 * rowBytes) {
            a0 = FloatVector.fromMemorySegment(S, vs, base, LE, m).fma(FloatVector.broadcast(S, s[c]), a0);
            a1 = FloatVector.fromMemorySegment(S, vs, base + rowBytes, LE, m).fma(FloatVector.broadcast(S, s[c + 1]), a1);
            a2 = FloatVector.fromMemorySegment(S, vs, base + 2 * rowBytes, LE, m).fma(FloatVector.broadcast(S, s[c + 2]), a2);
            a3 = FloatVector.fromMemorySegment(S, vs, base + 3 * rowBytes, LE, m).fma(FloatVector.broadcast(S, s[c + 3]), a3);
        }
        for (; c < n; c++, base += rowBytes) {
            a0 = FloatVector.fromMemorySegment(S, vs, base, LE, m).fma(FloatVector.broadcast(S, s[c]), a0);
        }
        int o = b * dv + j;
        a0.add(a1).add(a2.add(a3)).add(FloatVector.fromArray(S, oF, o, m)).intoArray(oF, o, m);
    }
}
