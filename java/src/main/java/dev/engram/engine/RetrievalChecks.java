package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;

import java.util.Objects;

/** Argument checks shared by all engines, so every engine rejects the same inputs with the same messages. */
public final class RetrievalChecks {
    private RetrievalChecks() {
    }

    /**
     * Checks a retrieval of {@code queries} against patterns {@code [from, to)} of {@code memory}: non-empty memory
     * and range, matching widths, finite queries, {@code k <= M}.
     */
    public static void check(PatternMemory memory, long from, long to, FloatMatrix queries, RetrievalParams params) {
        Objects.requireNonNull(memory, "memory");
        Objects.requireNonNull(queries, "queries");
        Objects.requireNonNull(params, "params");
        if (memory.size() == 0) {
            throw new IllegalArgumentException("memory is empty: retrieval needs at least one stored pattern");
        }
        if (from < 0 || to > memory.size() || from >= to) {
            throw new IllegalArgumentException("pattern range [" + from + ", " + to + ") is empty or outside 0.." + memory.size());
        }
        if (queries.rows() < 1) {
            throw new IllegalArgumentException("queries must hold at least one row, got 0");
        }
        if (queries.rows() > Integer.MAX_VALUE / Math.max(1, Math.max(memory.valueDim(), params.k()))) {
            throw new IllegalArgumentException("too many queries in one batch: " + queries.rows());
        }
        if (queries.cols() != memory.dim()) {
            throw new IllegalArgumentException("queries have d=" + queries.cols() + " columns but the memory stores patterns of d="
                    + memory.dim());
        }
        if (params.k() > memory.size()) {
            throw new IllegalArgumentException("k=" + params.k() + " exceeds the number of stored patterns M=" + memory.size());
        }
        queries.requireFinite("queries");
    }
}
