package dev.engram.spark;

import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.TopK;

import java.io.Serial;
import java.io.Serializable;

/**
 * {@link RetrievalPartial} in a form Spark can ship: plain arrays, Java-serialisable. This is all that crosses the
 * network in a distributed retrieval: per query b of a batch of B, {@code m_b, l_b, t_b}, the dv-vector {@code o_b}
 * and up to k (cosine score, global index) pairs — {@code B·(3 + dv + 2k)·8} bytes plus a small header, whatever
 * the number of patterns it covers.
 *
 * <p>Conversion both ways is exact (the partial already holds doubles), so merging states is merging partials:
 * {@link #merge} is {@link RetrievalPartial#merge}, the exact monoid of the retrieval.
 *
 * @param topSizes B: how many top-k entries query b holds (fewer than k while fewer patterns have been seen)
 * @param topScores B×k: cosine scores, best first (entries past {@code topSizes[b]} unused)
 * @param topIndices B×k: global pattern indices
 */
public record PartialState(int batch, int valueDim, int k, long count, double[] max, double[] sum, double[] shifted,
                           double[] out, int[] topSizes, double[] topScores, long[] topIndices) implements Serializable {
    @Serial
    private static final long serialVersionUID = 1L;

    /** The state of {@code partial}, its top-k lists re-held at capacity {@code k} (≥ the partial's own k). */
    public static PartialState of(RetrievalPartial partial, int k) {
        if (k < partial.k()) {
            throw new IllegalArgumentException("k=" + k + " is smaller than the partial's k=" + partial.k());
        }
        int b = partial.batch();
        int dv = partial.valueDim();
        double[] m = new double[b];
        double[] l = new double[b];
        double[] t = new double[b];
        double[] o = new double[b * dv];
        int[] sizes = new int[b];
        double[] scores = new double[b * k];
        long[] indices = new long[b * k];
        for (int q = 0; q < b; q++) {
            m[q] = partial.max(q);
            l[q] = partial.sum(q);
            t[q] = partial.shifted(q);
            for (int j = 0; j < dv; j++) {
                o[q * dv + j] = partial.out(q, j);
            }
            TopK top = partial.top(q);
            sizes[q] = top.size();
            for (int i = 0; i < top.size(); i++) {
                scores[q * k + i] = top.score(i);
                indices[q * k + i] = top.index(i);
            }
        }
        return new PartialState(b, dv, k, partial.count(), m, l, t, o, sizes, scores, indices);
    }

    /** The state of {@code partial} at its own k. */
    public static PartialState of(RetrievalPartial partial) {
        return of(partial, partial.k());
    }

    /** The identity of {@link #merge}: no patterns seen. */
    public static PartialState empty(int batch, int valueDim, int k) {
        return of(RetrievalPartial.empty(batch, valueDim, k));
    }

    /** Back to the engine's partial (exact: the same doubles). */
    public RetrievalPartial toPartial() {
        TopK[] top = new TopK[batch];
        for (int q = 0; q < batch; q++) {
            top[q] = new TopK(k);
            for (int i = 0; i < topSizes[q]; i++) {
                top[q].offer(topScores[q * k + i], topIndices[q * k + i]);
            }
        }
        return new RetrievalPartial(batch, valueDim, k, count, max.clone(), sum.clone(), shifted.clone(), out.clone(), top);
    }

    /** Exact merge of the states of two disjoint slices of one memory (see {@link RetrievalPartial#merge}). */
    public static PartialState merge(PartialState a, PartialState b) {
        return of(RetrievalPartial.merge(a.toPartial(), b.toPartial()));
    }

    /** Bytes of the payload arrays: what one partial costs on the wire, before serialisation framing. */
    public long payloadBytes() {
        return 8L * (max.length + sum.length + shifted.length + out.length + topScores.length + topIndices.length)
                + 4L * topSizes.length + 24;
    }
}
