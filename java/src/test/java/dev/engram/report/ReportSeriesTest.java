package dev.engram.report;

import org.junit.jupiter.api.Test;

import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportSeriesTest {
    @Test
    void underwaterIsTheFractionBelowTheRunningPeakWithTheInitialEquityAsFirstPeak() {
        double[] u = ReportSeries.underwater(100, new double[] {90, 110, 99, 121, 110});
        assertArrayEquals(new double[] {-0.1, 0, -0.1, 0, 110.0 / 121 - 1}, u, 1e-12);
    }

    @Test
    void rollingSharpeByHand() {
        // returns 0.1, -0.05, 0.02 (from equity 1.1, 1.045, 1.0659); window 3: mean 0.0233…, sd with n − 1
        double[] eq = {1.1, 1.045, 1.0659};
        double[] s = ReportSeries.rollingSharpe(1, eq, 3, 4);
        double m = (0.1 - 0.05 + 0.02) / 3;
        double sd = Math.sqrt(((0.1 - m) * (0.1 - m) + (-0.05 - m) * (-0.05 - m) + (0.02 - m) * (0.02 - m)) / 2);
        assertTrue(Double.isNaN(s[0]) && Double.isNaN(s[1]));
        assertEquals(m / sd * 2, s[2], 1e-9);
        assertThrows(IllegalArgumentException.class, () -> ReportSeries.rollingSharpe(1, eq, 1, 4));
    }

    @Test
    void monthlyReturnsChainFromTheLastBarOfThePreviousMonth() {
        long[] t = {ms("2023-11-29T00:00:00Z"), ms("2023-11-30T23:00:00Z"), ms("2023-12-01T00:00:00Z"),
                ms("2024-01-05T00:00:00Z")};
        ReportSeries.Monthly m = ReportSeries.monthly(t, 100, new double[] {101, 110, 99, 121});
        assertArrayEquals(new int[] {2023, 2024}, m.years());
        assertEquals(0.10, m.returns()[0][10], 1e-12);
        assertEquals(99.0 / 110 - 1, m.returns()[0][11], 1e-12);
        assertEquals(121.0 / 99 - 1, m.returns()[1][0], 1e-12);
        assertTrue(Double.isNaN(m.returns()[0][0]) && Double.isNaN(m.returns()[1][1]));
    }

    private static long ms(String iso) {
        return Instant.parse(iso).toEpochMilli();
    }
}
