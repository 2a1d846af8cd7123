package dev.engram.hopfield;

import dev.engram.tensor.RandomSampling;
import dev.engram.optim.Adam;
import dev.engram.optim.LearningRateSchedule;
import dev.engram.engine.Attention;
import dev.engram.engine.AttentionForward;
import dev.engram.engine.AttentionGradient;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.Projection;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;

import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * A trainable multi-head dense associative memory that predicts the next-period return of a feature vector from
 * a memory of stored keys and values.
 *
 * <p>Shapes: input f (d), memory keys κ (M×d) and values ν (M×dv), H heads of width dh, model width dm. For head h:
 * <pre>
 *   q_h = W_q^h·f,  k_hi = W_k^h·κ_i,  v_hi = W_v^h·ν_i           W_q^h, W_k^h: dh×d,  W_v^h: dh×dv
 *   s_hi = β·q̂_h·k̂_i   (x̂ = x/√(‖x‖² + ε²): cosine scores, so β means the same at any scale)
 *   a_h = softmax(s_h),  r_h = Σ_i a_hi·v_hi,  H_h = −Σ_i a_hi·log a_hi
 * </pre>
 * then {@code o = W_o·[r_1; …; r_H]} (W_o: dm×(H·dh)), the tanh predictor head {@code ŷ = tanh(w_pᵀo + b_p)}, and
 * the confidence {@code c = 1 − (1/H)·Σ_h H_h/log M}.
 *
 * <p>Training loss over a batch of B (f_b, y_b):
 * <pre>
 *   L = Σ_b ω_b·(ŷ_b − y_b)² / Σ_b ω_b  +  λ_div·D(κ),     ω_b = c_b + 0.05   (held constant in the gradient)
 *   D(κ) = 2/(M(M−1))·Σ_{i&lt;j} (κ̂_i·κ̂_j)²                  (mean squared cosine between stored keys)
 * </pre>
 * The weights are the model's own confidences, treated as constants: letting the gradient through them would let
 * the model lower its loss by flattening its attention (c → 0) instead of predicting better. The floor 0.05 keeps
 * every sample in play. The diversity term pushes stored keys apart so heads can tell them apart; on memories of
 * more than 512 keys each training step uses an unbiased estimate over 512 random keys (the exact term is O(M²·d)).
 * β = e^θ is learned through θ (so it stays positive) or fixed. The backward pass is derived by hand (see
 * {@link #gradient}) and checked against central finite differences in the tests.
 *
 * <p>Inference ({@link #predict}) runs every head's retrieval through the {@link Backend} contract: per head, the
 * normalised projected keys and projected values form a {@link PatternMemory} (built once, rebuilt after training
 * or {@link #setMemory}), and {@code retrieve} returns r_h and the entropy. Training ({@link #train}) runs every
 * head's attention and its backward pass on an engine ({@link Backend#attend}, {@link Backend#attendBackward}: fused,
 * the B×M weights recomputed tile by tile, never stored) and the projections of the stored keys and values
 * ({@link Backend#project}, {@link Backend#projectBackward}) on an engine, by default the automatic training engine
 * (cpu, float32); the normalisations, the predictor head, the diversity term and AdamW stay here in double. {@link #gradient(double[][],
 * double[], double)} is the same gradient entirely in double on the heap, the oracle of the tests.
 *
 * <p>Not thread-safe. Owns the per-head engine memories: close it.
 */
public final class DenseAssociativeMemory implements AutoCloseable {

    /** ε in x̂ = x/√(‖x‖² + ε²): keeps the normalisation smooth at 0. */
    static final double NORM_EPS = 1e-6;

    /** Training steps on memories larger than this estimate D on this many randomly drawn keys. */
    static final int DIVERSITY_SAMPLE = 512;

    /** ω_b = c_b + this. */
    static final double CONFIDENCE_FLOOR = 0.05;

    /**
     * Default β, measured by {@code DenseAssociativeMemoryTest} on M = 10^4 stored keys (uniform in [−1, 1]^16),
     * 4 heads of width 16, tied W_q = W_k, through the CPU engine; mean confidence for queries near a stored key /
     * unrelated queries: β = 1: 0.006 / 0.006 (the "never trades" regime), β = 8: 0.20 / 0.20, β = 16: 0.45 / 0.39,
     * β = 32: 0.87 / 0.63, β = 64: 0.99 / 0.83. β = 32 separates the two best. (Heads of width 8 crowd 10^4 keys
     * so densely that no β separates them well: 0.63 / 0.56 at β = 32.) β is learnable from there.
     */
    public static final double DEFAULT_BETA = 32;

    /**
     * Shapes and β.
     *
     * @param inputDim   d
     * @param valueDim   dv
     * @param memorySize M ≥ 2 (confidence divides by log M)
     * @param heads      H
     * @param headDim    dh
     * @param modelDim   dm
     * @param beta       initial (or fixed) β > 0
     * @param learnBeta  whether training updates β
     */
    public record Config(int inputDim, int valueDim, int memorySize, int heads, int headDim, int modelDim, double beta,
                         boolean learnBeta) {
        public Config {
            Checks.positive("inputDim", inputDim);
            Checks.positive("valueDim", valueDim);
            if (memorySize < 2) {
                throw new IllegalArgumentException("memorySize must be >= 2, got " + memorySize);
            }
            Checks.positive("heads", heads);
            Checks.positive("headDim", headDim);
            Checks.positive("modelDim", modelDim);
            Checks.positiveFinite("beta", beta);
        }

        /** 4 heads of width 16, model width 16, β = {@link #DEFAULT_BETA}, learned. */
        public static Config defaults(int inputDim, int valueDim, int memorySize) {
            return new Config(inputDim, valueDim, memorySize, 4, 16, 16, DEFAULT_BETA, true);
        }
    }

    /**
     * Training settings.
     *
     * @param steps           optimiser steps
     * @param batchSize       samples per step
     * @param learningRate    peak rate of the cosine schedule
     * @param minLearningRate final rate
     * @param warmupSteps     linear warm-up steps
     * @param weightDecay     AdamW decoupled decay on the projection and predictor weights
     * @param diversityWeight λ_div
     * @param seed            minibatch order
     */
    public record TrainingConfig(int steps, int batchSize, double learningRate, double minLearningRate, int warmupSteps,
                                 double weightDecay, double diversityWeight, long seed) {
        public TrainingConfig {
            Checks.positive("steps", steps);
            Checks.positive("batchSize", batchSize);
            if (!(diversityWeight >= 0) || !Double.isFinite(diversityWeight)) {
                throw new IllegalArgumentException("diversityWeight must be a finite number >= 0, got " + diversityWeight);
            }
            new LearningRateSchedule(learningRate, minLearningRate, warmupSteps, Math.max(steps, warmupSteps + 1), true);
            Adam.Config.adamW(weightDecay);
        }

        public static TrainingConfig defaults(int steps) {
            return new TrainingConfig(steps, 32, 3e-3, 3e-4, Math.min(20, steps / 10), 1e-4, 1e-2, 1);
        }
    }

    /**
     * Predictions of a batch.
     *
     * @param predicted  B: ŷ
     * @param confidence B: c in [0, 1]
     */
    public record Prediction(float[] predicted, float[] confidence) {
    }

    /**
     * Loss and gradient of one batch; gradient blocks in the order of {@link #parameters()}.
     *
     * @param loss      L
     * @param mse       the confidence-weighted MSE part
     * @param diversity D(κ) (before λ_div)
     * @param weights   B: ω_b used (constants of the gradient)
     * @param gradients one block per parameter block
     */
    public record Gradient(double loss, double mse, double diversity, double[] weights, List<double[]> gradients) {
    }

    /**
     * What training did.
     *
     * @param losses per step: the batch loss before the update
     * @param beta   β after training
     */
    public record TrainingReport(double[] losses, double beta) {
    }

    private final Config config;
    // parameter blocks, row-major
    final double[] wq;     // H×dh×d
    final double[] wk;     // H×dh×d
    final double[] wv;     // H×dh×dv
    final double[] wo;     // dm×(H·dh)
    final double[] wp;     // dm
    final double[] bp;     // 1
    final double[] keys;   // M×d
    final double[] values; // M×dv
    final double[] logBeta; // 1
    private PatternMemory[] headMemories;

    /** A model with random weights (scaled normal, seeded) and random stored keys and values. */
    public DenseAssociativeMemory(Config config, long seed) {
        this.config = Objects.requireNonNull(config, "config");
        int d = config.inputDim();
        int dv = config.valueDim();
        int h = config.heads();
        int dh = config.headDim();
        int dm = config.modelDim();
        int m = config.memorySize();
        SplittableRandom rnd = new SplittableRandom(seed);
        wq = gaussian(rnd, h * dh * d, 1 / Math.sqrt(d));
        wk = gaussian(rnd, h * dh * d, 1 / Math.sqrt(d));
        wv = gaussian(rnd, h * dh * dv, 1 / Math.sqrt(dv));
        wo = gaussian(rnd, dm * h * dh, 1 / Math.sqrt(h * dh));
        wp = gaussian(rnd, dm, 1 / Math.sqrt(dm));
        bp = new double[1];
        keys = gaussian(rnd, m * d, 1);
        values = gaussian(rnd, m * dv, 1);
        logBeta = new double[] {Math.log(config.beta())};
    }

    private static double[] gaussian(SplittableRandom rnd, int n, double sigma) {
        return RandomSampling.gaussians(rnd, n, sigma);
    }

    public Config config() {
        return config;
    }

    /** Current β = e^θ. */
    public double beta() {
        return Math.exp(logBeta[0]);
    }

    /**
     * The parameter blocks, live: W_q, W_k, W_v, W_o, w_p, b_p, κ, ν, θ = log β. Gradients come in this order.
     */
    List<double[]> parameters() {
        return List.of(wq, wk, wv, wo, wp, bp, keys, values, logBeta);
    }

    /** A copy of every parameter block, for early stopping: keep the best one seen, {@link #restore} it after. */
    public double[][] snapshot() {
        return parameters().stream().map(double[]::clone).toArray(double[][]::new);
    }

    /** Sets every parameter block to a {@link #snapshot} of this model. */
    public void restore(double[][] snapshot) {
        List<double[]> p = parameters();
        if (snapshot.length != p.size()) {
            throw new IllegalArgumentException("snapshot has " + snapshot.length + " blocks, the model " + p.size());
        }
        for (int i = 0; i < snapshot.length; i++) {
            if (snapshot[i].length != p.get(i).length) {
                throw new IllegalArgumentException("snapshot block " + i + " has " + snapshot[i].length
                        + " values, the model " + p.get(i).length);
            }
        }
        for (int i = 0; i < snapshot.length; i++) {
            System.arraycopy(snapshot[i], 0, p.get(i), 0, snapshot[i].length);
        }
        invalidate();
    }

    /**
     * Replaces the stored keys (M×d) and values (M×dv), e.g. with past feature vectors and what followed them.
     * Checked first (shape, finiteness); the memory is unchanged when rejected.
     */
    public void setMemory(double[][] newKeys, double[][] newValues) {
        int m = config.memorySize();
        if (newKeys.length != m || newValues.length != m) {
            throw new IllegalArgumentException("memory needs M=" + m + " keys and values, got " + newKeys.length
                    + " keys and " + newValues.length + " values");
        }
        Checks.rectangular("keys", newKeys, config.inputDim());
        Checks.rectangular("values", newValues, config.valueDim());
        for (int i = 0; i < m; i++) {
            System.arraycopy(newKeys[i], 0, keys, i * config.inputDim(), config.inputDim());
            System.arraycopy(newValues[i], 0, values, i * config.valueDim(), config.valueDim());
        }
        invalidate();
    }

    // ---------------------------------------------------------------- forward and backward in double

    /** Per-batch intermediate values of the double forward pass, kept for the backward pass. */
    private final class Forward {
        final int batch;
        final double[][] kHat = new double[config.heads()][];   // per head M×dh
        final double[][] kNorm = new double[config.heads()][];  // per head M
        final double[][] vProj = new double[config.heads()][];  // per head M×dh
        final double[][] qHat;   // B × (H·dh)
        final double[][] qNorm;  // B × H
        final double[][] attn;   // B × (H·M)
        final double[][] r;      // B × (H·dh)
        final double[][] o;      // B × dm
        final double[] yHat;     // B
        final double[] confidence; // B

        Forward(double[][] f) {
            int d = config.inputDim();
            int dv = config.valueDim();
            int heads = config.heads();
            int dh = config.headDim();
            int dm = config.modelDim();
            int m = config.memorySize();
            double beta = beta();
            batch = f.length;
            for (int h = 0; h < heads; h++) {
                double[] kh = new double[m * dh];
                double[] kn = new double[m];
                double[] vh = new double[m * dh];
                for (int i = 0; i < m; i++) {
                    project(wk, h * dh * d, keys, i * d, d, dh, kh, i * dh);
                    kn[i] = normalise(kh, i * dh, dh);
                    project(wv, h * dh * dv, values, i * dv, dv, dh, vh, i * dh);
                }
                kHat[h] = kh;
                kNorm[h] = kn;
                vProj[h] = vh;
            }
            qHat = new double[batch][heads * dh];
            qNorm = new double[batch][heads];
            attn = new double[batch][heads * m];
            r = new double[batch][heads * dh];
            o = new double[batch][dm];
            yHat = new double[batch];
            confidence = new double[batch];
            double logM = Math.log(m);
            for (int b = 0; b < batch; b++) {
                double entropySum = 0;
                for (int h = 0; h < heads; h++) {
                    project(wq, h * dh * d, f[b], 0, d, dh, qHat[b], h * dh);
                    qNorm[b][h] = normalise(qHat[b], h * dh, dh);
                    double max = Double.NEGATIVE_INFINITY;
                    double[] a = attn[b];
                    for (int i = 0; i < m; i++) {
                        double s = 0;
                        for (int j = 0; j < dh; j++) {
                            s += qHat[b][h * dh + j] * kHat[h][i * dh + j];
                        }
                        a[h * m + i] = beta * s;
                        max = Math.max(max, beta * s);
                    }
                    double z = 0;
                    for (int i = 0; i < m; i++) {
                        a[h * m + i] = Math.exp(a[h * m + i] - max);
                        z += a[h * m + i];
                    }
                    double ent = 0;
                    for (int i = 0; i < m; i++) {
                        double ai = a[h * m + i] / z;
                        a[h * m + i] = ai;
                        ent -= ai > 0 ? ai * Math.log(ai) : 0;
                        for (int j = 0; j < dh; j++) {
                            r[b][h * dh + j] += ai * vProj[h][i * dh + j];
                        }
                    }
                    entropySum += ent;
                }
                for (int k = 0; k < dm; k++) {
                    double s = 0;
                    for (int j = 0; j < heads * dh; j++) {
                        s += wo[k * heads * dh + j] * r[b][j];
                    }
                    o[b][k] = s;
                }
                double z = bp[0];
                for (int k = 0; k < dm; k++) {
                    z += wp[k] * o[b][k];
                }
                yHat[b] = Math.tanh(z);
                confidence[b] = 1 - entropySum / heads / logM;
            }
        }
    }

    /** out[outOff + r] = Σ_c w[wOff + r·cols + c]·x[xOff + c] for r < rows. */
    private static void project(double[] w, int wOff, double[] x, int xOff, int cols, int rows, double[] out, int outOff) {
        for (int r = 0; r < rows; r++) {
            double s = 0;
            int base = wOff + r * cols;
            for (int c = 0; c < cols; c++) {
                s += w[base + c] * x[xOff + c];
            }
            out[outOff + r] = s;
        }
    }

    /** Normalises v[off, off+n) in place to x/√(‖x‖² + ε²); returns that denominator. */
    private static double normalise(double[] v, int off, int n) {
        double sq = NORM_EPS * NORM_EPS;
        for (int j = 0; j < n; j++) {
            sq += v[off + j] * v[off + j];
        }
        double norm = Math.sqrt(sq);
        for (int j = 0; j < n; j++) {
            v[off + j] /= norm;
        }
        return norm;
    }

    /**
     * Back through x̂ = x/n (n = √(‖x‖² + ε²)): {@code dx = (dx̂ − x̂·(x̂·dx̂))/n}, written over {@code g}.
     * (With ε, ‖x̂‖ &lt; 1 and d x̂/dx = (I − x̂x̂ᵀ)/n still holds exactly: n² = ‖x‖² + ε², ∂n/∂x = x/n.)
     */
    private static void normaliseBackward(double[] xHat, int off, int n, double norm, double[] g, int gOff) {
        double dot = 0;
        for (int j = 0; j < n; j++) {
            dot += xHat[off + j] * g[gOff + j];
        }
        for (int j = 0; j < n; j++) {
            g[gOff + j] = (g[gOff + j] - xHat[off + j] * dot) / norm;
        }
    }

    /**
     * D over the keys {@code subset} (all keys when null): {@code 2/(S(S−1))·Σ_{i<j}(κ̂_i·κ̂_j)²}; when {@code grad}
     * is not null, adds {@code scale·∂D/∂κ} to it. Over a uniform random subset this is an unbiased estimate of D
     * (every pair is equally likely to be in it), which keeps the O(S²·d) term affordable on large memories.
     */
    double diversity(double[] grad, double scale, int[] subset) {
        int d = config.inputDim();
        int s = subset == null ? config.memorySize() : subset.length;
        if (s < 2) {
            return 0;
        }
        double[] u = new double[s * d];
        double[] norms = new double[s];
        for (int i = 0; i < s; i++) {
            int key = subset == null ? i : subset[i];
            System.arraycopy(keys, key * d, u, i * d, d);
            norms[i] = normalise(u, i * d, d);
        }
        double sum = 0;
        double[] du = grad == null ? null : new double[s * d];
        double c = 2.0 / (s * (s - 1.0));
        for (int i = 0; i < s; i++) {
            for (int j = i + 1; j < s; j++) {
                double dot = 0;
                for (int t = 0; t < d; t++) {
                    dot += u[i * d + t] * u[j * d + t];
                }
                sum += dot * dot;
                if (du != null) {
                    // ∂(dot²)/∂û_i = 2·dot·û_j and symmetrically
                    double g = 2 * c * dot * scale;
                    for (int t = 0; t < d; t++) {
                        du[i * d + t] += g * u[j * d + t];
                        du[j * d + t] += g * u[i * d + t];
                    }
                }
            }
        }
        if (du != null) {
            for (int i = 0; i < s; i++) {
                normaliseBackward(u, i * d, d, norms[i], du, i * d);
                int key = subset == null ? i : subset[i];
                for (int t = 0; t < d; t++) {
                    grad[key * d + t] += du[i * d + t];
                }
            }
        }
        return c * sum;
    }

    /**
     * The loss L of the class comment on a batch and its gradient with respect to every parameter block.
     *
     * <p>Backward pass, per sample (g = ∂L/∂ŷ = 2ω(ŷ − y)/Σω):
     * <pre>
     *   ∂z = g·(1 − ŷ²);  ∂w_p += ∂z·o;  ∂b_p += ∂z;  ∂o = ∂z·w_p;  ∂W_o += ∂o·rᵀ;  ∂r = W_oᵀ·∂o
     *   per head: ∂a_i = ∂r_h·v_i;  ∂v_i += a_i·∂r_h;  ∂s_i = a_i·(∂a_i − Σ_j a_j·∂a_j)
     *             ∂q̂ = β·Σ_i ∂s_i·k̂_i;  ∂k̂_i += β·∂s_i·q̂;  ∂β += Σ_i ∂s_i·q̂·k̂_i
     *             ∂q = (∂q̂ − q̂(q̂·∂q̂))/n_q;  ∂W_q^h += ∂q·fᵀ
     * </pre>
     * and once per batch {@code ∂k_i = (∂k̂_i − k̂_i(k̂_i·∂k̂_i))/n_k}, {@code ∂W_k^h += ∂k_i·κ_iᵀ},
     * {@code ∂κ_i += W_k^hᵀ·∂k_i}, {@code ∂W_v^h += ∂v_i·ν_iᵀ}, {@code ∂ν_i += W_v^hᵀ·∂v_i}, plus λ_div·∂D/∂κ, and
     * {@code ∂θ = β·∂β} (zero when β is fixed).
     *
     * @param features        B×d
     * @param targets         B
     * @param diversityWeight λ_div ≥ 0
     */
    public Gradient gradient(double[][] features, double[] targets, double diversityWeight) {
        checkBatch(features, targets);
        if (!(diversityWeight >= 0) || !Double.isFinite(diversityWeight)) {
            throw new IllegalArgumentException("diversityWeight must be a finite number >= 0, got " + diversityWeight);
        }
        Forward fw = new Forward(features);
        double[] omega = new double[fw.batch];
        for (int b = 0; b < fw.batch; b++) {
            omega[b] = fw.confidence[b] + CONFIDENCE_FLOOR;
        }
        return backward(features, targets, fw, omega, diversityWeight, null);
    }

    /** L with the weights ω given (the function whose gradient {@link #gradient} returns); for the tests. */
    double loss(double[][] features, double[] targets, double[] omega, double diversityWeight) {
        Forward fw = new Forward(features);
        double wsum = 0;
        double mse = 0;
        for (int b = 0; b < fw.batch; b++) {
            double e = fw.yHat[b] - targets[b];
            mse += omega[b] * e * e;
            wsum += omega[b];
        }
        return mse / wsum + diversityWeight * diversity(null, 0, null);
    }

    private Gradient backward(double[][] f, double[] y, Forward fw, double[] omega, double diversityWeight,
                              int[] diversitySubset) {
        int d = config.inputDim();
        int dv = config.valueDim();
        int heads = config.heads();
        int dh = config.headDim();
        int dm = config.modelDim();
        int m = config.memorySize();
        int hd = heads * dh;
        double beta = beta();
        double[] gWq = new double[wq.length];
        double[] gWk = new double[wk.length];
        double[] gWv = new double[wv.length];
        double[] gWo = new double[wo.length];
        double[] gWp = new double[wp.length];
        double[] gBp = new double[1];
        double[] gKeys = new double[keys.length];
        double[] gValues = new double[values.length];
        double[] gLogBeta = new double[1];
        double[][] gKHat = new double[heads][m * dh];
        double[][] gVProj = new double[heads][m * dh];
        double wsum = 0;
        for (double w : omega) {
            wsum += w;
        }
        double mse = 0;
        double gBeta = 0;
        double[] dO = new double[dm];
        double[] dR = new double[hd];
        double[] dA = new double[m];
        double[] dQ = new double[dh];
        for (int b = 0; b < fw.batch; b++) {
            double e = fw.yHat[b] - y[b];
            mse += omega[b] * e * e;
            double g = 2 * omega[b] * e / wsum;
            double dz = g * (1 - fw.yHat[b] * fw.yHat[b]);
            gBp[0] += dz;
            for (int k = 0; k < dm; k++) {
                gWp[k] += dz * fw.o[b][k];
                dO[k] = dz * wp[k];
            }
            java.util.Arrays.fill(dR, 0);
            for (int k = 0; k < dm; k++) {
                for (int j = 0; j < hd; j++) {
                    gWo[k * hd + j] += dO[k] * fw.r[b][j];
                    dR[j] += wo[k * hd + j] * dO[k];
                }
            }
            for (int h = 0; h < heads; h++) {
                double[] a = fw.attn[b];
                double[] vh = fw.vProj[h];
                double[] kh = fw.kHat[h];
                double mean = 0;
                for (int i = 0; i < m; i++) {
                    double s = 0;
                    for (int j = 0; j < dh; j++) {
                        s += dR[h * dh + j] * vh[i * dh + j];
                    }
                    dA[i] = s;
                    mean += a[h * m + i] * s;
                    double ai = a[h * m + i];
                    for (int j = 0; j < dh; j++) {
                        gVProj[h][i * dh + j] += ai * dR[h * dh + j];
                    }
                }
                java.util.Arrays.fill(dQ, 0);
                for (int i = 0; i < m; i++) {
                    double ds = a[h * m + i] * (dA[i] - mean);
                    if (ds == 0) {
                        continue;
                    }
                    double qk = 0;
                    for (int j = 0; j < dh; j++) {
                        double qj = fw.qHat[b][h * dh + j];
                        double kj = kh[i * dh + j];
                        qk += qj * kj;
                        dQ[j] += beta * ds * kj;
                        gKHat[h][i * dh + j] += beta * ds * qj;
                    }
                    gBeta += ds * qk;
                }
                normaliseBackward(fw.qHat[b], h * dh, dh, fw.qNorm[b][h], dQ, 0);
                for (int j = 0; j < dh; j++) {
                    int row = (h * dh + j) * d;
                    for (int c = 0; c < d; c++) {
                        gWq[row + c] += dQ[j] * f[b][c];
                    }
                }
            }
        }
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < m; i++) {
                normaliseBackward(fw.kHat[h], i * dh, dh, fw.kNorm[h][i], gKHat[h], i * dh);
                for (int j = 0; j < dh; j++) {
                    double gk = gKHat[h][i * dh + j];
                    double gv = gVProj[h][i * dh + j];
                    int rowK = (h * dh + j) * d;
                    int rowV = (h * dh + j) * dv;
                    for (int c = 0; c < d; c++) {
                        gWk[rowK + c] += gk * keys[i * d + c];
                        gKeys[i * d + c] += wk[rowK + c] * gk;
                    }
                    for (int c = 0; c < dv; c++) {
                        gWv[rowV + c] += gv * values[i * dv + c];
                        gValues[i * dv + c] += wv[rowV + c] * gv;
                    }
                }
            }
        }
        double div = diversity(diversityWeight > 0 ? gKeys : null, diversityWeight, diversitySubset);
        gLogBeta[0] = config.learnBeta() ? beta * gBeta : 0;
        double weighted = mse / wsum;
        return new Gradient(weighted + diversityWeight * div, weighted, div, omega,
                List.of(gWq, gWk, gWv, gWo, gWp, gBp, gKeys, gValues, gLogBeta));
    }

    /**
     * The loss and gradient of {@link #gradient(double[][], double[], double)} with the projections of the queries,
     * keys and values ({@link Projection}) and every head's attention with its backward pass (one {@link Attention}
     * of H heads, B queries against the M projected keys) on {@code engine}.
     *
     * @param features        B×d
     * @param targets         B
     * @param diversityWeight λ_div ≥ 0
     */
    public Gradient gradient(Backend engine, double[][] features, double[] targets, double diversityWeight) {
        Objects.requireNonNull(engine, "engine");
        checkBatch(features, targets);
        if (!(diversityWeight >= 0) || !Double.isFinite(diversityWeight)) {
            throw new IllegalArgumentException("diversityWeight must be a finite number >= 0, got " + diversityWeight);
        }
        return engineStep(engine, features, targets, diversityWeight, null);
    }

    /**
     * One loss-and-gradient evaluation on {@code engine}: the same equations as {@link #backward}, the projections
     * and the heads' attention (forward and backward) replaced by the engine's calls.
     */
    private Gradient engineStep(Backend engine, double[][] f, double[] y, double diversityWeight, int[] subset) {
        int d = config.inputDim();
        int dv = config.valueDim();
        int heads = config.heads();
        int dh = config.headDim();
        int dm = config.modelDim();
        int m = config.memorySize();
        int hd = heads * dh;
        int batch = f.length;
        double beta = beta();
        Projection pk = new Projection(m, d, hd, keys, wk);
        Projection pv = new Projection(m, dv, hd, values, wv);
        double[] flat = new double[batch * d];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(f[b], 0, flat, b * d, d);
        }
        Projection pq = new Projection(batch, d, hd, flat, wq);
        double[] kAll = engine.project(pk);
        double[] vAll = engine.project(pv);
        double[] qAll = engine.project(pq);
        double[] kHat = new double[heads * m * dh];
        double[] kNorm = new double[heads * m];
        double[] vProj = new double[heads * m * dh];
        for (int i = 0; i < m; i++) {
            for (int h = 0; h < heads; h++) {
                System.arraycopy(kAll, i * hd + h * dh, kHat, (h * m + i) * dh, dh);
                kNorm[h * m + i] = normalise(kHat, (h * m + i) * dh, dh);
                System.arraycopy(vAll, i * hd + h * dh, vProj, (h * m + i) * dh, dh);
            }
        }
        double[] qHat = new double[heads * batch * dh];
        double[] qNorm = new double[heads * batch];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                System.arraycopy(qAll, b * hd + h * dh, qHat, (h * batch + b) * dh, dh);
                qNorm[h * batch + b] = normalise(qHat, (h * batch + b) * dh, dh);
            }
        }
        Attention att = new Attention(heads, batch, m, dh, dh, qHat, kHat, vProj, beta);
        AttentionForward fw = engine.attend(att);
        double logM = Math.log(m);
        double[] omega = new double[batch];
        double wsum = 0;
        for (int b = 0; b < batch; b++) {
            double ent = 0;
            for (int h = 0; h < heads; h++) {
                ent += fw.entropy()[h * batch + b];
            }
            omega[b] = 1 - ent / heads / logM + CONFIDENCE_FLOOR;
            wsum += omega[b];
        }
        double[] gWo = new double[wo.length];
        double[] gWp = new double[wp.length];
        double[] gBp = new double[1];
        double[] dOut = new double[heads * batch * dh];
        double[] r = new double[hd];
        double[] o = new double[dm];
        double mse = 0;
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                System.arraycopy(fw.output(), (h * batch + b) * dh, r, h * dh, dh);
            }
            double z = bp[0];
            for (int k = 0; k < dm; k++) {
                double s = 0;
                for (int j = 0; j < hd; j++) {
                    s += wo[k * hd + j] * r[j];
                }
                o[k] = s;
                z += wp[k] * s;
            }
            double yHat = Math.tanh(z);
            double e = yHat - y[b];
            mse += omega[b] * e * e;
            double dz = 2 * omega[b] * e / wsum * (1 - yHat * yHat);
            gBp[0] += dz;
            for (int k = 0; k < dm; k++) {
                gWp[k] += dz * o[k];
                double dOk = dz * wp[k];
                for (int j = 0; j < hd; j++) {
                    gWo[k * hd + j] += dOk * r[j];
                    dOut[((j / dh) * batch + b) * dh + j % dh] += wo[k * hd + j] * dOk;
                }
            }
        }
        AttentionGradient g = engine.attendBackward(att, fw, dOut);
        double[] gq = g.queries();
        double[] gqRows = new double[batch * hd];
        for (int b = 0; b < batch; b++) {
            for (int h = 0; h < heads; h++) {
                int off = (h * batch + b) * dh;
                normaliseBackward(qHat, off, dh, qNorm[h * batch + b], gq, off);
                System.arraycopy(gq, off, gqRows, b * hd + h * dh, dh);
            }
        }
        double[] gk = g.keys();
        double[] gv = g.values();
        double[] gkRows = new double[m * hd];
        double[] gvRows = new double[m * hd];
        for (int i = 0; i < m; i++) {
            for (int h = 0; h < heads; h++) {
                int off = (h * m + i) * dh;
                normaliseBackward(kHat, off, dh, kNorm[h * m + i], gk, off);
                System.arraycopy(gk, off, gkRows, i * hd + h * dh, dh);
                System.arraycopy(gv, off, gvRows, i * hd + h * dh, dh);
            }
        }
        double[] gWq = engine.projectBackward(pq, gqRows, false).weights();
        Projection.Gradient kg = engine.projectBackward(pk, gkRows, true);
        Projection.Gradient vg = engine.projectBackward(pv, gvRows, true);
        double[] gWk = kg.weights();
        double[] gKeys = kg.inputs();
        double[] gWv = vg.weights();
        double[] gValues = vg.inputs();
        double div = diversity(diversityWeight > 0 ? gKeys : null, diversityWeight, subset);
        double[] gLogBeta = {config.learnBeta() ? beta * g.beta() : 0};
        double weighted = mse / wsum;
        return new Gradient(weighted + diversityWeight * div, weighted, div, omega,
                List.of(gWq, gWk, gWv, gWo, gWp, gBp, gKeys, gValues, gLogBeta));
    }

    private void checkBatch(double[][] features, double[] targets) {
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(targets, "targets");
        Checks.rectangular("features", features, config.inputDim());
        Checks.length("targets", targets.length, features.length);
        Checks.finite("targets", targets);
    }

    // ---------------------------------------------------------------- training

    /**
     * Trains on (features, targets) with AdamW and a cosine schedule; minibatches are drawn without replacement,
     * reshuffled each pass. Weight decay applies to W_q, W_k, W_v, W_o and w_p only.
     *
     * @param features N×d
     * @param targets  N (e.g. next-period returns; the predictor's range is (−1, 1))
     */
    public TrainingReport train(double[][] features, double[] targets, TrainingConfig tc) {
        return train(Backends.select(Capability.TRAINING, "auto"), features, targets, tc);
    }

    /**
     * {@link #train(double[][], double[], TrainingConfig)} with every step's attention and its backward pass on
     * {@code engine} (reference: double throughout; cpu: float32 attention tiles on all cores).
     */
    public TrainingReport train(Backend engine, double[][] features, double[] targets, TrainingConfig tc) {
        Objects.requireNonNull(engine, "engine");
        checkBatch(features, targets);
        int n = features.length;
        int bs = Math.min(tc.batchSize(), n);
        LearningRateSchedule schedule = new LearningRateSchedule(tc.learningRate(), tc.minLearningRate(), tc.warmupSteps(),
                Math.max(tc.steps(), tc.warmupSteps() + 1), true);
        boolean[] decay = {true, true, true, true, true, false, false, false, false};
        Adam opt = new Adam(Adam.Config.adamW(tc.weightDecay()), parameters(), decay);
        SplittableRandom rnd = new SplittableRandom(tc.seed());
        int[] order = new int[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        int cursor = n;
        double[] losses = new double[tc.steps()];
        double[][] bf = new double[bs][];
        double[] by = new double[bs];
        int[] keyOrder = new int[config.memorySize()];
        for (int i = 0; i < keyOrder.length; i++) {
            keyOrder[i] = i;
        }
        try {
            for (int step = 0; step < tc.steps(); step++) {
                for (int k = 0; k < bs; k++) {
                    if (cursor == n) {
                        RandomSampling.shuffle(order, rnd);
                        cursor = 0;
                    }
                    bf[k] = features[order[cursor]];
                    by[k] = targets[order[cursor]];
                    cursor++;
                }
                Gradient g = engineStep(engine, bf, by, tc.diversityWeight(), sampleKeys(rnd, keyOrder));
                if (!Double.isFinite(g.loss())) {
                    throw new IllegalStateException("training diverged at step " + step + ": loss " + g.loss());
                }
                losses[step] = g.loss();
                opt.step(g.gradients(), schedule.rate(step));
            }
        } finally {
            invalidate();
        }
        return new TrainingReport(losses, beta());
    }

    /** Keys whose diversity a training step uses: all up to {@link #DIVERSITY_SAMPLE}, else a fresh random subset. */
    private static int[] sampleKeys(SplittableRandom rnd, int[] keyOrder) {
        int m = keyOrder.length;
        if (m <= DIVERSITY_SAMPLE) {
            return null;
        }
        for (int i = 0; i < DIVERSITY_SAMPLE; i++) {
            int j = i + rnd.nextInt(m - i);
            int t = keyOrder[i];
            keyOrder[i] = keyOrder[j];
            keyOrder[j] = t;
        }
        return java.util.Arrays.copyOf(keyOrder, DIVERSITY_SAMPLE);
    }

    // ---------------------------------------------------------------- inference on an engine

    /**
     * ŷ and confidence for a batch, every head's retrieval on {@code engine}.
     *
     * @param features B×d, finite
     */
    public Prediction predict(Backend engine, FloatMatrix features) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(features, "features");
        Checks.columns("features", features, config.inputDim());
        features.requireFinite("features");
        int d = config.inputDim();
        int heads = config.heads();
        int dh = config.headDim();
        int dm = config.modelDim();
        int batch = (int) features.rows();
        buildHeadMemories();
        float beta = (float) beta();
        double[][] r = new double[batch][heads * dh];
        double[] conf = new double[batch];
        double[] f = new double[d];
        double[] q = new double[dh];
        for (int h = 0; h < heads; h++) {
            try (FloatMatrix queries = FloatMatrix.allocate(batch, dh)) {
                for (int b = 0; b < batch; b++) {
                    for (int c = 0; c < d; c++) {
                        f[c] = features.get(b, c);
                    }
                    project(wq, h * dh * d, f, 0, d, dh, q, 0);
                    normalise(q, 0, dh);
                    for (int j = 0; j < dh; j++) {
                        queries.set(b, j, (float) q[j]);
                    }
                }
                RetrievalResult res = engine.retrieve(headMemories[h], queries, new RetrievalParams(beta, 0));
                for (int b = 0; b < batch; b++) {
                    for (int j = 0; j < dh; j++) {
                        r[b][h * dh + j] = res.output()[b * dh + j];
                    }
                    conf[b] += res.confidence()[b] / heads;
                }
            }
        }
        float[] yHat = new float[batch];
        float[] c = new float[batch];
        for (int b = 0; b < batch; b++) {
            double z = bp[0];
            for (int k = 0; k < dm; k++) {
                double o = 0;
                for (int j = 0; j < heads * dh; j++) {
                    o += wo[k * heads * dh + j] * r[b][j];
                }
                z += wp[k] * o;
            }
            yHat[b] = (float) Math.tanh(z);
            c[b] = (float) conf[b];
        }
        return new Prediction(yHat, c);
    }

    /** ŷ and confidence from the double forward pass (the training path); for cross-checks. */
    Prediction predictExact(double[][] features) {
        Forward fw = new Forward(features);
        float[] y = new float[fw.batch];
        float[] c = new float[fw.batch];
        for (int b = 0; b < fw.batch; b++) {
            y[b] = (float) fw.yHat[b];
            c[b] = (float) fw.confidence[b];
        }
        return new Prediction(y, c);
    }

    private void buildHeadMemories() {
        if (headMemories != null) {
            return;
        }
        int d = config.inputDim();
        int dv = config.valueDim();
        int dh = config.headDim();
        int m = config.memorySize();
        PatternMemory[] mems = new PatternMemory[config.heads()];
        double[] k = new double[dh];
        double[] v = new double[dh];
        try {
            for (int h = 0; h < config.heads(); h++) {
                try (FloatMatrix kx = FloatMatrix.allocate(m, dh); FloatMatrix vx = FloatMatrix.allocate(m, dh)) {
                    for (int i = 0; i < m; i++) {
                        project(wk, h * dh * d, keys, i * d, d, dh, k, 0);
                        normalise(k, 0, dh);
                        project(wv, h * dh * dv, values, i * dv, dv, dh, v, 0);
                        for (int j = 0; j < dh; j++) {
                            kx.set(i, j, (float) k[j]);
                            vx.set(i, j, (float) v[j]);
                        }
                    }
                    mems[h] = PatternMemory.of(kx, vx);
                }
            }
        } catch (RuntimeException e) {
            for (PatternMemory pm : mems) {
                if (pm != null) {
                    pm.close();
                }
            }
            throw e;
        }
        headMemories = mems;
    }

    private void invalidate() {
        if (headMemories != null) {
            for (PatternMemory pm : headMemories) {
                pm.close();
            }
            headMemories = null;
        }
    }

    @Override
    public void close() {
        invalidate();
    }
}
