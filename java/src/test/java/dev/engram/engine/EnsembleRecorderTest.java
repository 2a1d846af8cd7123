package dev.engram.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class EnsembleRecorderTest {
    private static final MlpWeights H = MlpWeights.glorot(new int[] {4, 8, 1}, 1); // n = 2

    @Test
    void requiredBytesCountsSamplesStatesAndTheResult() {
        // N = 1000, n = 2, steps 10 sampled every 5: S = 3 samples (0, 5, 10)
        EnsembleSpec spec = EnsembleSpec.of(H, new float[2], new float[2], 1000, 0.01f, 10, 0, 0, 0, 1, 5);
        assertEquals(3, spec.sampleSteps().length);
        long floats = 3L * 1000 * 5 + 1000L * 4 + 1000 + 4 * 1000;
        assertEquals(4 * floats, EnsembleRecorder.requiredBytes(spec));
        assertEquals(4 * (floats + 3L * 1000 * 4), EnsembleRecorder.requiredBytes(spec.withKeepPaths(true)));
    }

    @Test
    void anEnsembleLargerThanTheHeapIsRefusedBeforeAllocating() {
        EnsembleSpec spec = EnsembleSpec.of(H, new float[2], new float[2], 200_000_000, 0.01f, 1, 0, 0, 0, 1, 1);
        long need = EnsembleRecorder.requiredBytes(spec);
        assumeTrue(need > Runtime.getRuntime().maxMemory(), "this JVM's heap holds the case");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new EnsembleRecorder(spec));
        assertTrue(e.getMessage().startsWith(String.format("the ensemble's samples and result need %.2f GiB of Java heap "
                + "(2 samples × 200000000 trajectories × 5 coordinates", need / (double) (1L << 30))), e.getMessage());
        assertTrue(e.getMessage().contains("raise the heap (-Xmx)"), e.getMessage());
    }
}
