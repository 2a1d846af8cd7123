package dev.engram.trading.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SyntheticMarketTest {
    @TempDir
    Path dir;

    @Test
    void sameSeedSameFilesAndTheyReadBack() throws Exception {
        SyntheticMarket.Params p = SyntheticMarket.Params.defaults().withBars(2000);
        Path a = dir.resolve("a");
        Path b = dir.resolve("b");
        Map<String, SyntheticMarket.SymbolData> data = SyntheticMarket.write(a, p);
        SyntheticMarket.write(b, p);
        for (String f : new String[] {"SYNBTC-60.csv", "SYNETH-funding.csv", "SYNSOL-open-interest.csv",
                "SYNBTC-regimes.csv", "sample.json"}) {
            assertArrayEquals(Files.readAllBytes(a.resolve(f)), Files.readAllBytes(b.resolve(f)), f);
        }
        assertTrue(Files.readString(a.resolve("sample.json")).contains("SYNTHETIC"));
        assertTrue(Files.readString(a.resolve("sample.json")).contains("\"reversionPerBar\" : 0.02"));
        BarSeries btc = CsvBars.read(a.resolve("SYNBTC-60.csv"), CsvBars.Options.defaults().withSymbol("SYNBTC"));
        assertEquals(data.get("SYNBTC").bars(), btc);
        assertEquals(2000, btc.size());
        assertTrue(btc.gaps().isEmpty());
        assertEquals(data.get("SYNETH").funding(), TimedValues.read(a.resolve("SYNETH-funding.csv")));
        SyntheticMarket.SymbolData other = SyntheticMarket.generate(p.withSeed(7)).get("SYNBTC");
        assertNotEquals(data.get("SYNBTC").bars(), other.bars());
    }

    @Test
    void regimesVolatilityAndVolumeBehaveAsDocumented() {
        SyntheticMarket.SymbolData d = SyntheticMarket.generate(SyntheticMarket.Params.defaults()).get("SYNETH");
        BarSeries s = d.bars();
        assertEquals(26_280, s.size());
        // Variance ratio of 24-bar log returns to 24 × 1-bar ones, per regime (windows wholly inside one regime):
        // trends add drift (VR > 1), OU reversion removes variance (VR < 1).
        double[] vr = new double[2];
        for (int regime = 0; regime < 2; regime++) {
            double v1 = 0;
            double v24 = 0;
            int n1 = 0;
            int n24 = 0;
            for (int t = 24; t < s.size(); t++) {
                boolean inside = true;
                for (int k = t - 24; k <= t && inside; k++) {
                    inside = d.regimes()[k] == regime;
                }
                if (!inside) {
                    continue;
                }
                double r24 = Math.log(s.close(t) / s.close(t - 24));
                v24 += r24 * r24;
                n24++;
                for (int k = t - 23; k <= t; k++) {
                    double r = Math.log(s.close(k) / s.close(k - 1));
                    v1 += r * r;
                    n1++;
                }
            }
            vr[regime] = (v24 / n24) / (24 * v1 / n1);
        }
        assertTrue(vr[0] < 0.85, "mean-reverting VR(24) = " + vr[0]);
        assertTrue(vr[1] > 1.15, "trending VR(24) = " + vr[1]);
        // volume goes with volatility: corr(log V, |r|) clearly positive
        int n = s.size() - 1;
        double[] lv = new double[n];
        double[] ar = new double[n];
        for (int t = 1; t <= n; t++) {
            lv[t - 1] = Math.log(s.volume(t));
            ar[t - 1] = Math.abs(Math.log(s.close(t) / s.open(t)));
        }
        assertTrue(corr(lv, ar) > 0.3, "corr(log volume, |return|) = " + corr(lv, ar));
        assertEquals(26_280 / 8, d.funding().size());
        assertEquals(0, d.funding().time(0) % (8 * 3_600_000L));
        for (double f : d.funding().values()) {
            assertTrue(Math.abs(f) < 0.01, "funding " + f);
        }
        assertEquals(26_280, d.openInterest().size());
        assertEquals(s.startMs(0) + 3_600_000L, d.openInterest().time(0));
    }

    private static double corr(double[] a, double[] b) {
        double ma = 0;
        double mb = 0;
        for (int i = 0; i < a.length; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= a.length;
        mb /= b.length;
        double sab = 0;
        double saa = 0;
        double sbb = 0;
        for (int i = 0; i < a.length; i++) {
            sab += (a[i] - ma) * (b[i] - mb);
            saa += (a[i] - ma) * (a[i] - ma);
            sbb += (b[i] - mb) * (b[i] - mb);
        }
        return sab / Math.sqrt(saa * sbb);
    }
}
