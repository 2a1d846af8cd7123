package dev.engram.trading.strategy;

import dev.engram.hopfield.DenseAssociativeMemory;
import dev.engram.tensor.FloatMatrix;
import dev.engram.trading.backtest.Decision;
import dev.engram.trading.backtest.MarketView;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.TrainingSet;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The trained multi-head dense associative memory ({@link DenseAssociativeMemory}) as a predictor. At each fit, the
 * labelled training rows (time order) are split three ways, all inside the training window:
 * <ol>
 * <li>the memory: the oldest 40% (at most the newest {@code memorySize} of them), keys = patterns, values = y/σ_y;</li>
 * <li>training queries: the next 40%, targets t = clamp(y/(3σ_y), ±0.95) (the predictor head is a tanh);</li>
 * <li>validation: the newest 20%.</li>
 * </ol>
 * (Queries never meet themselves in the memory, which would teach the model to copy.) Training: AdamW with a cosine
 * schedule on the confidence-weighted MSE + diversity loss, in rounds of {@code stepsPerRound} steps; after each round
 * the validation MSE is measured; training stops after {@code patience} rounds without improvement (or
 * {@code maxRounds}) and the best round's weights are restored. For the test window the memory is then set to the
 * newest {@code memorySize} labelled rows of the whole window, the model frozen, and ŷ = 3σ_y·tanh(…) with the
 * model's confidence 1 − mean_h H_h/log M. The model has no top-k or dispersion, so novelty, consensus and volatility
 * scaling do not apply to it.
 */
public final class DenseMemoryStrategy implements Strategy {
    /**
     * @param memory        engine, signal and risk rules (β: the model's initial β, learned; NaN: the model default)
     * @param memorySize    stored patterns M
     * @param stepsPerRound optimiser steps between validations
     * @param maxRounds     at most this many rounds
     * @param patience      rounds without improvement before stopping
     * @param seed          weights and minibatch order
     */
    public record Config(MemoryStrategy.Config memory, int memorySize, int stepsPerRound, int maxRounds, int patience,
                         long seed) {
        public Config {
            if (memorySize < 2 || stepsPerRound < 1 || maxRounds < 1 || patience < 1) {
                throw new IllegalArgumentException("dense memory: memory size >= 2, steps per round, rounds and "
                        + "patience >= 1; got " + memorySize + ", " + stepsPerRound + ", " + maxRounds + ", " + patience);
            }
        }

        /** M ≤ 512, rounds of 40 steps, at most 4, patience 2 (sized for refitting every window on two cores). */
        public static Config defaults(MemoryStrategy.Config memory, long seed) {
            return new Config(memory, 512, 40, 4, 2, seed);
        }
    }

    /**
     * @param memorySize    M used
     * @param rounds        rounds trained
     * @param bestRound     the round restored (1-based)
     * @param validationMse its validation MSE on the scaled targets
     * @param beta          β after training
     */
    public record Fit(int memorySize, int rounds, int bestRound, double validationMse, double beta) {
    }

    private final Config config;
    private final List<Fit> fits = new ArrayList<>();
    private DenseAssociativeMemory model;
    private double outcomeStd;

    public DenseMemoryStrategy(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "dense";
    }

    public List<Fit> fits() {
        return List.copyOf(fits);
    }

    private dev.engram.trading.backtest.FitProgress progress = dev.engram.trading.backtest.FitProgress.NONE;

    @Override
    public void setProgress(dev.engram.trading.backtest.FitProgress progress) {
        this.progress = progress;
    }

    @Override
    public void fit(TrainingSet ts) {
        close();
        int n = ts.size();
        int d = ts.dim();
        if (n < 20) {
            throw new IllegalArgumentException("the training window holds " + n + " labelled patterns; the dense "
                    + "memory needs at least 20 (use more training bars)");
        }
        double[] y = ts.outcomes();
        outcomeStd = MemoryStrategy.std(y);
        double sd = outcomeStd > 0 ? outcomeStd : 1;
        int memEnd = (int) (0.4 * n);
        int trainEnd = (int) (0.8 * n);
        int m = Math.min(config.memorySize(), memEnd);
        double[][] keys = rows(ts, memEnd - m, memEnd);
        double[][] values = new double[m][1];
        for (int i = 0; i < m; i++) {
            values[i][0] = y[memEnd - m + i] / sd;
        }
        double[][] trainX = rows(ts, memEnd, trainEnd);
        double[] trainY = scaled(y, memEnd, trainEnd, sd);
        double[][] valX = rows(ts, trainEnd, n);
        double[] valY = scaled(y, trainEnd, n, sd);
        MemoryStrategy.Config mc = config.memory();
        DenseAssociativeMemory.Config dc = DenseAssociativeMemory.Config.defaults(d, 1, m);
        if (!Double.isNaN(mc.beta())) {
            dc = new DenseAssociativeMemory.Config(d, 1, m, dc.heads(), dc.headDim(), dc.modelDim(), mc.beta(), true);
        }
        model = new DenseAssociativeMemory(dc, config.seed());
        model.setMemory(keys, values);
        double best = validationMse(valX, valY);
        double[][] bestState = model.snapshot();
        int bestRound = 0;
        int rounds = 0;
        progress.update("training rounds", 0, config.maxRounds());
        for (int r = 1; r <= config.maxRounds() && r - bestRound <= config.patience(); r++) {
            DenseAssociativeMemory.TrainingConfig tc = DenseAssociativeMemory.TrainingConfig.defaults(config.stepsPerRound());
            model.train(trainX, trainY, new DenseAssociativeMemory.TrainingConfig(tc.steps(), tc.batchSize(),
                    tc.learningRate(), tc.minLearningRate(), tc.warmupSteps(), tc.weightDecay(), tc.diversityWeight(),
                    config.seed() * 1000 + r));
            rounds = r;
            double v = validationMse(valX, valY);
            if (v < best) {
                best = v;
                bestState = model.snapshot();
                bestRound = r;
            }
            progress.update("training rounds", r, config.maxRounds());
        }
        progress.update("training rounds", config.maxRounds(), config.maxRounds()); // early stop: done
        model.restore(bestState);
        // the memory for trading: the newest m labelled rows of the whole window
        double[][] k2 = rows(ts, n - m, n);
        double[][] v2 = new double[m][1];
        for (int i = 0; i < m; i++) {
            v2[i][0] = y[n - m + i] / sd;
        }
        model.setMemory(k2, v2);
        fits.add(new Fit(m, rounds, bestRound, best, model.beta()));
    }

    private double validationMse(double[][] x, double[] t) {
        DenseAssociativeMemory.Prediction p = predict(x);
        double s = 0;
        for (int i = 0; i < t.length; i++) {
            double e = p.predicted()[i] - t[i];
            s += e * e;
        }
        return s / t.length;
    }

    private DenseAssociativeMemory.Prediction predict(double[][] x) {
        int d = x[0].length;
        float[] f = new float[x.length * d];
        for (int i = 0; i < x.length; i++) {
            for (int c = 0; c < d; c++) {
                f[i * d + c] = (float) x[i][c];
            }
        }
        try (FloatMatrix q = FloatMatrix.of(f, x.length, d)) {
            return model.predict(config.memory().engine(), q);
        }
    }

    private static double[][] rows(TrainingSet ts, int from, int to) {
        double[][] r = new double[to - from][];
        for (int i = from; i < to; i++) {
            float[] p = ts.pattern(i);
            r[i - from] = new double[p.length];
            for (int c = 0; c < p.length; c++) {
                r[i - from][c] = p[c];
            }
        }
        return r;
    }

    private static double[] scaled(double[] y, int from, int to, double sd) {
        double[] t = new double[to - from];
        for (int i = from; i < to; i++) {
            t[i - from] = Math.clamp(y[i] / (3 * sd), -0.95, 0.95);
        }
        return t;
    }

    /**
     * What a fit learned: the model's shapes and every parameter block ({@link DenseAssociativeMemory#snapshot()},
     * the stored keys and values included) and σ_y.
     */
    public record State(DenseAssociativeMemory.Config model, double[][] parameters, double outcomeStd) {
    }

    /** The state of the latest fit (copies). */
    public State state() {
        if (model == null) {
            throw new IllegalStateException("dense strategy: no state before fit");
        }
        return new State(model.config(), model.snapshot(), outcomeStd);
    }

    /** A strategy that decides as the one whose {@link #state()} this is, without fitting. */
    public static DenseMemoryStrategy restore(Config config, State s) {
        DenseMemoryStrategy ds = new DenseMemoryStrategy(config);
        ds.model = new DenseAssociativeMemory(s.model(), config.seed());
        ds.model.restore(s.parameters());
        ds.outcomeStd = s.outcomeStd();
        return ds;
    }

    @Override
    public Decision decide(MarketView view) {
        return decideAll(List.of(view)).getFirst();
    }

    @Override
    public List<Decision> decideAll(List<MarketView> views) {
        if (model == null) {
            throw new IllegalStateException("dense strategy: decide before fit");
        }
        List<double[]> rows = new ArrayList<>();
        int[] rowOf = new int[views.size()];
        for (int i = 0; i < views.size(); i++) {
            MarketView v = views.get(i);
            rowOf[i] = -1;
            if (v.hasFeatures(v.now())) {
                float[] f = v.features(v.now());
                double[] r = new double[f.length];
                for (int c = 0; c < f.length; c++) {
                    r[c] = f[c];
                }
                rowOf[i] = rows.size();
                rows.add(r);
            }
        }
        List<Decision> out = new ArrayList<>(views.size());
        DenseAssociativeMemory.Prediction p = rows.isEmpty() ? null : predict(rows.toArray(double[][]::new));
        MemoryStrategy.Config mc = config.memory();
        for (int i = 0; i < views.size(); i++) {
            if (rowOf[i] < 0) {
                out.add(Decision.none());
                continue;
            }
            double yHat = 3 * outcomeStd * p.predicted()[rowOf[i]];
            double c = Math.clamp(p.confidence()[rowOf[i]], 0f, 1f);
            MemoryForecast f = new MemoryForecast(yHat, c, Double.NaN, Double.NaN, Double.NaN);
            double pos = mc.risk().apply(mc.signal().position(yHat, c, outcomeStd), f, outcomeStd);
            out.add(Decision.of(pos, yHat, c));
        }
        return out;
    }

    @Override
    public void close() {
        if (model != null) {
            model.close();
            model = null;
        }
    }
}
