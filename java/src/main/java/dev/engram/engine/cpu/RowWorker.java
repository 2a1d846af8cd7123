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
 *   p_c = exp(beta·s_c − m_new)      (vectorised along the chunk)
 *   o  += Σ_c p_c·v_c                 (vectors along dv, four accumulators)
 * </pre>
 * This path is memory-bound: the budget per pattern is the time to read its d (+dv) floats.
 */
final class RowWorker extends RangeWorker {
    private static final VectorSpecies<Float> S = CpuVectors.SPECIES;
    private static final int L = CpuVectors.LANES;

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final VectorSpecies<Integer> INT = S.withLanes(int.class);
    private static final java.lang.foreign.ValueLayout.OfShort HALF = java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

    private final float[] s;
    private final float[] xInv;
    private final VectorMask<Float> dTail;
    private final VectorMask<Float> dvTail;
    private final boolean halfX;
    private final boolean halfV;
    /** bfloat16 mode: the queries' even and odd elements of every 2L-block of d (see {@link #scoresHalf}). */
    private final float[] qEven;
    private final float[] qOdd;
    private final float[] even = new float[L];
    private final float[] odd = new float[L];

    /**
     * @param halfX {@code xs} holds bfloat16 patterns (else float32)
     * @param halfV {@code vs} holds bfloat16 values (else float32)
     */
    RowWorker(PreparedQueries q, int dv, float beta, int k, int chunk,
              MemorySegment xs, MemorySegment vs, MemorySegment norms, boolean halfX, boolean halfV) {
        super(q, q.batch, 1, dv, dv, beta, k, chunk, xs, vs, norms);
        this.halfX = halfX;
        this.halfV = halfV;
        int blocks = d / (2 * L);
        qEven = new float[batch * Math.max(1, blocks) * L];
        qOdd = new float[batch * Math.max(1, blocks) * L];
        for (int b = 0; b < batch; b++) {
            for (int blk = 0; blk < blocks; blk++) {
                for (int i = 0; i < L; i++) {
                    qEven[(b * blocks + blk) * L + i] = q.rows[b * d + blk * 2 * L + 2 * i];
                    qOdd[(b * blocks + blk) * L + i] = q.rows[b * d + blk * 2 * L + 2 * i + 1];
                }
            }
        }
        s = new float[chunk];
        xInv = new float[chunk];
        dTail = S.indexInRange(0, d % L);
        dvTail = S.indexInRange(0, dv % L);
    }

    @Override
    void processChunk(long c0, int n) {
        inverseNorms(c0, n, xInv);
        for (int b = 0; b < batch; b++) {
            scores(b, c0, n);
            float qInv = q.inverseNorm[b];
            float mc = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < n; c++) {
                float sc = s[c];
                mc = Math.max(mc, sc);
                float cos = sc * qInv * xInv[c];
                if (cos > thr[b]) {
                    offer(b, cos, c0 + c);
                }
            }
            float mOld = mRun[b];
            float mNew = Math.max(mOld, mc * beta);
            if (mNew > mOld) {
                rescale(b, mOld, mNew);
            }
            exponentiate(b, n, mNew);
            accumulateValues(b, c0, n);
        }
    }

    /** s[c] = q_b · x_{c0+c}: full vectors, then a masked last vector only when L does not divide d. */
    private void scores(int b, long c0, int n) {
        if (halfX) {
            scoresHalf(b, c0, n);
            return;
        }
        int qo = b * d;
        int full = d / L * L;
        boolean tail = full != d;
        long rowBytes = (long) d * Float.BYTES;
        long base = c0 * rowBytes;
        for (int c = 0; c < n; c++, base += rowBytes) {
            FloatVector acc = FloatVector.zero(S);
            for (int j = 0; j < full; j += L) {
                acc = FloatVector.fromMemorySegment(S, xs, base + (long) j * Float.BYTES, LE)
                        .fma(FloatVector.fromArray(S, q.rows, qo + j), acc);
            }
            if (tail) {
                acc = FloatVector.fromMemorySegment(S, xs, base + (long) full * Float.BYTES, LE, dTail)
                        .fma(FloatVector.fromArray(S, q.rows, qo + full, dTail), acc);
            }
            s[c] = acc.reduceLanes(VectorOperators.ADD);
        }
    }

    /**
     * {@link #scores} over bfloat16 patterns. One int-vector load brings 2L bfloat16 values; as floats, the even
     * elements are the words shifted left by 16 and the odd ones the words with the low half cleared — widening
     * without a shuffle. A dot product does not care about order, so it runs on the queries' even and odd elements.
     */
    private void scoresHalf(int b, long c0, int n) {
        int blocks = d / (2 * L);
        int done = blocks * 2 * L;
        long rowBytes = (long) d * Short.BYTES;
        long base = c0 * rowBytes;
        int qb = b * blocks * L;
        for (int c = 0; c < n; c++, base += rowBytes) {
            FloatVector acc = FloatVector.zero(S);
            for (int blk = 0; blk < blocks; blk++) {
                IntVector w = IntVector.fromMemorySegment(INT, xs, base + (long) blk * 2 * L * Short.BYTES, LE);
                acc = w.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(S, qEven, qb + blk * L), acc);
                acc = w.lanewise(VectorOperators.AND, 0xFFFF0000).reinterpretAsFloats()
                        .fma(FloatVector.fromArray(S, qOdd, qb + blk * L), acc);
            }
            float sum = acc.reduceLanes(VectorOperators.ADD);
            for (int j = done; j < d; j++) {
                sum += Bf16Patterns.widen(xs.get(HALF, base + (long) j * Short.BYTES)) * q.rows[b * d + j];
            }
            s[c] = sum;
        }
    }

    private void rescale(int b, float mOld, float mNew) {
        float delta = mOld - mNew;
        float alpha = (float) Math.exp(delta);
        float l = lF[b];
        if (l == 0) {
            tF[b] = 0;
        } else {
            tF[b] = alpha * (tF[b] + delta * l);
            lF[b] = alpha * l;
            for (int j = b * dv, end = j + dv; j < end; j++) {
                oF[j] *= alpha;
            }
        }
        mRun[b] = mNew;
    }

    /** s[c] ← p_c = exp(beta·s_c − m); accumulates l and t. */
    private void exponentiate(int b, int n, float m) {
        FloatVector betaV = FloatVector.broadcast(S, beta);
        FloatVector negM = FloatVector.broadcast(S, -m);
        FloatVector lAcc = FloatVector.zero(S);
        FloatVector tAcc = FloatVector.zero(S);
        int c = 0;
        for (; c + L <= n; c += L) {
            FloatVector sh = FloatVector.fromArray(S, s, c).fma(betaV, negM);
            FloatVector p = sh.lanewise(VectorOperators.EXP);
            p.intoArray(s, c);
            lAcc = lAcc.add(p);
            tAcc = p.fma(sh, tAcc);
        }
        float l = lAcc.reduceLanes(VectorOperators.ADD);
        float t = tAcc.reduceLanes(VectorOperators.ADD);
        for (; c < n; c++) {
            float sh = s[c] * beta - m;
            float p = (float) Math.exp(sh);
            s[c] = p;
            l += p;
            t += p * sh;
        }
        lF[b] += l;
        tF[b] += t;
    }

    /** o_b += Σ_c p_c · v_{c0+c}, one dv-vector slot at a time with four accumulators over c (FMA latency). */
    private void accumulateValues(int b, long c0, int n) {
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
        for (int j = blocks * 2 * L; j < dv; j++) {
            float acc = 0;
            long at = c0 * rowBytes + (long) j * Short.BYTES;
            for (int c = 0; c < n; c++, at += rowBytes) {
                acc += s[c] * Bf16Patterns.widen(vs.get(HALF, at));
            }
            oF[ob + j] += acc;
        }
    }

    private void accumulateTail(int b, long c0, int n, int j) {
        long rowBytes = (long) dv * Float.BYTES;
        long base = c0 * rowBytes + (long) j * Float.BYTES;
        FloatVector a0 = FloatVector.zero(S);
        for (int c = 0; c < n; c++, base += rowBytes) {
            a0 = FloatVector.fromMemorySegment(S, vs, base, LE, dvTail).fma(FloatVector.broadcast(S, s[c]), a0);
        }
        int o = b * dv + j;
        a0.add(FloatVector.fromArray(S, oF, o, dvTail)).intoArray(oF, o, dvTail);
    }
}
