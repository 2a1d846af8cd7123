package dev.engram.hnn;

import dev.engram.hnn.integrate.EnergyMonitor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EnergyMonitorTest {

    @Test
    void summarisesDriftAmplitudeAndRelativeError() {
        double[] e = new double[1001];
        for (int i = 0; i < e.length; i++) {
            e[i] = 2 + 0.1 * Math.sin(i * 0.05) + 1e-4 * i;
        }
        EnergyMonitor.Summary s = EnergyMonitor.of(e, 20);
        assertEquals(1001, s.samples());
        assertEquals(e[1000] - e[0], s.drift(), 1e-12);
        double max = java.util.Arrays.stream(e).max().orElseThrow();
        double min = java.util.Arrays.stream(e).min().orElseThrow();
        assertEquals((max - min) / 2, s.amplitude(), 1e-12);
        double rel = 0;
        for (double v : e) {
            rel = Math.max(rel, Math.abs(v - 2) / 2);
        }
        assertEquals(rel, s.maxRelativeError(), 1e-12);
    }

    @Test
    void aJumpInEnergyChangeStandsOutInTheZScore() {
        EnergyMonitor m = new EnergyMonitor(30);
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(1);
        double e = 1;
        double quietMax = 0;
        for (int i = 0; i < 300; i++) {
            e += 1e-3 * (rnd.nextDouble() - 0.5);
            double z = m.observe(e);
            quietMax = Math.max(quietMax, Math.abs(z));
        }
        double jump = m.observe(e + 0.05);
        assertTrue(quietMax < 6, "quiet z up to " + quietMax);
        assertTrue(jump > 50, "z of the jump " + jump);
        assertThrows(IllegalArgumentException.class, () -> m.observe(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new EnergyMonitor(1));
    }

    @Test
    void constantEnergyHasZeroZ() {
        EnergyMonitor m = new EnergyMonitor(5);
        for (int i = 0; i < 20; i++) {
            assertEquals(0, m.observe(3.0));
        }
        assertEquals(0, m.summary().drift());
    }
}
