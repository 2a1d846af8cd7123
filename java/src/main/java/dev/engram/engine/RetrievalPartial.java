package dev.engram.engine;

/**
 * The mergeable state of a retrieval over a slice of the memory, per query b:
 * <pre>
 *   m_b = max_i s_bi                 with s_bi = beta·q_b·x_i
 *   l_b = Σ_i e^(s_bi − m_b)
 *   t_b = Σ_i e^(s_bi − m_b)·(s_bi − m_b)
 *   o_b = Σ_i e^(s_bi − m_b)·v_i     (dv-vector)
 *   top-k by cosine similarity
 * </pre>
 * ({@code t} is kept relative to {@code m}, which spares the entropy the cancellation of {@code m − t/l} at large
 * beta.) Two partials over disjoint slices merge exactly (a monoid): with {@code m = max(m_a, m_b)},
 * {@code α = e^(m_a − m)}, {@code β = e^(m_b − m)}:
 * <pre>
 *   l = α·l_a + β·l_b,  o = α·o_a + β·o_b,  t = α·(t_a + (m_a − m)·l_a) + β·(t_b + (m_b − m)·l_b)
 * </pre>
 * and at the end {@code out = o/l}, {@code H = log l − t/l}, {@code confidence = 1 − H/log M}.
 * The fields are stored as double and merges run in double, but a partial carries the precision of the engine that
 * made it: the native kernels compute m, l, t and o in float32 and hand them over widened. The empty partial (no
 * patterns) is the identity.
 */
public final class RetrievalPartial {
    private final int batch;
    private final int valueDim;
    private final int k;
    private final long count;
    private final double[] max;
    private final double[] sum;
    private final double[] shifted;
    private final double[] out;
    private final TopK[] top;

    /**
     * Takes ownership of the given arrays (engines build them; nobody else should).
     *
     * @param count   number of patterns this partial covers
     * @param max     B: m
     * @param sum     B: l
     * @param shifted B: t (relative to m)
     * @param out     B×dv: o
     * @param top     B top-k lists with pattern indices of the whole memory
     */
    public RetrievalPartial(int batch, int valueDim, int k, long count, double[] max, double[] sum, double[] shifted,
                            double[] out, TopK[] top) {
        if (max.length != batch || sum.length != batch || shifted.length != batch || top.length != batch
                || out.length != (long) batch * valueDim) {
            throw new IllegalArgumentException("partial arrays do not match batch " + batch + " × valueDim " + valueDim);
        }
        this.batch = batch;
        this.valueDim = valueDim;
        this.k = k;
        this.count = count;
        this.max = max;
        this.sum = sum;
        this.shifted = shifted;
        this.out = out;
        this.top = top;
    }

    /** The identity of {@link #merge}: no patterns seen. */
    public static RetrievalPartial empty(int batch, int valueDim, int k) {
        double[] m = new double[batch];
        java.util.Arrays.fill(m, Double.NEGATIVE_INFINITY);
        TopK[] top = new TopK[batch];
        for (int b = 0; b < batch; b++) {
            top[b] = new TopK(k);
        }
        return new RetrievalPartial(batch, valueDim, k, 0, m, new double[batch], new double[batch],
                new double[batch * valueDim], top);
    }

    public int batch() {
        return batch;
    }

    public int valueDim() {
        return valueDim;
    }

    public int k() {
        return k;
    }

    /** Number of stored patterns this partial covers. */
    public long count() {
        return count;
    }

    public double max(int b) {
        return max[b];
    }

    public double sum(int b) {
        return sum[b];
    }

    public double shifted(int b) {
        return shifted[b];
    }

    public double out(int b, int j) {
        return out[b * valueDim + j];
    }

    public TopK top(int b) {
        return top[b].copy();
    }

    /** This partial with every top-k index shifted by {@code offset}: for shards whose indices start at 0. */
    public RetrievalPartial withIndexOffset(long offset) {
        TopK[] t = new TopK[batch];
        for (int b = 0; b < batch; b++) {
            t[b] = top[b].shifted(offset);
        }
        return new RetrievalPartial(batch, valueDim, k, count, max.clone(), sum.clone(), shifted.clone(), out.clone(), t);
    }

    /** Exact merge of two partials over disjoint slices of the same memory (same queries, dv and k). */
    public static RetrievalPartial merge(RetrievalPartial a, RetrievalPartial b) {
        if (a.batch != b.batch || a.valueDim != b.valueDim || a.k != b.k) {
            throw new IllegalArgumentException("cannot merge partials of shape (B=" + a.batch + ", dv=" + a.valueDim
                    + ", k=" + a.k + ") and (B=" + b.batch + ", dv=" + b.valueDim + ", k=" + b.k + ")");
        }
        int n = a.batch;
        int dv = a.valueDim;
        double[] m = new double[n];
        double[] l = new double[n];
        double[] t = new double[n];
        double[] o = new double[n * dv];
        TopK[] top = new TopK[n];
        for (int q = 0; q < n; q++) {
            double mq = Math.max(a.max[q], b.max[q]);
            m[q] = mq;
            double wa = a.sum[q] == 0 ? 0 : Math.exp(a.max[q] - mq);
            double wb = b.sum[q] == 0 ? 0 : Math.exp(b.max[q] - mq);
            l[q] = wa * a.sum[q] + wb * b.sum[q];
            t[q] = (wa == 0 ? 0 : wa * (a.shifted[q] + (a.max[q] - mq) * a.sum[q]))
                    + (wb == 0 ? 0 : wb * (b.shifted[q] + (b.max[q] - mq) * b.sum[q]));
            for (int j = 0; j < dv; j++) {
                o[q * dv + j] = wa * a.out[q * dv + j] + wb * b.out[q * dv + j];
            }
            top[q] = a.top[q].copy();
            top[q].addAll(b.top[q]);
        }
        return new RetrievalPartial(n, dv, a.k, a.count + b.count, m, l, t, o, top);
    }

    /** Merges {@code other} into a new partial; see {@link #merge}. */
    public RetrievalPartial merge(RetrievalPartial other) {
        return merge(this, other);
    }

    /**
     * Final result, taking this partial to cover the whole memory of {@link #count()} patterns.
     *
     * @throws IllegalStateException if the partial covers no pattern
     */
    public RetrievalResult finish() {
        if (count == 0) {
            throw new IllegalStateException("cannot finish a retrieval over an empty memory");
        }
        float[] output = new float[batch * valueDim];
        float[] entropy = new float[batch];
        float[] confidence = new float[batch];
        long[] idx = new long[batch * k];
        float[] score = new float[batch * k];
        double logM = Math.log(count);
        for (int q = 0; q < batch; q++) {
            double lq = sum[q];
            for (int j = 0; j < valueDim; j++) {
                output[q * valueDim + j] = (float) (out[q * valueDim + j] / lq);
            }
            // H = −Σ p log p with p_i = e^(s_i − m)/l  ⇒  H = log l − t/l; round-off may dip a hair below 0 or above log M
            double h = Math.min(Math.max(Math.log(lq) - shifted[q] / lq, 0.0), logM);
            entropy[q] = (float) h;
            confidence[q] = count == 1 ? 1f : (float) (1.0 - h / logM);
            TopK t = top[q];
            if (t.size() < k) {
                throw new IllegalStateException("top-k of query " + q + " holds " + t.size() + " entries, expected " + k);
            }
            for (int i = 0; i < k; i++) {
                idx[q * k + i] = t.index(i);
                score[q * k + i] = (float) t.score(i);
            }
        }
        return new RetrievalResult(batch, valueDim, k, output, entropy, confidence, idx, score);
    }
}
