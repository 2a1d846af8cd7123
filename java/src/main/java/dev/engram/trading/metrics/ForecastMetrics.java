package dev.engram.trading.metrics;

import dev.engram.trading.backtest.BacktestResult;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How good the forecasts behind the decisions were, judged against the realised forward return y_t = c_{t+h}/c_t − 1
 * of every decision bar t (bars whose y_t lies past the data are left out). ŷ_t is the decision's signal, c_t its
 * confidence, f_t its target position.
 *
 * @param hitRate            direction hit rate when trading: share of bars with f_t ≠ 0 and y_t ≠ 0 where
 *                           sign(f_t) = sign(y_t)
 * @param signalHitRate      the same over every bar with ŷ_t ≠ 0 (traded or not)
 * @param coverage           share of decision bars with f_t ≠ 0
 * @param meanConfidenceTrading mean c_t over bars with f_t ≠ 0
 * @param brier              Brier score of the direction forecast p_t(up) = ½(1 + c_t·sign(ŷ_t)) (confidence read
 *                           as the probability the sign is right): mean (p_t − 1[y_t > 0])²; 0.25 for a coin
 * @param calibration        hit rate of sign(ŷ_t) per confidence bin [0, 0.1), …, [0.9, 1]
 * @param confidenceQuantiles 5/25/50/75/95% quantiles of c_t over the decision bars (the confidence distribution)
 * @param meanConfidence     mean c_t over the decision bars
 * @param forecastRmse       √mean((ŷ_t − y_t)²): forecast error at the horizon
 * @param forecastMae        mean |ŷ_t − y_t|
 * @param bandCoverage       share of y_t inside the forecast's [5%, 95%] band, over bars with a band (for an
 *                           honest 90% band, about 0.9)
 * @param anomalies          bars the strategy flagged as anomalies (energy regime changes) and stood aside for
 * @param bars               decision bars with a realised forward return
 */
public record ForecastMetrics(double hitRate, double signalHitRate, double coverage, double meanConfidenceTrading,
                              double brier, List<Bin> calibration, double[] confidenceQuantiles,
                              double meanConfidence, double forecastRmse, double forecastMae, double bandCoverage,
                              int anomalies, int bars) {
    /** Quantile levels of {@link #confidenceQuantiles}. */
    public static final double[] LEVELS = {0.05, 0.25, 0.5, 0.75, 0.95};

    /**
     * One confidence bin.
     *
     * @param from           lower edge (inclusive)
     * @param to             upper edge (exclusive; the last bin includes 1)
     * @param count          forecasts with ŷ ≠ 0 in the bin
     * @param hitRate        share of them whose sign was right (NaN when empty)
     * @param meanConfidence their mean confidence
     */
    public record Bin(double from, double to, int count, double hitRate, double meanConfidence) {
    }

    public static ForecastMetrics of(BacktestResult r) {
        return of(r.signal(), r.confidence(), r.target(), r.lower(), r.upper(), r.forwardReturns(), r.decided(),
                r.anomaly());
    }

    /**
     * From per-bar arrays of equal length (see {@link BacktestResult} for their meaning; NaN where absent).
     *
     * @param y realised forward returns
     */
    public static ForecastMetrics of(double[] signal, double[] conf, double[] target, double[] lo, double[] hi,
                                     double[] y, boolean[] decided, boolean[] anomaly) {
        int n = 0;
        int traded = 0;
        int hits = 0;
        int hitN = 0;
        int sHits = 0;
        int sN = 0;
        double confTrading = 0;
        int confTradingN = 0;
        double brier = 0;
        int brierN = 0;
        double se = 0;
        double ae = 0;
        int errN = 0;
        int inside = 0;
        int bandN = 0;
        int anomalies = 0;
        int bins = 10;
        int[] binCount = new int[bins];
        int[] binHits = new int[bins];
        double[] binConf = new double[bins];
        List<Double> confs = new ArrayList<>();
        for (int j = 0; j < y.length; j++) {
            if (!decided[j] || Double.isNaN(y[j])) {
                continue;
            }
            n++;
            anomalies += anomaly[j] ? 1 : 0;
            boolean hasConf = !Double.isNaN(conf[j]);
            if (hasConf) {
                confs.add(conf[j]);
            }
            if (target[j] != 0) {
                traded++;
                if (y[j] != 0) {
                    hitN++;
                    hits += Math.signum(target[j]) == Math.signum(y[j]) ? 1 : 0;
                }
                if (hasConf) {
                    confTrading += conf[j];
                    confTradingN++;
                }
            }
            if (!Double.isNaN(signal[j])) {
                se += (signal[j] - y[j]) * (signal[j] - y[j]);
                ae += Math.abs(signal[j] - y[j]);
                errN++;
                if (signal[j] != 0 && y[j] != 0) {
                    boolean hit = Math.signum(signal[j]) == Math.signum(y[j]);
                    sN++;
                    sHits += hit ? 1 : 0;
                    if (hasConf) {
                        int b = Math.min(bins - 1, (int) (conf[j] * bins));
                        binCount[b]++;
                        binHits[b] += hit ? 1 : 0;
                        binConf[b] += conf[j];
                    }
                }
                if (hasConf) {
                    double pUp = 0.5 * (1 + conf[j] * Math.signum(signal[j]));
                    double o = y[j] > 0 ? 1 : 0;
                    brier += (pUp - o) * (pUp - o);
                    brierN++;
                }
            }
            if (!Double.isNaN(lo[j]) && !Double.isNaN(hi[j])) {
                bandN++;
                inside += y[j] >= lo[j] && y[j] <= hi[j] ? 1 : 0;
            }
        }
        List<Bin> calibration = new ArrayList<>();
        for (int b = 0; b < bins; b++) {
            calibration.add(new Bin(b / (double) bins, (b + 1) / (double) bins, binCount[b],
                    binCount[b] == 0 ? Double.NaN : (double) binHits[b] / binCount[b],
                    binCount[b] == 0 ? Double.NaN : binConf[b] / binCount[b]));
        }
        double[] c = confs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double[] q = new double[LEVELS.length];
        for (int k = 0; k < q.length; k++) {
            q[k] = quantile(c, LEVELS[k]);
        }
        return new ForecastMetrics(ratio(hits, hitN), ratio(sHits, sN), ratio(traded, n),
                confTradingN == 0 ? Double.NaN : confTrading / confTradingN, brierN == 0 ? Double.NaN : brier / brierN,
                List.copyOf(calibration), q, c.length == 0 ? Double.NaN : Arrays.stream(c).average().orElseThrow(),
                errN == 0 ? Double.NaN : Math.sqrt(se / errN), errN == 0 ? Double.NaN : ae / errN,
                ratio(inside, bandN), anomalies, n);
    }

    /** The type-7 quantile (linear between order statistics, as numpy's default) of sorted values; NaN if none. */
    public static double quantile(double[] sorted, double level) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double h = (sorted.length - 1) * level;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    private static double ratio(int a, int b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }

    /** snake_case keys, for the JSON output. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("hit_rate", hitRate);
        m.put("signal_hit_rate", signalHitRate);
        m.put("coverage", coverage);
        m.put("mean_confidence_trading", meanConfidenceTrading);
        m.put("mean_confidence", meanConfidence);
        Map<String, Object> qs = new LinkedHashMap<>();
        for (int k = 0; k < LEVELS.length; k++) {
            qs.put("p" + Math.round(100 * LEVELS[k]), confidenceQuantiles[k]);
        }
        m.put("confidence_quantiles", qs);
        m.put("brier", brier);
        List<Map<String, Object>> cal = new ArrayList<>();
        for (Bin b : calibration) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("from", b.from());
            e.put("to", b.to());
            e.put("count", b.count());
            e.put("hit_rate", b.hitRate());
            e.put("mean_confidence", b.meanConfidence());
            cal.add(e);
        }
        m.put("calibration", cal);
        m.put("forecast_rmse", forecastRmse);
        m.put("forecast_mae", forecastMae);
        m.put("band_coverage", bandCoverage);
        m.put("energy_anomalies", anomalies);
        m.put("bars", bars);
        return m;
    }
}
