package dev.engram.engine;

/**
 * Parameters of one retrieval: the inverse temperature {@code beta} of {@code softmax(beta·q·Xᵀ)} and the number
 * {@code k} of most cosine-similar patterns to return per query.
 *
 * @param beta inverse temperature, finite and {@code > 0}
 * @param k    top-k size, {@code >= 0} (0 skips top-k); must not exceed the number of stored patterns
 */
public record RetrievalParams(float beta, int k) {
    public RetrievalParams {
        if (!(beta > 0) || !Float.isFinite(beta)) {
            throw new IllegalArgumentException("beta must be a finite number > 0, got " + beta);
        }
        if (k < 0) {
            throw new IllegalArgumentException("k must be >= 0, got " + k);
        }
    }
}
