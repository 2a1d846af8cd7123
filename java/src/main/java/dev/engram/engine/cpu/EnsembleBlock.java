package dev.engram.engine.cpu;

import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.Philox;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * T trajectories integrated together in structure-of-arrays form: the state is a (2n × T) matrix, rows q_0..q_{n−1},
 * p_0..p_{n−1}, columns trajectories. The MLP gradient over the block is a chain of small dense products with
 * vectors along trajectories (the retrieval engine's micro-kernel):
 * <pre>
 *   forward   A_l = tanh(W_l·A_{l−1} + b_l)                 (h_l × T)
 *   backward  Δ_L = w_out ⊙ (1 − A_L²),  G_{l−1} = W_lᵀ·Δ_l,  Δ_{l−1} = G_{l−1} ⊙ (1 − A_{l−1}²),  ∇H = W_1ᵀ·Δ_1
 * </pre>
 * One instance per thread; blocks are handed to it one after another.
 */
final class EnsembleBlock {
    private static final VectorSpecies<Float> S = CpuVectors.SPECIES;
    private static final int L = CpuVectors.LANES;

    private final EnsembleSpec spec;
    private final int n;
    private final int dim;
    private final int width;
    private final int layers;
    private final int[] widths;
    private final float[][] w;
    private final float[][] b;
    private final float[][] act;
    private final float[] delta;
    private final float[] g;
    private final float[] grad;
    private final float[] x;
    private final float[] prev;
    private final float[] tmp;
    private final float[] ksum;
    private final float[] energy;
    private final float[] noise;
    private final boolean[] alive;
    private final double[] normals = new double[4];

    EnsembleBlock(EnsembleSpec spec, int width) {
        this.spec = spec;
        this.n = spec.dof();
        this.dim = 2 * n;
        this.width = width;
        MlpWeights mw = spec.hamiltonian();
        layers = mw.layers();
        widths = mw.widths();
        w = mw.weights();
        b = mw.biases();
        act = new float[layers - 1][];
        int max = dim;
        for (int l = 0; l < layers - 1; l++) {
            act[l] = new float[widths[l + 1] * width];
            max = Math.max(max, widths[l + 1]);
        }
        delta = new float[max * width];
        g = new float[max * width];
        grad = new float[dim * width];
        x = new float[dim * width];
        prev = new float[dim * width];
        tmp = new float[dim * width];
        ksum = new float[dim * width];
        energy = new float[width];
        noise = new float[n * width];
        alive = new boolean[width];
    }

    /** Integrates trajectories {@code [first, first + count)} (count ≤ width) and records them. */
    void run(int first, int count, EnsembleRecorder rec) {
        initialState(first, count);
        int[] samples = spec.sampleSteps();
        record(rec, 0, first, count);
        int next = 1;
        float h = spec.dt();
        for (int step = 1; step <= spec.steps(); step++) {
            System.arraycopy(x, 0, prev, 0, x.length);
            if (spec.scheme() == EnsembleSpec.Scheme.LEAPFROG) {
                leapfrog(h);
            } else {
                rk4(h);
            }
            if (spec.noise() > 0) {
                addNoise(first, count, step, h);
            }
            checkFinite(first, count, step, next - 1, rec);
            if (step == samples[next]) {
                record(rec, next, first, count);
                next++;
            }
        }
        for (int t = 0; t < count; t++) {
            rec.finish(first + t, x, t, width);
        }
    }

    private void initialState(int first, int count) {
        java.util.Arrays.fill(x, 0f);
        float[] init = spec.initialStates();
        for (int t = 0; t < count; t++) {
            int i = first + t;
            alive[t] = true;
            for (int j = 0; j < dim; j++) {
                if (init != null) {
                    x[j * width + t] = init[i * dim + j];
                    continue;
                }
                if (j % 4 == 0) {
                    Philox.gaussians(spec.seed(), i, -1, j / 4, normals);
                }
                double base = j < n ? spec.q0()[j] : spec.p0()[j - n];
                double sigma = j < n ? spec.sigmaQ() : spec.sigmaP();
                x[j * width + t] = (float) (base + sigma * normals[j % 4]);
            }
        }
        for (int t = count; t < width; t++) {
            alive[t] = false;
        }
    }

    private void record(EnsembleRecorder rec, int sample, int first, int count) {
        energy(x);
        for (int t = 0; t < count; t++) {
            if (alive[t]) {
                rec.sample(sample, first + t, x, t, width, energy[t]);
            }
        }
    }

    /** p ← p − h/2·∂H/∂q; q ← q + h·∂H/∂p; p ← p − h/2·∂H/∂q, each gradient at the current state. */
    private void leapfrog(float h) {
        int half = n * width;
        gradient(x);
        axpy(-0.5f * h, grad, 0, x, half, half);
        gradient(x);
        axpy(h, grad, half, x, 0, half);
        gradient(x);
        axpy(-0.5f * h, grad, 0, x, half, half);
    }

    /** RK4 on (dq, dp) = (∂H/∂p, −∂H/∂q). */
    private void rk4(float h) {
        int half = n * width;
        // k1 at x
        gradient(x);
        fieldInto(ksum, 1f, false);
        stageFrom(0.5f * h);
        gradient(tmp);
        fieldInto(ksum, 2f, true);
        stageFrom(0.5f * h);
        gradient(tmp);
        fieldInto(ksum, 2f, true);
        stageFrom(h);
        gradient(tmp);
        fieldInto(ksum, 1f, true);
        axpy(h / 6f, ksum, 0, x, 0, 2 * half);
    }

    /** ksum (+)= c·f where f = (∂H/∂p, −∂H/∂q) from {@code grad}. */
    private void fieldInto(float[] dst, float c, boolean accumulate) {
        int half = n * width;
        for (int i = 0; i < half; i += L) {
            FloatVector dq = FloatVector.fromArray(S, grad, half + i).mul(c);
            FloatVector dp = FloatVector.fromArray(S, grad, i).mul(-c);
            if (accumulate) {
                dq = dq.add(FloatVector.fromArray(S, dst, i));
                dp = dp.add(FloatVector.fromArray(S, dst, half + i));
            }
            dq.intoArray(dst, i);
            dp.intoArray(dst, half + i);
        }
    }

    /** tmp = x + a·f, with f = (∂H/∂p, −∂H/∂q) from the gradient just computed. */
    private void stageFrom(float a) {
        int half = n * width;
        for (int i = 0; i < half; i += L) {
            FloatVector.fromArray(S, grad, half + i).fma(FloatVector.broadcast(S, a), FloatVector.fromArray(S, x, i)).intoArray(tmp, i);
            FloatVector.fromArray(S, grad, i).fma(FloatVector.broadcast(S, -a), FloatVector.fromArray(S, x, half + i)).intoArray(tmp, half + i);
        }
    }

    private static void axpy(float a, float[] src, int srcOff, float[] dst, int dstOff, int len) {
        for (int i = 0; i < len; i += L) {
            FloatVector.fromArray(S, src, srcOff + i).fma(FloatVector.broadcast(S, a), FloatVector.fromArray(S, dst, dstOff + i))
                    .intoArray(dst, dstOff + i);
        }
    }

    private void addNoise(int first, int count, int step, float h) {
        double amp = spec.noise() * Math.sqrt(h);
        for (int t = 0; t < count; t++) {
            for (int j = 0; j < n; j++) {
                if (j % 4 == 0) {
                    Philox.gaussians(spec.seed(), first + t, step, j / 4, normals);
                }
                int at = (n + j) * width + t;
                x[at] = (float) (x[at] + amp * normals[j % 4]);
            }
        }
    }

    /** Trajectories whose new state is not finite stop at their last finite state and are reported. */
    private void checkFinite(int first, int count, int step, int lastSample, EnsembleRecorder rec) {
        boolean bad = false;
        for (int i = 0; i < x.length && !bad; i += L) {
            bad = !FloatVector.fromArray(S, x, i).test(VectorOperators.IS_FINITE).allTrue();
        }
        for (int t = 0; t < width; t++) {
            boolean frozen = !alive[t];
            if (!frozen && bad && t < count) {
                for (int j = 0; j < dim; j++) {
                    if (!Float.isFinite(x[j * width + t])) {
                        alive[t] = false;
                        rec.markDiverged(first + t, step);
                        rec.blankAfter(first + t, lastSample);
                        break;
                    }
                }
            }
            if (!alive[t]) {
                for (int j = 0; j < dim; j++) {
                    x[j * width + t] = t < count ? prev[j * width + t] : 0f;
                }
            }
        }
    }

    /** H for every column of {@code state} into {@code energy}. */
    private void energy(float[] state) {
        forward(state);
        int last = layers - 1;
        int h = widths[last];
        float[] a = act[last - 1];
        float bo = b[last][0];
        for (int t = 0; t < width; t += L) {
            FloatVector acc = FloatVector.broadcast(S, bo);
            for (int i = 0; i < h; i++) {
                acc = FloatVector.fromArray(S, a, i * width + t).fma(FloatVector.broadcast(S, w[last][i]), acc);
            }
            acc.intoArray(energy, t);
        }
    }

    private void forward(float[] state) {
        float[] in = state;
        for (int l = 0; l < layers - 1; l++) {
            int rows = widths[l + 1];
            float[] out = act[l];
            for (int i = 0; i < rows; i++) {
                java.util.Arrays.fill(out, i * width, (i + 1) * width, b[l][i]);
            }
            MicroKernels.gemm(w[l], 0, widths[l], 1, rows, widths[l], in, 0, width, out, 0, width, width, true);
            // not lanewise(TANH): its bits would depend on the JIT tier
            ReproducibleMath.tanh(out, 0, rows * width);
            in = out;
        }
    }

    /** ∇H of every column of {@code state} into {@code grad} (2n × width). */
    private void gradient(float[] state) {
        forward(state);
        int last = layers - 1;
        int rows = widths[last];
        float[] a = act[last - 1];
        for (int i = 0; i < rows; i++) {
            FloatVector wo = FloatVector.broadcast(S, w[last][i]);
            for (int t = i * width, end = t + width; t < end; t += L) {
                FloatVector av = FloatVector.fromArray(S, a, t);
                wo.sub(wo.mul(av).mul(av)).intoArray(delta, t);
            }
        }
        for (int l = last - 1; l >= 1; l--) {
            int in = widths[l];
            MicroKernels.gemm(w[l], 0, 1, in, in, widths[l + 1], delta, 0, width, g, 0, width, width, false);
            float[] al = act[l - 1];
            for (int t = 0; t < in * width; t += L) {
                FloatVector av = FloatVector.fromArray(S, al, t);
                FloatVector gv = FloatVector.fromArray(S, g, t);
                gv.sub(gv.mul(av).mul(av)).intoArray(delta, t);
            }
        }
        MicroKernels.gemm(w[0], 0, 1, dim, dim, widths[1], delta, 0, width, grad, 0, width, width, false);
    }
}
