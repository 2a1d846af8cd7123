package dev.engram.trading.strategy;

import dev.engram.engine.Backend;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.EnsembleModel;
import dev.engram.hnn.DissipativeHamiltonianNetwork;
import dev.engram.hnn.HamiltonianGradient;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.LearnedField;
import dev.engram.hnn.PortHamiltonianNetwork;
import dev.engram.hnn.SeparableHamiltonianNetwork;
import dev.engram.hnn.train.PhaseSpaceSamples;
import dev.engram.hnn.train.Trainer;
import dev.engram.hnn.train.TrainingConfig;
import dev.engram.hnn.train.TrainingResult;
import dev.engram.trading.backtest.Decision;
import dev.engram.trading.backtest.MarketView;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.TrainingSet;
import dev.engram.trading.data.TimedValues;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The Hamiltonian text's trader. Phase space: the price phase space ({@link PricePhase}: q = log c minus its w-bar
 * moving average, p = the last log return), each coordinate scaled by its standard deviation over the training
 * window (fixed for the test window). Time unit: one bar.
 * <p>
 * <b>Model kinds</b> ({@link Kind}): the general HNN H(q, p) ({@link HamiltonianNetwork}, Tao's scheme), the
 * separable H = T(p) + V(q) ({@link SeparableHamiltonianNetwork}, leapfrog), the dissipative model with a learned
 * damping D(q, p) ≥ 0 ({@link DissipativeHamiltonianNetwork}, RK4) and the port-Hamiltonian model driven by external
 * inputs u(t) such as the funding rate and the open-interest change ({@link PortHamiltonianNetwork}, RK4). The port
 * model's u at bar i is the latest value of each input series published at or before bar i's start (the rule of
 * {@code ExternalInputs.align}), read through the view's {@code startMs(i)}, which refuses i &gt; t: the inputs are
 * causal by construction. Each input is standardised by its mean and standard deviation over the training window
 * (0 before its first publication). Over the forecast horizon u is held at its value at the decision bar t (a
 * zero-order hold: the future inputs are unknown at t), so each decision bar is its own ensemble call.
 * <p>
 * <b>Fit</b>: the model (tanh MLPs, every network 32 → 32 for H, T, V; 16 for the damping and the input map) trained
 * with {@link Trainer} on the
 * training window's states (the newest {@code maxSamples}) with causal backward-difference targets (dq/dt ≈ q_t −
 * q_{t−1}, never central differences), AdamW, a held-out 20% validation split of the window with early stopping.
 * The momentum-noise level σ is the standard deviation of the training residual of dp/dt.
 * <p>
 * <b>Forecast</b> at bar t: N trajectories from the current state perturbed by N(0, σ_0²) in each coordinate,
 * integrated h bars ahead (h = the walk-forward horizon) with {@code stepsPerBar} steps per bar (Tao's symplectic
 * scheme: H is not separable) and momentum noise σ, on the engine. A whole test window is one ensemble call (each
 * bar's N trajectories are rows of the explicit initial states; noise is keyed by trajectory, so the split does not
 * matter). Quantiles of q and p at the horizon are taken per bar.
 * <p>
 * <b>Trade</b>: Δq = median q_{t+h} − q_t; long when Δq &gt; θ and the median p_{t+h} &gt; 0, short when Δq &lt; −θ
 * and p &lt; 0, else flat (θ = the signal threshold, in σ of q); size = clamp(scale·|Δq| / spread, 0, max) with
 * spread = q95 − q5 of the ensemble.
 * <p>
 * <b>Energy risk</b>: the energy H of the current state is z-scored against the energies of the last
 * {@code energyWindow} states (computed from the view's bars); |z| &gt; 2 → flat (regime change, flagged as an
 * anomaly). Energy stop-loss: when the realised state's energy at bar t lies outside the 5–95% energy band that the
 * forecast made at bar t − h predicted for it, the position is closed at t.
 * <p>
 * The forecast's q quantiles are mapped to forward returns for the metrics: with L = log c, the moving average over
 * the next h bars is taken to move along a straight line from L_t to the forecast L_{t+h} (exact for h = 1), which
 * makes q_{t+h} linear in L_{t+h}.
 */
public final class HnnStrategy implements Strategy {
    /**
     * @param engine       ensemble engine
     * @param hidden       hidden widths of the MLP
     * @param epochs       training epochs at most
     * @param maxSamples   newest training states used
     * @param window       w of the moving average
     * @param trajectories N per decision bar
     * @param stepsPerBar  integrator steps per bar
     * @param sigma0       initial perturbation (in σ of each coordinate)
     * @param threshold    θ in σ of q
     * @param scale        position per unit of |Δq|/spread
     * @param maxPosition  largest |position|
     * @param energyWindow trailing states for the energy z-score
     * @param seed         weights, validation split, perturbations, noise
     */
    public record Config(Backend engine, int[] hidden, int epochs, int maxSamples, int window, int trajectories,
                         int stepsPerBar, double sigma0, double threshold, double scale, double maxPosition,
                         int energyWindow, long seed) {
        public Config {
            if (engine == null || hidden == null || hidden.length == 0) {
                throw new IllegalArgumentException("hnn strategy needs an engine and hidden widths");
            }
            if (epochs < 1 || maxSamples < 20 || window < 2 || trajectories < 20 || stepsPerBar < 1
                    || energyWindow < 10) {
                throw new IllegalArgumentException("hnn strategy: epochs >= 1, samples >= 20, window >= 2, "
                        + "trajectories >= 20, steps per bar >= 1, energy window >= 10");
            }
        }

        /**
         * Small enough to refit every window on two cores: 2 → 32 → 32 → 1, at most 40 epochs over the newest 2000
         * states, w = 20, 200 trajectories × 10 steps per bar, σ_0 = 0.05, threshold and scale from the signal rule.
         */
        public static Config defaults(Backend engine, SignalRule rule, long seed) {
            return new Config(engine, new int[] {32, 32}, 40, 2000, 20, 200, 10, 0.05, rule.threshold(),
                    rule.scale() / 5, rule.maxPosition(), 100, seed);
        }
    }

    /**
     * @param samples        training states
     * @param epochs         epochs run
     * @param validationLoss best validation loss
     * @param energyMean     mean energy of the training states
     * @param energyStd      its standard deviation
     * @param noise          momentum noise σ used
     * @param seconds        training time
     */
    public record Fit(int samples, int epochs, double validationLoss, double energyMean, double energyStd,
                      double noise, double seconds) {
    }

    /** The Hamiltonian model kinds the strategy can fit, by their {@code --hnn-kind} names. */
    public enum Kind {
        HNN("hnn"), SEPARABLE("separable"), DISSIPATIVE("dissipative"), PORT("port");

        /** The names accepted by {@link #parse}. */
        public static final List<String> NAMES = List.of("hnn", "separable", "dissipative", "port");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        /** The kind called {@code name} (hnn, separable, dissipative or port). */
        public static Kind parse(String name) {
            for (Kind k : values()) {
                if (k.label.equals(name)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("--hnn-kind " + name + " is not one of " + NAMES);
        }

        EnsembleSpec.Scheme scheme() {
            return switch (this) {
                case HNN -> EnsembleSpec.Scheme.TAO;
                case SEPARABLE -> EnsembleSpec.Scheme.LEAPFROG;
                case DISSIPATIVE, PORT -> EnsembleSpec.Scheme.RK4;
            };
        }
    }

    private final Config config;
    private final Kind kind;
    private final List<TimedValues> inputs;
    private final List<Fit> fits = new ArrayList<>();
    private LearnedField model;
    private HamiltonianGradient hamiltonian;
    private double[] uMean;
    private double[] uStd;
    private double sq;
    private double sp;
    private double noise;
    private int horizon;
    private int fitIndex;
    private int stops;
    private int anomalies;
    private FinalState lastFinal;

    /** Quantile levels of {@link FinalState}. */
    public static final double[] LEVELS = {0.05, 0.25, 0.5, 0.75, 0.95};

    /**
     * The Monte-Carlo final state (at the horizon) of the last bar of the latest {@link #decideAll} call: quantiles at
     * {@link #LEVELS} of q and p (model units: each coordinate over its training σ), of the energy H, and of the
     * forward return the q quantiles imply; the start state (q0, p0).
     *
     * @param bar          the decision bar
     * @param trajectories N
     * @param diverged     trajectories dropped as diverged
     */
    public record FinalState(int bar, int trajectories, int diverged, double q0, double p0, double[] q, double[] p,
                             double[] energy, double[] forwardReturn) {
    }

    /**
     * What a fit learned: the model, the phase-space scales σ_q and σ_p, the momentum noise σ, the horizon, the
     * inputs' standardisation and the fit counter (it seeds the forecast's perturbations and noise).
     */
    public record State(LearnedField model, double qScale, double pScale, double noise, int horizon, double[] uMean,
                        double[] uStd, int fitIndex) {
    }

    /** The state of the latest fit. */
    public State state() {
        if (model == null) {
            throw new IllegalStateException("hnn strategy: no state before fit");
        }
        return new State(model, sq, sp, noise, horizon, uMean == null ? new double[0] : uMean.clone(),
                uStd == null ? new double[0] : uStd.clone(), fitIndex);
    }

    /** A strategy that decides as the one whose {@link #state()} this is, without fitting. */
    public static HnnStrategy restore(Config config, Kind kind, List<TimedValues> inputs, State s) {
        HnnStrategy h = new HnnStrategy(config, kind, inputs);
        if (s.uMean().length != inputs.size() || s.uStd().length != inputs.size()) {
            throw new IllegalArgumentException("the model was trained with " + s.uMean().length + " input series, "
                    + inputs.size() + " given");
        }
        h.model = s.model();
        h.hamiltonian = (HamiltonianGradient) s.model();
        h.sq = s.qScale();
        h.sp = s.pScale();
        h.noise = s.noise();
        h.horizon = s.horizon();
        h.uMean = s.uMean().clone();
        h.uStd = s.uStd().clone();
        h.fitIndex = s.fitIndex();
        return h;
    }

    /** The final state of the last bar decided, empty before any decision or when that bar had no forecast. */
    public java.util.Optional<FinalState> lastFinalState() {
        return java.util.Optional.ofNullable(lastFinal);
    }

    /** The general HNN, no inputs. */
    public HnnStrategy(Config config) {
        this(config, Kind.HNN, List.of());
    }

    /**
     * @param kind   model kind
     * @param inputs the port model's u(t) series (funding rate, open-interest change, …), at least one; empty for
     *               the other kinds
     */
    public HnnStrategy(Config config, Kind kind, List<TimedValues> inputs) {
        if (kind == Kind.PORT && inputs.isEmpty()) {
            throw new IllegalArgumentException("--hnn-kind port needs external inputs: give --funding FILE.csv "
                    + "and/or --open-interest FILE.csv");
        }
        if (kind != Kind.PORT && !inputs.isEmpty()) {
            throw new IllegalArgumentException("--hnn-kind " + kind.label() + " takes no external inputs ("
                    + inputs.size() + " given): inputs drive only --hnn-kind port");
        }
        this.config = config;
        this.kind = kind;
        this.inputs = List.copyOf(inputs);
    }

    @Override
    public String name() {
        return kind == Kind.HNN ? "hnn" : "hnn-" + kind.label();
    }

    public Kind kind() {
        return kind;
    }

    public List<Fit> fits() {
        return List.copyOf(fits);
    }

    /**
     * The model of the latest fit and its phase-space scales, for reports: the model's state is (q/qScale, p/pScale)
     * with q, p from {@link PricePhase#states} at moving-average window {@code window}.
     */
    public record Latest(LearnedField model, double qScale, double pScale, int window, double noise) {
        /** The model's H(q, p): every kind this strategy trains (hnn, separable, dissipative, port) has one. */
        public HamiltonianGradient hamiltonian() {
            return (HamiltonianGradient) model;
        }
    }

    /** The latest fit, empty before the first. */
    public java.util.Optional<Latest> latest() {
        return model == null ? java.util.Optional.empty()
                : java.util.Optional.of(new Latest(model, sq, sp, config.window(), noise));
    }

    /** Energy stop-losses taken so far. */
    public int stops() {
        return stops;
    }

    /** Bars stood aside for an energy anomaly so far. */
    public int anomalies() {
        return anomalies;
    }

    private dev.engram.trading.backtest.FitProgress progress = dev.engram.trading.backtest.FitProgress.NONE;

    @Override
    public void setProgress(dev.engram.trading.backtest.FitProgress progress) {
        this.progress = progress;
    }

    @Override
    public void fit(TrainingSet ts) {
        MarketView h = ts.history();
        int from = Math.max(ts.trainFrom(), h.now() + 1 - config.maxSamples() - PricePhase.first(config.window()) - 1);
        double[] closes = new double[h.now() + 1 - from];
        for (int i = from; i <= h.now(); i++) {
            closes[i - from] = h.close(i);
        }
        double[][] st = PricePhase.states(closes, config.window());
        if (st[0].length < 40) {
            throw new IllegalArgumentException("the training window gives " + st[0].length + " phase-space states; "
                    + "the HNN needs at least 40 (use more training bars)");
        }
        sq = std(st[0]);
        sp = std(st[1]);
        if (!(sq > 0) || !(sp > 0)) {
            throw new IllegalArgumentException("the training window's prices do not move (std of q " + sq + ", of p "
                    + sp + "): nothing to learn");
        }
        double[] q = scale(st[0], sq);
        double[] p = scale(st[1], sp);
        int m = inputs.size();
        int firstBar = from + PricePhase.first(config.window());
        double[][] raw = new double[q.length][];
        for (int k = 0; k < q.length; k++) {
            raw[k] = rawInputs(h, firstBar + k);
        }
        standardisation(raw, m);
        // causal backward-difference targets: the sample at state k pairs (q_k, p_k, u_k) with x_k − x_{k−1}
        int size = q.length - 1;
        double[] sq1 = new double[size];
        double[] sp1 = new double[size];
        double[] su = new double[size * m];
        double[] dqdt = new double[size];
        double[] dpdt = new double[size];
        for (int k = 1; k < q.length; k++) {
            sq1[k - 1] = q[k];
            sp1[k - 1] = p[k];
            dqdt[k - 1] = q[k] - q[k - 1];
            dpdt[k - 1] = p[k] - p[k - 1];
            double[] u = standardised(raw[k]);
            System.arraycopy(u, 0, su, (k - 1) * m, m);
        }
        PhaseSpaceSamples data = new PhaseSpaceSamples(1, m, sq1, sp1, su, dqdt, dpdt);
        horizon = ts.horizon();
        model = create(config.seed() + 7919L * fitIndex);
        hamiltonian = (HamiltonianGradient) model;
        TrainingConfig tc = TrainingConfig.defaults().withEpochs(config.epochs()).withBatchSize(128)
                .withOptimizer(TrainingConfig.Optimizer.ADAMW, 3e-3, 1e-4).withCosineSchedule(1e-4, 10)
                .withClipNorm(1.0).withValidation(0.2, 5, true).withSeed(config.seed() + fitIndex);
        progress.update("epochs", 0, config.epochs());
        TrainingResult r = Trainer.train(model, data, tc,
                (epoch, trainLoss, validationLoss, lr) -> progress.update("epochs", epoch + 1L, config.epochs()));
        progress.update("epochs", config.epochs(), config.epochs()); // early stop: done
        // momentum noise: the std of what the model leaves unexplained of dp/dt
        double[][] bq = new double[data.size()][1];
        double[][] bp = new double[data.size()][1];
        double[][] bu = new double[data.size()][m];
        double[][] outQ = new double[data.size()][1];
        double[][] outP = new double[data.size()][1];
        double[] res = new double[data.size()];
        double[] e = new double[data.size()];
        for (int i = 0; i < data.size(); i++) {
            bq[i][0] = data.q()[i];
            bp[i][0] = data.p()[i];
            System.arraycopy(data.u(), i * m, bu[i], 0, m);
        }
        model.predict(bq, bp, bu, outQ, outP);
        for (int i = 0; i < data.size(); i++) {
            res[i] = data.dpdt()[i] - outP[i][0];
            e[i] = hamiltonian.energy(bq[i], bp[i]);
        }
        noise = std(res);
        fits.add(new Fit(data.size(), r.epochs(), r.bestValidationLoss(), mean(e), std(e), noise, r.seconds()));
        fitIndex++;
    }

    @Override
    public Decision decide(MarketView view) {
        return decideAll(List.of(view)).getFirst();
    }

    @Override
    public List<Decision> decideAll(List<MarketView> views) {
        if (model == null) {
            throw new IllegalStateException("hnn strategy: decide before fit");
        }
        int b = views.size();
        lastFinal = null;
        int n = config.trajectories();
        int w = config.window();
        int f = PricePhase.first(w);
        double[][] state = new double[b][];
        double[] z = new double[b];
        double[] logs = new double[b];
        double[] maTerms = new double[b];
        SplittableRandom rnd = new SplittableRandom(config.seed() * 31 + fitIndex);
        float[] init = new float[b * n * 2];
        double[][] uNow = new double[b][];
        for (int i = 0; i < b; i++) {
            MarketView v = views.get(i);
            int t = v.now();
            int from = Math.max(0, t - config.energyWindow() - f);
            double[] c = new double[t + 1 - from];
            for (int j = from; j <= t; j++) {
                c[j - from] = v.close(j);
            }
            double[][] st = PricePhase.states(c, w);
            int last = st[0].length - 1;
            if (last < 10) {
                continue;
            }
            double q0 = st[0][last] / sq;
            double p0 = st[1][last] / sp;
            state[i] = new double[] {q0, p0};
            uNow[i] = standardised(rawInputs(v, t));
            double[] energies = new double[last];
            for (int k = 0; k < last; k++) {
                energies[k] = hamiltonian.energy(new double[] {st[0][k] / sq}, new double[] {st[1][k] / sp});
            }
            double eNow = hamiltonian.energy(new double[] {q0}, new double[] {p0});
            double es = std(energies);
            z[i] = es > 0 ? (eNow - mean(energies)) / es : 0;
            logs[i] = Math.log(c[c.length - 1]);
            // the moving-average terms that leave the window over the next h bars: L_{t−w+1} … L_{t−w+h}
            double old = 0;
            for (int j = 0; j < horizon; j++) {
                int idx = c.length - w + j;
                old += idx >= 0 ? Math.log(c[idx]) : Math.log(c[0]);
            }
            maTerms[i] = old;
            for (int k = 0; k < n; k++) {
                int row = (i * n + k) * 2;
                init[row] = (float) (q0 + config.sigma0() * rnd.nextGaussian());
                init[row + 1] = (float) (p0 + config.sigma0() * rnd.nextGaussian());
            }
        }
        int steps = config.stepsPerBar() * horizon;
        EnsembleResult[] parts = new EnsembleResult[b];
        int[] base = new int[b];
        if (kind != Kind.PORT) {
            EnsembleResult all = integrate(model.toEnsembleModel(null), init, b * n, steps, 0);
            for (int i = 0; i < b; i++) {
                parts[i] = all;
                base[i] = i * n;
            }
        } else {
            // u is held at its value at bar t over the horizon, so every bar is an ensemble of its own
            int m = inputs.size();
            for (int i = 0; i < b; i++) {
                if (state[i] == null) {
                    continue;
                }
                float[] table = new float[steps * m];
                for (int s = 0; s < steps; s++) {
                    for (int j = 0; j < m; j++) {
                        table[s * m + j] = (float) uNow[i][j];
                    }
                }
                parts[i] = integrate(model.toEnsembleModel(table), Arrays.copyOfRange(init, i * n * 2, (i + 1) * n * 2),
                        n, steps, i);
            }
        }
        List<Decision> out = new ArrayList<>(b);
        double[][] energyBand = new double[b][];
        for (int i = 0; i < b; i++) {
            if (state[i] == null) {
                out.add(Decision.none());
                continue;
            }
            double[] qs = new double[n];
            double[] ps = new double[n];
            double[] hs = new double[n];
            int m = 0;
            EnsembleResult r = parts[i];
            for (int k = 0; k < n; k++) {
                int tr = base[i] + k;
                if (r.divergedAtStep()[tr] >= 0) {
                    continue;
                }
                qs[m] = r.finalState(tr, 0);
                ps[m] = r.finalState(tr, 1);
                hs[m] = r.finalEnergy()[tr];
                m++;
            }
            if (m < n / 2) {
                out.add(Decision.none());
                continue;
            }
            qs = Arrays.copyOf(qs, m);
            ps = Arrays.copyOf(ps, m);
            hs = Arrays.copyOf(hs, m);
            Arrays.sort(qs);
            Arrays.sort(ps);
            Arrays.sort(hs);
            double q5 = quantile(qs, 0.05);
            double q50 = quantile(qs, 0.5);
            double q95 = quantile(qs, 0.95);
            if (i == b - 1) {
                double[] lq = new double[LEVELS.length];
                double[] lp = new double[LEVELS.length];
                double[] lh = new double[LEVELS.length];
                double[] ly = new double[LEVELS.length];
                for (int j = 0; j < LEVELS.length; j++) {
                    lq[j] = quantile(qs, LEVELS[j]);
                    lp[j] = quantile(ps, LEVELS[j]);
                    lh[j] = quantile(hs, LEVELS[j]);
                    ly[j] = forwardReturn(lq[j] * sq, logs[i], views.get(i), maTerms[i]);
                }
                lastFinal = new FinalState(views.get(i).now(), n, n - m, state[i][0], state[i][1], lq, lp, lh, ly);
            }
            double p50 = quantile(ps, 0.5);
            energyBand[i] = new double[] {quantile(hs, 0.05), quantile(hs, 0.95)};
            double dq = q50 - state[i][0];
            double spread = q95 - q5;
            double pos = 0;
            if (dq > config.threshold() && p50 > 0) {
                pos = 1;
            } else if (dq < -config.threshold() && p50 < 0) {
                pos = -1;
            }
            if (pos != 0) {
                pos *= spread > 0 ? Math.min(config.maxPosition(), config.scale() * Math.abs(dq) / spread)
                        : config.maxPosition();
            }
            boolean anomaly = Math.abs(z[i]) > 2;
            if (anomaly) {
                pos = 0;
                anomalies++;
            }
            int prev = i - horizon;
            if (prev >= 0 && energyBand[prev] != null) {
                double eNow = hamiltonian.energy(new double[] {state[i][0]}, new double[] {state[i][1]});
                if (eNow < energyBand[prev][0] || eNow > energyBand[prev][1]) {
                    if (pos != 0) {
                        stops++;
                    }
                    pos = 0; // the realised state left the band its forecast gave: stop
                }
            }
            double y50 = forwardReturn(q50 * sq, logs[i], views.get(i), maTerms[i]);
            double y5 = forwardReturn(q5 * sq, logs[i], views.get(i), maTerms[i]);
            double y95 = forwardReturn(q95 * sq, logs[i], views.get(i), maTerms[i]);
            double conf = spread > 0 ? Math.min(1, Math.abs(dq) / spread) : 0;
            out.add(new Decision(pos, y50, conf, y5, y95, anomaly));
        }
        return out;
    }

    private EnsembleResult integrate(EnsembleModel em, float[] init, int trajectories, int steps, int part) {
        EnsembleSpec spec = new EnsembleSpec(em, new float[] {0f}, new float[] {0f}, init, trajectories,
                1f / config.stepsPerBar(), steps, 0f, 0f, (float) noise,
                config.seed() + 104729L * fitIndex + 15485863L * part, steps, false, EnsembleSpec.FAN, kind.scheme(),
                EnsembleSpec.DEFAULT_TAO_OMEGA);
        return config.engine().integrate(spec);
    }

    private LearnedField create(long seed) {
        int[] small = {16};
        return switch (kind) {
            case HNN -> HamiltonianNetwork.create(1, config.hidden(), seed);
            case SEPARABLE -> SeparableHamiltonianNetwork.create(1, config.hidden(), seed);
            case DISSIPATIVE -> DissipativeHamiltonianNetwork.create(1, config.hidden(), small, seed);
            case PORT -> PortHamiltonianNetwork.create(1, inputs.size(), config.hidden(), small, small, seed);
        };
    }

    /**
     * u at bar i ≤ t, unstandardised: per input series the latest value published at or before bar i's start (NaN
     * before its first publication). {@code v.startMs(i)} refuses i past the view's bar, so no input from after t
     * can be read.
     */
    private double[] rawInputs(MarketView v, int i) {
        double[] u = new double[inputs.size()];
        if (u.length == 0) {
            return u;
        }
        long start = v.startMs(i);
        for (int j = 0; j < u.length; j++) {
            TimedValues s = inputs.get(j);
            int lo = 0;
            int hi = s.size() - 1;
            int k = -1;
            while (lo <= hi) { // the last publication time ≤ start
                int mid = (lo + hi) >>> 1;
                if (s.time(mid) <= start) {
                    k = mid;
                    lo = mid + 1;
                } else {
                    hi = mid - 1;
                }
            }
            u[j] = k < 0 ? Double.NaN : s.value(k);
        }
        return u;
    }

    /** Mean and standard deviation of each input over the training rows (finite values only; std 0 → 1). */
    private void standardisation(double[][] raw, int m) {
        uMean = new double[m];
        uStd = new double[m];
        for (int j = 0; j < m; j++) {
            double s = 0;
            double s2 = 0;
            int c = 0;
            for (double[] row : raw) {
                if (Double.isFinite(row[j])) {
                    s += row[j];
                    s2 += row[j] * row[j];
                    c++;
                }
            }
            uMean[j] = c == 0 ? 0 : s / c;
            double var = c < 2 ? 0 : (s2 - c * uMean[j] * uMean[j]) / (c - 1);
            uStd[j] = var > 0 ? Math.sqrt(var) : 1;
        }
    }

    private double[] standardised(double[] raw) {
        double[] u = new double[raw.length];
        for (int j = 0; j < raw.length; j++) {
            u[j] = Double.isFinite(raw[j]) ? (raw[j] - uMean[j]) / uStd[j] : 0;
        }
        return u;
    }

    /**
     * The forward return over h bars implied by a forecast q_{t+h} (unscaled): the moving average over the next h
     * bars drops L_{t−w+1} … L_{t−w+h} and adds values on a line from L_t to x = L_{t+h}, so
     * q = x − MA_t − (h·L_t + (x − L_t)(h + 1)/2 − S_old)/w, linear in x.
     */
    private double forwardReturn(double qFuture, double logNow, MarketView v, double sOld) {
        int w = config.window();
        int h = horizon;
        double ma = logNow - state(v);
        double x = (qFuture + ma + (h * logNow - logNow * (h + 1) / 2.0 - sOld) / w) / (1 - (h + 1) / (2.0 * w));
        return Math.exp(x - logNow) - 1;
    }

    /** q_t unscaled at the view's bar (L_t − MA_t). */
    private double state(MarketView v) {
        int t = v.now();
        int w = config.window();
        double s = 0;
        for (int j = Math.max(0, t - w + 1); j <= t; j++) {
            s += Math.log(v.close(j));
        }
        return Math.log(v.close(t)) - s / w;
    }

    static double quantile(double[] sorted, double level) {
        double h = (sorted.length - 1) * level;
        int lo = (int) Math.floor(h);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
    }

    private static double[] scale(double[] v, double s) {
        double[] o = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            o[i] = v[i] / s;
        }
        return o;
    }

    static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return v.length == 0 ? Double.NaN : s / v.length;
    }

    static double std(double[] v) {
        return MemoryStrategy.std(v);
    }
}
