package dev.engram.trading.features;

import dev.engram.trading.data.BarSeries;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Phase spaces for the HNN, built causally from bars (the Hamiltonian text's {@code construct_phase_space} uses
 * {@code np.gradient}, a central difference that reads the next price, and full-sample statistics: both look ahead;
 * nothing here does). Rows before the warm-up are dropped, so every value is finite.
 */
public final class PhaseSpaces {
    private PhaseSpaces() {
    }

    /**
     * One degree of freedom: q_t = log c_t − mean(log c_{t−w+1} … log c_t) (the deviation from the moving average,
     * which includes bar t), p_t = the causal momentum of log c at t. First row: bar max(w − 1, the estimator's
     * warm-up).
     */
    public static PhaseSpace price(BarSeries s, int window, Momentum momentum) {
        if (window < 2) {
            throw new IllegalArgumentException("window must be >= 2, got " + window);
        }
        int n = s.size();
        double[] logP = new double[n];
        for (int t = 0; t < n; t++) {
            logP[t] = Math.log(s.close(t));
        }
        double[] mom = n == 0 ? new double[0] : momentum.apply(logP);
        RollingMoments ma = new RollingMoments(window);
        List<double[]> rows = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            ma.push(logP[t]);
            if (ma.isFull() && Double.isFinite(mom[t])) {
                rows.add(new double[] {s.startMs(t), logP[t] - ma.mean(), mom[t]});
            }
        }
        long[] times = new long[rows.size()];
        double[] q = new double[rows.size()];
        double[] p = new double[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            times[r] = (long) rows.get(r)[0];
            q[r] = rows.get(r)[1];
            p[r] = rows.get(r)[2];
        }
        return new PhaseSpace(List.of("log_price_deviation"), times, q, p);
    }

    /**
     * The crypto phase space of the Hamiltonian text, three degrees of freedom; with EMA weight α = 2/(span + 1)
     * (EMA started at the first value) and σ_t the sample std of the last {@code span} log returns:
     * <ul>
     * <li>q1 = log c − EMA(log c); p1 = log c_t − log c_{t−1} (the short-term return);</li>
     * <li>q2 = log(1 + v) − EMA(log(1 + v)) (log(1 + v) keeps zero-volume bars finite); p2 = (v_t − v_{t−1}) / mean of
     * the last {@code span} volumes (0 when that mean is 0);</li>
     * <li>q3 = (h − l)/c; p3 = σ_t − σ_{t−1} (the change of volatility).</li>
     * </ul>
     * First row: bar {@code span + 1} (σ needs {@code span} returns, its change one more bar).
     */
    public static PhaseSpace crypto(BarSeries s, int span) {
        if (span < 2) {
            throw new IllegalArgumentException("span must be >= 2, got " + span);
        }
        double alpha = 2.0 / (span + 1);
        int n = s.size();
        int first = span + 1;
        int rows = Math.max(0, n - first);
        long[] times = new long[rows];
        double[] q = new double[rows * 3];
        double[] p = new double[rows * 3];
        RollingMoments rets = new RollingMoments(span);
        RollingMoments vols = new RollingMoments(span);
        double emaP = 0;
        double emaV = 0;
        double prevSigma = 0;
        for (int t = 0; t < n; t++) {
            double lp = Math.log(s.close(t));
            double lv = Math.log1p(s.volume(t));
            emaP = t == 0 ? lp : alpha * lp + (1 - alpha) * emaP;
            emaV = t == 0 ? lv : alpha * lv + (1 - alpha) * emaV;
            vols.push(s.volume(t));
            double ret = t == 0 ? 0 : lp - Math.log(s.close(t - 1));
            if (t > 0) {
                rets.push(ret);
            }
            double sigma = rets.std();
            if (t >= first) {
                int r = t - first;
                times[r] = s.startMs(t);
                q[3 * r] = lp - emaP;
                q[3 * r + 1] = lv - emaV;
                q[3 * r + 2] = (s.high(t) - s.low(t)) / s.close(t);
                double avgV = vols.mean();
                p[3 * r] = ret;
                p[3 * r + 1] = avgV > 0 ? (s.volume(t) - s.volume(t - 1)) / avgV : 0;
                p[3 * r + 2] = sigma - prevSigma;
            }
            prevSigma = sigma;
        }
        return new PhaseSpace(List.of("price", "volume", "range"), times, q, p);
    }

    /**
     * Several assets, one (q, p) pair each ({@link #price}), on the bar times all of them have (an inner join; each
     * asset's coordinates are computed on its own series first, so the join cannot move information in time).
     * Coordinate i is asset i; names are the symbols.
     */
    public static PhaseSpace multiAsset(List<BarSeries> assets, int window, Momentum momentum) {
        if (assets.isEmpty()) {
            throw new IllegalArgumentException("no assets");
        }
        List<PhaseSpace> each = new ArrayList<>();
        long[] common = null;
        for (BarSeries s : assets) {
            PhaseSpace ps = price(s, window, momentum);
            each.add(ps);
            common = common == null ? ps.times() : intersect(common, ps.times());
        }
        int n = assets.size();
        double[] q = new double[common.length * n];
        double[] p = new double[common.length * n];
        for (int i = 0; i < n; i++) {
            PhaseSpace ps = each.get(i).at(common);
            for (int r = 0; r < common.length; r++) {
                q[r * n + i] = ps.q(r, 0);
                p[r * n + i] = ps.p(r, 0);
            }
        }
        return new PhaseSpace(assets.stream().map(BarSeries::symbol).toList(), common, q, p);
    }

    private static long[] intersect(long[] a, long[] b) {
        long[] out = new long[Math.min(a.length, b.length)];
        int i = 0;
        int j = 0;
        int n = 0;
        while (i < a.length && j < b.length) {
            if (a[i] == b[j]) {
                out[n++] = a[i];
                i++;
                j++;
            } else if (a[i] < b[j]) {
                i++;
            } else {
                j++;
            }
        }
        return Arrays.copyOf(out, n);
    }
}
