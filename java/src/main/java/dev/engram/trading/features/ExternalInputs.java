package dev.engram.trading.features;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.TimedValues;

import java.util.ArrayList;
import java.util.List;

/**
 * The external inputs u(t) of the port-Hamiltonian model, aligned to bars without look-ahead: a value published at τ
 * is usable from the first bar that starts at or after τ, so at bar t the input is the latest value with τ ≤ start_t
 * (a value published during bar t waits for bar t + 1, even though bar t's close comes later: conservative, never
 * early).
 */
public final class ExternalInputs {
    private ExternalInputs() {
    }

    /** For each bar start, the latest value published at or before it; NaN before the first publication. */
    public static double[] align(long[] barStarts, TimedValues values) {
        double[] out = new double[barStarts.length];
        int k = -1;
        for (int t = 0; t < barStarts.length; t++) {
            while (k + 1 < values.size() && values.time(k + 1) <= barStarts[t]) {
                k++;
            }
            out[t] = k < 0 ? Double.NaN : values.value(k);
        }
        return out;
    }

    /**
     * u(t) per bar: each series in {@code inputs} aligned ({@link #align}), then the bars' liquidation volume when the
     * series has that column (a bar's own volume is known at its close, like its price). Rows start at the first bar
     * where every input has been published.
     *
     * @param inputs e.g. funding rates and {@code openInterest.relativeChange("open_interest_change")}
     */
    public static FeatureMatrix of(BarSeries bars, List<TimedValues> inputs) {
        List<String> names = new ArrayList<>();
        List<double[]> cols = new ArrayList<>();
        long[] starts = bars.startTimes();
        for (TimedValues v : inputs) {
            names.add(v.name());
            cols.add(align(starts, v));
        }
        if (bars.hasLiquidation()) {
            names.add("liquidation_volume");
            double[] liq = new double[bars.size()];
            for (int t = 0; t < liq.length; t++) {
                liq[t] = bars.liquidation(t);
            }
            cols.add(liq);
        }
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no inputs: give funding or open interest, or bars with liquidations");
        }
        int first = 0;
        for (double[] c : cols) {
            int i = 0;
            while (i < c.length && Double.isNaN(c[i])) {
                i++;
            }
            first = Math.max(first, i);
        }
        int rows = Math.max(0, bars.size() - first);
        int d = names.size();
        long[] times = new long[rows];
        double[] values = new double[rows * d];
        for (int r = 0; r < rows; r++) {
            times[r] = starts[first + r];
            for (int j = 0; j < d; j++) {
                values[r * d + j] = cols.get(j)[first + r];
            }
        }
        return new FeatureMatrix(names, times, values);
    }
}
