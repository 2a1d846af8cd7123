package dev.engram.trading.data;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BarSeriesTest {
    private static final long T0 = 1_704_067_200_000L; // 2024-01-01T00:00Z
    private static final long H = 3_600_000L;

    private static Bar bar(long t, double c) {
        return Bar.of(t, c, c + 1, c - 1, c, 10);
    }

    @Test
    void invalidBarsAndOrderAreRejectedWithTheValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Bar.of(T0, 10, 9, 8, 9.5, 1));
        assertTrue(e.getMessage().contains("high 9.0 is below max(open, close) = 10.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Bar.of(T0, 10, 11, 9, 10, -1));
        assertThrows(IllegalArgumentException.class, () -> Bar.of(T0, 10, 11, 0, 10, 1));
        assertThrows(IllegalArgumentException.class, () -> Bar.of(T0, Double.NaN, 11, 9, 10, 1));
        e = assertThrows(IllegalArgumentException.class,
                () -> BarSeries.of("X", Interval.H1, List.of(bar(T0 + H, 10), bar(T0, 10))));
        assertTrue(e.getMessage().contains("starts before the previous bar"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> BarSeries.of("X", Interval.H1, List.of(bar(T0, 10), bar(T0, 11))));
    }

    @Test
    void mergePrefersTheNewerBarAndDeduplicates() {
        BarSeries a = BarSeries.of("X", Interval.H1, List.of(bar(T0, 10), bar(T0 + H, 11), bar(T0 + 2 * H, 12)));
        BarSeries b = BarSeries.of("X", Interval.H1, List.of(bar(T0 + 2 * H, 20), bar(T0 + 3 * H, 13)));
        BarSeries m = a.merge(b);
        assertEquals(4, m.size());
        assertEquals(20, m.close(2));
        assertEquals(13, m.close(3));
        assertEquals(m, m.merge(m));
        assertEquals(2, m.between(T0 + H, T0 + 3 * H).size());
        assertEquals(T0 + H, m.between(T0 + H, T0 + 3 * H).firstMs());
        assertEquals(0, m.between(T0 + 10 * H, T0 + 20 * H).size());
    }

    @Test
    void monthlyGapsCountCalendarMonths() {
        long jan = 1_704_067_200_000L;           // 2024-01-01
        long feb = Interval.MONTH.next(jan);      // 2024-02-01
        long may = Interval.MONTH.next(Interval.MONTH.next(Interval.MONTH.next(feb)));
        assertEquals(1_706_745_600_000L, feb);
        BarSeries s = BarSeries.of("X", Interval.MONTH, List.of(bar(jan, 10), bar(feb, 11), bar(may, 12)));
        assertEquals(List.of(new Gap(feb, may, 2)), s.gaps());
    }

    @Test
    void misalignedStartsCountWholeMissingIntervals() {
        BarSeries s = BarSeries.of("X", Interval.H1, List.of(bar(T0, 10), bar(T0 + 2 * H + 1, 11)));
        assertEquals(List.of(new Gap(T0, T0 + 2 * H + 1, 2)), s.gaps());
        assertEquals(2, s.missingBars());
    }

    @Test
    void intervalNamesMapBetweenExchanges() {
        assertEquals(Interval.H1, Interval.parse("60"));
        assertEquals(Interval.H1, Interval.parse("1h"));
        assertEquals(Interval.MONTH, Interval.parse("M"));
        assertEquals(Interval.MONTH, Interval.parse("1M"));
        assertEquals(Interval.M1, Interval.parse("1m"));
        assertEquals(Interval.D1, Interval.parse("d"));
        assertEquals("1w", Interval.W1.binanceName());
        assertEquals("720", Interval.H12.bybitName());
        assertEquals(24 * 365.25, Interval.H1.barsPerYear(), 1e-9);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Interval.parse("7"));
        assertTrue(e.getMessage().startsWith("interval '7' is not one of 1, 3, 5"), e.getMessage());
    }
}
