package dev.engram.engine.cpu;

import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.TopK;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * One thread's fused pass over a contiguous range of the memory, in chunks of patterns. Subclasses compute, per
 * chunk, the float online-softmax state relative to a running max {@code mRun} (a "group" of chunks); every
 * {@code flushEvery} chunks the group is folded into double accumulators, so float sums never run over more than a
 * few thousand terms however large M is.
 *
 * <p>Group state layout: {@code lF, tF, mRun} indexed by query; {@code oF[j·ojStride + b·obStride]}.
 */
abstract class RangeWorker {
    static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    final PreparedQueries q;
    final int batch;
    final int d;
    final int dv;
    final float beta;
    final int chunk;
    final MemorySegment xs;
    final MemorySegment vs;
    final MemorySegment norms;
    final TopK[] top;
    final float[] thr;

    final float[] mRun;
    final float[] lF;
    final float[] tF;
    final float[] oF;
    private final int ojStride;
    private final int obStride;

    private final double[] mD;
    private final double[] lD;
    private final double[] tD;
    private final double[] oD;

    RangeWorker(PreparedQueries q, int stateWidth, int ojStride, int obStride, int dv, float beta, int k, int chunk,
                MemorySegment xs, MemorySegment vs, MemorySegment norms) {
        this.q = q;
        this.batch = q.batch;
        this.d = q.dim;
        this.dv = dv;
        this.beta = beta;
        this.chunk = chunk;
        this.xs = xs;
        this.vs = vs;
        this.norms = norms;
        this.ojStride = ojStride;
        this.obStride = obStride;
        top = new TopK[batch];
        for (int b = 0; b < batch; b++) {
            top[b] = new TopK(k);
        }
        thr = new float[stateWidth];
        // Lanes beyond the batch (padding) can never enter a top-k.
        Arrays.fill(thr, Float.POSITIVE_INFINITY);
        Arrays.fill(thr, 0, batch, k == 0 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY);
        mRun = new float[stateWidth];
        Arrays.fill(mRun, Float.NEGATIVE_INFINITY);
        lF = new float[stateWidth];
        tF = new float[stateWidth];
        oF = new float[stateWidth * dv];
        mD = new double[batch];
        Arrays.fill(mD, Double.NEGATIVE_INFINITY);
        lD = new double[batch];
        tD = new double[batch];
        oD = new double[batch * dv];
    }

    /** Processes patterns {@code [c0, c0 + n)} (n ≤ chunk) into the group state. */
    abstract void processChunk(long c0, int n);

    /** Runs the fused pass over {@code [from, to)} and returns its partial. */
    final RetrievalPartial run(long from, long to, int flushEvery) {
        int sinceFlush = 0;
        for (long c0 = from; c0 < to; c0 += chunk) {
            processChunk(c0, (int) Math.min(chunk, to - c0));
            if (++sinceFlush == flushEvery) {
                flush();
                sinceFlush = 0;
            }
        }
        flush();
        return new RetrievalPartial(batch, dv, top.length == 0 ? 0 : top[0].k(), to - from, mD, lD, tD, oD, top);
    }

    /** Offers candidate {@code index} with cosine {@code cos} to query b's top-k and refreshes its threshold. */
    final void offer(int b, float cos, long index) {
        TopK t = top[b];
        t.offer(cos, index);
        thr[b] = (float) t.threshold();
    }

    /**
     * Folds the float group into the double state: with {@code s = e^(m_D − m_run)},
     * {@code l_D = s·l_D + l_F}, {@code t_D = s·(t_D + (m_D − m_run)·l_D) + t_F}, {@code o_D = s·o_D + o_F}.
     */
    private void flush() {
        for (int b = 0; b < batch; b++) {
            double mr = mRun[b];
            if (mr == Double.NEGATIVE_INFINITY) {
                continue;
            }
            double md = mD[b];
            double s = lD[b] == 0 ? 0 : StrictMath.exp(md - mr);
            tD[b] = (lD[b] == 0 ? 0 : s * (tD[b] + (md - mr) * lD[b])) + tF[b];
            lD[b] = s * lD[b] + lF[b];
            mD[b] = mr;
            lF[b] = 0;
            tF[b] = 0;
            int ob = b * obStride;
            for (int j = 0; j < dv; j++) {
                int i = ob + j * ojStride;
                oD[b * dv + j] = s * oD[b * dv + j] + oF[i];
                oF[i] = 0;
            }
        }
    }

    /**
     * The error for a logit beta·q·x that float32 cannot hold (|beta·q·x| above 3.4·10³⁸, or a dot product that
     * overflowed): the softmax of such logits is not defined in this engine's arithmetic.
     */
    final IllegalArgumentException logitOverflow(int b, float maxDot) {
        return new IllegalArgumentException("query " + b + ": the logit beta·q·x = " + beta + " × " + maxDot
                + " leaves the float32 range (|beta·q·x| must stay below 3.4e38); lower beta or rescale the"
                + " features");
    }

    /** 1/‖x‖ for patterns {@code [c0, c0 + n)} into {@code inv} (0 for a zero pattern: its cosine is 0). */
    final void inverseNorms(long c0, int n, float[] inv) {
        MemorySegment.copy(norms, FLOAT, c0 * Float.BYTES, inv, 0, n);
        int i = 0;
        for (; i + CpuVectors.LANES <= n; i += CpuVectors.LANES) {
            FloatVector v = FloatVector.fromArray(CpuVectors.SPECIES, inv, i);
            FloatVector.broadcast(CpuVectors.SPECIES, 1f).div(v).blend(0f, v.compare(VectorOperators.EQ, 0f)).intoArray(inv, i);
        }
        for (; i < n; i++) {
            inv[i] = inv[i] == 0 ? 0 : 1f / inv[i];
        }
    }
}
