package dev.engram.engine.ffm;

import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A row replaced in place after the first retrieval is seen by the next one (the row is written in place on the device). */
class NativeRewriteTest {

    @Test
    void replacedRowsAreNotServedStale() {
        NativeTestSupport.assumeEmu();
        try (NativeBackend engine = NativeBackend.emulated();
             FloatMatrix x = RandomMatrices.uniform(300, 8, 1); FloatMatrix v = RandomMatrices.uniform(300, 2, 2);
             PatternMemory mem = PatternMemory.of(x, v); FloatMatrix q = RandomMatrices.uniform(3, 8, 3)) {
            RetrievalParams params = new RetrievalParams(4f, 1);
            engine.retrieve(mem, q, params);
            float[] aligned = q.row(0);
            for (int j = 0; j < aligned.length; j++) {
                aligned[j] *= 3; // far more similar to query 0 than any random row
            }
            mem.replace(123, aligned, new float[] {50f, -50f});
            RetrievalResult after = engine.retrieve(mem, q, params);
            RetrievalResult expected = new ReferenceBackend().retrieve(mem, q, params);
            assertEquals(123L, after.topIndices(0)[0]);
            for (int i = 0; i < expected.output().length; i++) {
                assertEquals(expected.output()[i], after.output()[i], 1e-3 * (1 + Math.abs(expected.output()[i])));
            }
        }
    }
}
