package dev.engram.hopfield;

import dev.engram.tensor.RandomSampling;
import dev.engram.optim.Adam;
import dev.engram.engine.Attention;
import dev.engram.engine.AttentionGradient;
import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;

import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Hopfield pooling (Ramsauer et al. 2020, "HopfieldPooling"): P learned query patterns retrieve from a sequence,
 * pooling T feature vectors into P vectors.
 *
 * <p>Shapes: sequence Y (T×d), learned queries Q (P×dk), projections W_k (dk×d) and W_v (dv×d):
 * <pre>
 *   K = Y·W_kᵀ (T×dk),  V = Y·W_vᵀ (T×dv),  A = softmax_rows(β·Q·Kᵀ) (P×T),  Z = A·V (P×dv)
 * </pre>
 * Backward, for an upstream gradient ∂Z (P×dv):
 * <pre>
 *   ∂A = ∂Z·Vᵀ,  ∂V = Aᵀ·∂Z,  ∂S = A∘(∂A − rowsum(A∘∂A)),
 *   ∂Q = β·∂S·K,  ∂K = β·∂Sᵀ·Q,  ∂W_k = ∂Kᵀ·Y,  ∂W_v = ∂Vᵀ·Y,  ∂Y = ∂K·W_k + ∂V·W_v
 * </pre>
 * Default β = 1/√dk. {@link #pool} runs the retrieval on a {@link Backend} (the sequence's K and V form the
 * memory, Q the queries); {@link #backward} runs the attention's forward and backward passes on a training engine
 * ({@link Backend#attend}, {@link Backend#attendBackward}: A is recomputed tile by tile, never stored), the
 * projections' gradients in double here; {@link #poolExact} is the forward pass in double, for checks.
 * Parameters are plain double arrays, trainable with {@link Adam} (AdamW mode). Not thread-safe.
 */
public final class HopfieldPooling {

    /**
     * @param inputDim d
     * @param keyDim   dk
     * @param valueDim dv
     * @param queries  P, the number of pooled vectors
     * @param beta     > 0
     */
    public record Config(int inputDim, int keyDim, int valueDim, int queries, double beta) {
        public Config {
            Checks.positive("inputDim", inputDim);
            Checks.positive("keyDim", keyDim);
            Checks.positive("valueDim", valueDim);
            Checks.positive("queries", queries);
            Checks.positiveFinite("beta", beta);
        }

        /** β = 1/√dk. */
        public static Config defaults(int inputDim, int keyDim, int valueDim, int queries) {
            return new Config(inputDim, keyDim, valueDim, queries, 1 / Math.sqrt(keyDim));
        }
    }

    /**
     * Gradients of a scalar loss given ∂L/∂Z.
     *
     * @param queries ∂Q (P×dk)
     * @param keyProj ∂W_k (dk×d)
     * @param valueProj ∂W_v (dv×d)
     * @param input   ∂Y (T×d), to chain into whatever produced the sequence
     */
    public record Gradients(double[] queries, double[] keyProj, double[] valueProj, double[][] input) {
        /** ∂Q, ∂W_k, ∂W_v in the order of {@link #parameters()}. */
        public List<double[]> parameterGradients() {
            return List.of(queries, keyProj, valueProj);
        }
    }

    private final Config config;
    final double[] q;  // P×dk
    final double[] wk; // dk×d
    final double[] wv; // dv×d

    /** Random initial parameters (scaled normal, seeded). */
    public HopfieldPooling(Config config, long seed) {
        this.config = Objects.requireNonNull(config, "config");
        SplittableRandom rnd = new SplittableRandom(seed);
        q = gaussian(rnd, config.queries() * config.keyDim(), 1);
        wk = gaussian(rnd, config.keyDim() * config.inputDim(), 1 / Math.sqrt(config.inputDim()));
        wv = gaussian(rnd, config.valueDim() * config.inputDim(), 1 / Math.sqrt(config.inputDim()));
    }

    private static double[] gaussian(SplittableRandom rnd, int n, double sigma) {
        return RandomSampling.gaussians(rnd, n, sigma);
    }

    public Config config() {
        return config;
    }

    /** The live parameter blocks Q, W_k, W_v (for an optimiser). */
    public List<double[]> parameters() {
        return List.of(q, wk, wv);
    }

    /**
     * Pools a sequence on {@code engine}.
     *
     * @param sequence T×d, finite, T ≥ 1
     * @return Z, P×dv (the caller closes it)
     */
    public FloatMatrix pool(Backend engine, FloatMatrix sequence) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(sequence, "sequence");
        Checks.columns("sequence", sequence, config.inputDim());
        if (sequence.rows() < 1) {
            throw new IllegalArgumentException("sequence must hold at least one row, got 0");
        }
        sequence.requireFinite("sequence");
        int t = (int) sequence.rows();
        int d = config.inputDim();
        int dk = config.keyDim();
        int dv = config.valueDim();
        int p = config.queries();
        try (FloatMatrix k = FloatMatrix.allocate(t, dk); FloatMatrix v = FloatMatrix.allocate(t, dv);
             FloatMatrix qm = FloatMatrix.allocate(p, dk)) {
            float[] y = new float[d];
            for (int r = 0; r < t; r++) {
                sequence.copyRow(r, y, 0);
                for (int j = 0; j < dk; j++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += wk[j * d + c] * y[c];
                    }
                    k.set(r, j, (float) s);
                }
                for (int j = 0; j < dv; j++) {
                    double s = 0;
                    for (int c = 0; c < d; c++) {
                        s += wv[j * d + c] * y[c];
                    }
                    v.set(r, j, (float) s);
                }
            }
            for (int i = 0; i < p; i++) {
                for (int j = 0; j < dk; j++) {
                    qm.set(i, j, (float) q[i * dk + j]);
                }
            }
            try (PatternMemory mem = PatternMemory.of(k, v)) {
                RetrievalResult r = engine.retrieve(mem, qm, new RetrievalParams((float) config.beta(), 0));
                return FloatMatrix.of(r.output(), p, dv);
            }
        }
    }

    /** Z = softmax(β·Q·Kᵀ)·V in double (P×dv, row-major); the function {@link #backward} differentiates. */
    public double[] poolExact(double[][] sequence) {
        return new Forward(checked(sequence)).z;
    }

    /**
     * Gradients of a scalar loss L with respect to Q, W_k, W_v and the sequence, given {@code dz = ∂L/∂Z}, the
     * attention and its backward pass on the automatic training engine (cpu: float32 tiles, all cores).
     *
     * @param sequence T×d
     * @param dz       P×dv, row-major
     */
    public Gradients backward(double[][] sequence, double[] dz) {
        return backward(Backends.select(Capability.TRAINING, "auto"), sequence, dz);
    }

    /**
     * {@link #backward(double[][], double[])} with the attention on {@code engine}: {@link Backend#attend} then
     * {@link Backend#attendBackward} (the P×T weights recomputed, not stored) give ∂Q, ∂K, ∂V; the projections'
     * gradients follow here in double (reference engine: double throughout).
     */
    public Gradients backward(Backend engine, double[][] sequence, double[] dz) {
        Objects.requireNonNull(engine, "engine");
        checked(sequence);
        int t = sequence.length;
        int d = config.inputDim();
        int dk = config.keyDim();
        int dv = config.valueDim();
        int p = config.queries();
        Objects.requireNonNull(dz, "dz");
        Checks.length("dz", dz.length, p * dv);
        Checks.finite("dz", dz);
        if (t < 1) {
            throw new IllegalArgumentException("sequence must hold at least one row, got 0");
        }
        double[] k = new double[t * dk];
        double[] v = new double[t * dv];
        project(sequence, k, v);
        Attention att = new Attention(1, p, t, dk, dv, q, k, v, config.beta());
        AttentionGradient g = engine.attendBackward(att, engine.attend(att), dz);
        double[] gK = g.keys();
        double[] gV = g.values();
        double[] gWk = new double[wk.length];
        double[] gWv = new double[wv.length];
        double[][] gY = new double[t][d];
        for (int s = 0; s < t; s++) {
            double[] y = sequence[s];
            for (int j = 0; j < dk; j++) {
                double gj = gK[s * dk + j];
                for (int c = 0; c < d; c++) {
                    gWk[j * d + c] += gj * y[c];
                    gY[s][c] += gj * wk[j * d + c];
                }
            }
            for (int j = 0; j < dv; j++) {
                double gj = gV[s * dv + j];
                for (int c = 0; c < d; c++) {
                    gWv[j * d + c] += gj * y[c];
                    gY[s][c] += gj * wv[j * d + c];
                }
            }
        }
        return new Gradients(g.queries(), gWk, gWv, gY);
    }

    /** K = Y·W_kᵀ and V = Y·W_vᵀ in double. */
    private void project(double[][] y, double[] k, double[] v) {
        int d = config.inputDim();
        int dk = config.keyDim();
        int dv = config.valueDim();
        for (int s = 0; s < y.length; s++) {
            for (int j = 0; j < dk; j++) {
                double acc = 0;
                for (int c = 0; c < d; c++) {
                    acc += wk[j * d + c] * y[s][c];
                }
                k[s * dk + j] = acc;
            }
            for (int j = 0; j < dv; j++) {
                double acc = 0;
                for (int c = 0; c < d; c++) {
                    acc += wv[j * d + c] * y[s][c];
                }
                v[s * dv + j] = acc;
            }
        }
    }

    private double[][] checked(double[][] sequence) {
        Objects.requireNonNull(sequence, "sequence");
        Checks.rectangular("sequence", sequence, config.inputDim());
        return sequence;
    }

    /** K, V, A and Z of one sequence, in double (the function the backward pass differentiates). */
    private final class Forward {
        final double[] z;

        Forward(double[][] y) {
            int t = y.length;
            int dk = config.keyDim();
            int dv = config.valueDim();
            int p = config.queries();
            double[] k = new double[t * dk];
            double[] v = new double[t * dv];
            project(y, k, v);
            double[] a = new double[t];
            z = new double[p * dv];
            for (int i = 0; i < p; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s < t; s++) {
                    double acc = 0;
                    for (int j = 0; j < dk; j++) {
                        acc += q[i * dk + j] * k[s * dk + j];
                    }
                    a[s] = config.beta() * acc;
                    max = Math.max(max, a[s]);
                }
                double sum = 0;
                for (int s = 0; s < t; s++) {
                    a[s] = Math.exp(a[s] - max);
                    sum += a[s];
                }
                for (int s = 0; s < t; s++) {
                    for (int j = 0; j < dv; j++) {
                        z[i * dv + j] += a[s] / sum * v[s * dv + j];
                    }
                }
            }
        }
    }
}
