package dev.engram.trading.backtest;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * What a strategy may learn from before a test window whose first decision bar is s: the traded symbol's history
 * up to bar s − 1 (a {@link MarketView} that refuses later bars), the training window's first bar, and the labelled
 * patterns of every symbol of the universe whose outcome was realised in time (see {@link WalkForward} for the purge
 * and embargo rules). Rows are in time order (ties by symbol order). Immutable; accessors copy.
 */
public final class TrainingSet {
    private final MarketView history;
    private final int trainFrom;
    private final int horizon;
    private final int dim;
    private final float[] patterns;
    private final double[] outcomes;
    private final long[] times;
    private final int[] symbols;
    private final int[] bars;
    private final List<String> symbolNames;

    private TrainingSet(MarketView history, int trainFrom, int horizon, int dim, float[] patterns, double[] outcomes,
                        long[] times, int[] symbols, int[] bars, List<String> symbolNames) {
        this.history = history;
        this.trainFrom = trainFrom;
        this.horizon = horizon;
        this.dim = dim;
        this.patterns = patterns;
        this.outcomes = outcomes;
        this.times = times;
        this.symbols = symbols;
        this.bars = bars;
        this.symbolNames = symbolNames;
    }

    /**
     * The training set of one fold.
     *
     * @param traded   the traded symbol (its bars index the fold; {@code fold.testFrom()} may equal its size: the
     *                 training set of a model trained on every bar)
     * @param universe every symbol whose patterns the memory holds (the traded one included)
     */
    public static TrainingSet of(MarketData traded, List<MarketData> universe, WalkForward.Fold fold, WalkForward wf) {
        int s = fold.testFrom();
        long interval = traded.series().interval().nominalMillis();
        long windowStartMs = traded.series().startMs(fold.trainFrom());
        // realised by the end of bar s−1 minus the embargo: end(i+h) ≤ start(s) − e·interval; s may be one past the
        // last bar (a model trained on the whole series), whose start is then the end of bar s−1
        long startS = s < traded.size() ? traded.series().startMs(s)
                : traded.series().interval().next(traded.series().startMs(s - 1));
        long cutoffMs = startS - (long) wf.embargo() * interval;
        int h = wf.horizon();
        int dim = traded.features().dim();
        record Row(long time, int symbol, int bar) {
        }
        List<Row> rows = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int k = 0; k < universe.size(); k++) {
            MarketData m = universe.get(k);
            names.add(m.symbol());
            if (m.features().dim() != dim) {
                throw new IllegalArgumentException("symbol " + m.symbol() + " has " + m.features().dim()
                        + " features, the traded symbol " + dim);
            }
            for (int i = m.features().first(); i + h < m.size(); i++) {
                long start = m.series().startMs(i);
                if (start < windowStartMs) {
                    continue;
                }
                long realised = m.series().interval().next(m.series().startMs(i + h));
                if (realised > cutoffMs) {
                    break;
                }
                rows.add(new Row(start, k, i));
            }
        }
        rows.sort(Comparator.comparingLong(Row::time).thenComparingInt(Row::symbol));
        int n = rows.size();
        float[] x = new float[n * dim];
        double[] y = new double[n];
        long[] t = new long[n];
        int[] sym = new int[n];
        int[] bar = new int[n];
        for (int r = 0; r < n; r++) {
            Row row = rows.get(r);
            MarketData m = universe.get(row.symbol());
            m.features().copyRow(row.bar(), x, r * dim);
            y[r] = m.forwardReturn(row.bar(), h);
            t[r] = row.time();
            sym[r] = row.symbol();
            bar[r] = row.bar();
        }
        return new TrainingSet(traded.viewAt(s - 1), fold.trainFrom(), h, dim, x, y, t, sym, bar, List.copyOf(names));
    }

    /** The traded symbol as known at the close of the bar before the test window. */
    public MarketView history() {
        return history;
    }

    /** The training window's first bar of the traded symbol. */
    public int trainFrom() {
        return trainFrom;
    }

    /** h: outcomes are forward returns over this many bars. */
    public int horizon() {
        return horizon;
    }

    /** Feature width d. */
    public int dim() {
        return dim;
    }

    /** Number of labelled patterns M. */
    public int size() {
        return outcomes.length;
    }

    /** Patterns, M×d row-major (unit vectors or zero rows), a copy. */
    public float[] patterns() {
        return patterns.clone();
    }

    /** Pattern r (a copy). */
    public float[] pattern(int r) {
        return Arrays.copyOfRange(patterns, r * dim, (r + 1) * dim);
    }

    /** Outcomes: forward returns c_{i+h}/c_i − 1, a copy. */
    public double[] outcomes() {
        return outcomes.clone();
    }

    public double outcome(int r) {
        return outcomes[r];
    }

    /** Bar start of each pattern (UTC ms), a copy. */
    public long[] times() {
        return times.clone();
    }

    public long time(int r) {
        return times[r];
    }

    /** Symbol of row r, as an index into {@link #symbolNames()}. */
    public int symbol(int r) {
        return symbols[r];
    }

    /** Bar index of row r in its symbol's series. */
    public int bar(int r) {
        return bars[r];
    }

    public List<String> symbolNames() {
        return symbolNames;
    }
}
