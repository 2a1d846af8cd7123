package dev.engram.engine.cpu;

import jdk.incubator.vector.FloatVector;
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

    private final float[] s;
    private final float[] xInv;
    private final VectorMask<Float> dTail;
    private final VectorMask<Float> dvTail;

    RowWorker(PreparedQueries q, int dv, float beta, int k, int chunk,
              MemorySegment xs, MemorySegment vs, MemorySegment norms) {
        super(q, q.batch, 1, dv, dv, beta, k, chunk, xs, vs, norms);
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
