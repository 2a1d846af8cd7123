package dev.engram.spark;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;

/**
 * What one partition does on its executor: maps the rows of its shard slices (only those pages are read), runs the
 * engine's {@link Backend#retrievePartial} over each slice, shifts top-k indices to global ones and merges.
 * No Spark types here, so the same code runs (and is tested) without a cluster.
 */
public final class SliceRetrieval {
    private SliceRetrieval() {
    }

    /**
     * The partial state of {@code queries} over every slice of one partition.
     *
     * @param queries  B×d float32
     * @param valueDim dv of the memory (for the empty partial of a partition without rows)
     * @return the merged partial at top-k capacity {@code params.k()}; the identity when {@code slices} is empty
     */
    public static RetrievalPartial compute(List<ShardedMemory.Slice> slices, FloatMatrix queries, RetrievalParams params,
                                           int valueDim, Backend engine) {
        int k = params.k();
        RetrievalPartial acc = RetrievalPartial.empty((int) queries.rows(), valueDim, k);
        for (ShardedMemory.Slice s : slices) {
            if (s.rows() == 0) {
                continue;
            }
            // Shared: the cpu engine reads the mapping from its worker threads.
            try (Arena arena = Arena.ofShared()) {
                FloatMatrix x = Npy.mapFloat(Path.of(s.patterns()), arena).rows(s.from(), s.to());
                FloatMatrix v = s.values() == null ? null : Npy.mapFloat(Path.of(s.values()), arena).rows(s.from(), s.to());
                try (PatternMemory memory = PatternMemory.wrap(x, v)) {
                    // A slice may hold fewer rows than k; its partial then keeps all of them.
                    RetrievalParams p = new RetrievalParams(params.beta(), (int) Math.min(k, s.rows()));
                    RetrievalPartial part = engine.retrievePartial(memory, 0, s.rows(), queries, p)
                            .withIndexOffset(s.shardOffset() + s.from());
                    acc = RetrievalPartial.merge(acc, p.k() == k ? part : PartialState.of(part, k).toPartial());
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return acc;
    }
}
