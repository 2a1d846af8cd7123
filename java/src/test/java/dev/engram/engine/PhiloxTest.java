package dev.engram.engine;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Philox4x32-10 against the Random123 known-answer vectors, and the normals it feeds. */
class PhiloxTest {

    @Test
    void random123KnownAnswers() {
        int[] out = new int[4];
        Philox.block(0, 0, 0, 0, 0, 0, out);
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, out);
        Philox.block(-1, -1, -1, -1, -1, -1, out);
        assertArrayEquals(new int[] {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}, out);
        Philox.block(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out);
        assertArrayEquals(new int[] {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}, out);
    }

    @Test
    void normalsHaveUnitMomentsAndDependOnlyOnTheirCounters() {
        double[] g = new double[4];
        double sum = 0;
        double sq = 0;
        int n = 0;
        for (long stream = 0; stream < 20_000; stream++) {
            Philox.gaussians(42, stream, 3, 0, g);
            for (double v : g) {
                sum += v;
                sq += v * v;
                n++;
            }
        }
        assertEquals(0, sum / n, 0.01);
        assertEquals(1, sq / n, 0.02);
        double[] a = new double[4];
        double[] b = new double[4];
        Philox.gaussians(7, 123, 5, 1, a);
        Philox.gaussians(8, 1, 1, 1, b);
        Philox.gaussians(7, 123, 5, 1, b);
        assertArrayEquals(a, b);
    }
}
