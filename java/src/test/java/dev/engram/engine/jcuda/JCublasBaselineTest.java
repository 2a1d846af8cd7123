package dev.engram.engine.jcuda;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The JCublas baseline where it cannot run (no libcublas.so.12, or no driver): one line saying why, and create()
 * refusing with that line instead of crashing. Its kernel (engram_kernel_scores_partials) is validated against a C
 * reference on the emulator by cuda/dev/scores.cu in every native build; its table entry against the fatbin by
 * JCudaWithoutDeviceTest.
 */
class JCublasBaselineTest {
    @Test
    void unavailableIsOneLineNamingWhatIsMissing() {
        String why = JCublasBaseline.unavailableReason();
        assumeTrue(why != null, "the JCublas baseline can run here; its unavailable path cannot be seen");
        assertEquals(1, why.lines().count(), why);
        assertTrue(why.startsWith("the JCublas baseline"), why);
        String cublasPrefix = "the JCublas baseline (JCublas 12.6 needs libcublas.so.12) is unavailable: ";
        if (why.startsWith(cublasPrefix)) {  // JCublas's natives did not load: the loader's one line says which library
            assertTrue(why.substring(cublasPrefix.length()).matches("JCuda natives cannot load: .+"), why);
        } else {  // they loaded, the jcuda engine cannot run here (driver, device or fatbins)
            assertTrue(why.startsWith("the JCublas baseline runs on the jcuda engine, which is unavailable: "), why);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> JCublasBaseline.create(0));
        assertEquals(why, e.getMessage());
    }

    @Test
    void theScoresKernelIsInTheTableWithItsSignature() {
        KernelTable k = KernelTable.SCORES_PARTIALS;
        assertEquals("engram_scores_partials.fatbin", k.module);
        assertEquals("engram_kernel_scores_partials", k.symbol);
        assertEquals(List.of("scores", "lds", "v", "dv", "norms", "from", "to", "qnorms", "batch", "beta", "k", "chunk",
                "m", "l", "t", "o", "top_score", "top_index"), k.params().stream().map(KernelTable.Param::name).toList());
        assertTrue(KernelTable.modules().contains("engram_scores_partials.fatbin"));
        assertFalse(KernelTable.modules().isEmpty());
    }
}
