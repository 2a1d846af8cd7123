package dev.engram.engine;

import java.util.Arrays;

/**
 * The answer to a batch of B queries against a memory of M patterns.
 *
 * @param batch       B
 * @param valueDim    dv, the width of the values V
 * @param k           top-k size per query
 * @param output      B×dv row-major: {@code softmax(beta·q·Xᵀ)·V} per query
 * @param entropy     B: Shannon entropy (nats) of the attention weights, in [0, log M]
 * @param confidence  B: {@code 1 − entropy/log M} in [0, 1] (1 when M = 1)
 * @param topIndices  B×k row-major: indices of the k patterns with the highest cosine similarity, best first
 *                    (ties: smaller index first)
 * @param topScores   B×k row-major: their cosine similarities (0 for a zero query or pattern)
 */
public record RetrievalResult(int batch, int valueDim, int k, float[] output, float[] entropy, float[] confidence,
                              long[] topIndices, float[] topScores) {

    /** Row {@code b} of the output (a copy). */
    public float[] output(int b) {
        return Arrays.copyOfRange(output, b * valueDim, (b + 1) * valueDim);
    }

    /** The top-k indices of query {@code b} (a copy). */
    public long[] topIndices(int b) {
        return Arrays.copyOfRange(topIndices, b * k, (b + 1) * k);
    }

    /** The top-k cosine scores of query {@code b} (a copy). */
    public float[] topScores(int b) {
        return Arrays.copyOfRange(topScores, b * k, (b + 1) * k);
    }
}
