package dev.engram.engine.reference;

import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.Philox;

/**
 * Ensemble integration the obvious way: one trajectory after another, the MLP gradient by plain loops in double.
 * The oracle for the CPU and native engines.
 */
final class ReferenceEnsemble {
    private final EnsembleSpec spec;
    private final MlpWeights w;
    private final int n;
    private final int layers;
    private final int[] widths;
    private final double[][] act;
    private final double[] g;
    private final double[] gNext;

    ReferenceEnsemble(EnsembleSpec spec) {
        this.spec = spec;
        this.w = spec.hamiltonian();
        this.n = spec.dof();
        this.layers = w.layers();
        this.widths = w.widths();
        act = new double[layers][];
        int max = 0;
        for (int l = 0; l < layers; l++) {
            act[l] = new double[widths[l + 1]];
        }
        for (int width : widths) {
            max = Math.max(max, width);
        }
        g = new double[max];
        gNext = new double[max];
    }

    /** H(x) for x = (q, p): tanh hidden layers, linear output. Leaves hidden activations in {@code act}. */
    double energy(double[] x) {
        double[] in = x;
        for (int l = 0; l < layers; l++) {
            int rows = widths[l + 1];
            int cols = widths[l];
            double[] out = act[l];
            for (int i = 0; i < rows; i++) {
                double z = w.bias(l, i);
                for (int j = 0; j < cols; j++) {
                    z += w.weight(l, i, j) * in[j];
                }
                out[i] = l == layers - 1 ? z : Math.tanh(z);
            }
            in = out;
        }
        return act[layers - 1][0];
    }

    /** ∇ₓH into {@code grad} (2n): backward through tanh, g_{l−1} = W_lᵀ (g_l ⊙ (1 − a_l²)). */
    void gradient(double[] x, double[] grad) {
        energy(x);
        int last = layers - 1;
        int width = widths[last];
        for (int i = 0; i < width; i++) {
            g[i] = w.weight(last, 0, i);
        }
        for (int l = last - 1; l >= 0; l--) {
            int rows = widths[l + 1];
            int cols = widths[l];
            for (int i = 0; i < rows; i++) {
                g[i] *= 1 - act[l][i] * act[l][i];
            }
            double[] dst = l == 0 ? grad : gNext;
            for (int j = 0; j < cols; j++) {
                double s = 0;
                for (int i = 0; i < rows; i++) {
                    s += w.weight(l, i, j) * g[i];
                }
                dst[j] = s;
            }
            if (l > 0) {
                System.arraycopy(gNext, 0, g, 0, cols);
            }
        }
    }

    EnsembleResult run(java.util.function.LongConsumer progress) {
        EnsembleRecorder rec = new EnsembleRecorder(spec, progress);
        int[] samples = spec.sampleSteps();
        int dim = 2 * n;
        double[] x = new double[dim];
        double[] prev = new double[dim];
        double[] grad = new double[dim];
        double[][] k = new double[4][dim];
        double[] tmp = new double[dim];
        double[] normals = new double[4];
        float[] f = new float[dim];
        double h = spec.dt();
        for (int i = 0; i < spec.trajectories(); i++) {
            initialState(i, x, normals);
            rec.sample(0, i, toFloat(x, f), 0, 1, (float) energy(x));
            int next = 1;
            for (int step = 1; step <= spec.steps(); step++) {
                System.arraycopy(x, 0, prev, 0, dim);
                if (spec.scheme() == EnsembleSpec.Scheme.LEAPFROG) {
                    leapfrog(x, grad, h);
                } else {
                    rk4(x, k, tmp, h);
                }
                if (spec.noise() > 0) {
                    double amp = spec.noise() * Math.sqrt(h);
                    for (int j = 0; j < n; j++) {
                        if (j % 4 == 0) {
                            Philox.gaussians(spec.seed(), i, step, j / 4, normals);
                        }
                        x[n + j] += amp * normals[j % 4];
                    }
                }
                if (!finite(x)) {
                    System.arraycopy(prev, 0, x, 0, dim);
                    rec.markDiverged(i, step);
                    rec.blankAfter(i, next - 1);
                    break;
                }
                if (step == samples[next]) {
                    rec.sample(next, i, toFloat(x, f), 0, 1, (float) energy(x));
                    next++;
                }
            }
            rec.finish(i, toFloat(x, f), 0, 1);
        }
        return rec.result();
    }

    private void initialState(int i, double[] x, double[] normals) {
        float[] init = spec.initialStates();
        if (init != null) {
            for (int j = 0; j < 2 * n; j++) {
                x[j] = init[i * 2 * n + j];
            }
            return;
        }
        for (int j = 0; j < 2 * n; j++) {
            if (j % 4 == 0) {
                Philox.gaussians(spec.seed(), i, -1, j / 4, normals);
            }
            double base = j < n ? spec.q0()[j] : spec.p0()[j - n];
            double sigma = j < n ? spec.sigmaQ() : spec.sigmaP();
            // The float rounding matches the engines, which hold states in float32.
            x[j] = (float) (base + sigma * normals[j % 4]);
        }
    }

    /** p ← p − h/2·∂H/∂q; q ← q + h·∂H/∂p; p ← p − h/2·∂H/∂q (each at the current state). */
    private void leapfrog(double[] x, double[] grad, double h) {
        gradient(x, grad);
        for (int j = 0; j < n; j++) {
            x[n + j] -= 0.5 * h * grad[j];
        }
        gradient(x, grad);
        for (int j = 0; j < n; j++) {
            x[j] += h * grad[n + j];
        }
        gradient(x, grad);
        for (int j = 0; j < n; j++) {
            x[n + j] -= 0.5 * h * grad[j];
        }
    }

    /** Hamilton's equations f(x) = (∂H/∂p, −∂H/∂q). */
    private void field(double[] x, double[] out, double[] grad) {
        gradient(x, grad);
        for (int j = 0; j < n; j++) {
            out[j] = grad[n + j];
            out[n + j] = -grad[j];
        }
    }

    private void rk4(double[] x, double[][] k, double[] tmp, double h) {
        int dim = 2 * n;
        double[] grad = new double[dim];
        field(x, k[0], grad);
        for (int j = 0; j < dim; j++) {
            tmp[j] = x[j] + 0.5 * h * k[0][j];
        }
        field(tmp, k[1], grad);
        for (int j = 0; j < dim; j++) {
            tmp[j] = x[j] + 0.5 * h * k[1][j];
        }
        field(tmp, k[2], grad);
        for (int j = 0; j < dim; j++) {
            tmp[j] = x[j] + h * k[2][j];
        }
        field(tmp, k[3], grad);
        for (int j = 0; j < dim; j++) {
            x[j] += h / 6 * (k[0][j] + 2 * k[1][j] + 2 * k[2][j] + k[3][j]);
        }
    }

    /** Results are float32 for every engine, so a state outside the float range has diverged here too. */
    private static boolean finite(double[] x) {
        for (double v : x) {
            if (!Float.isFinite((float) v)) {
                return false;
            }
        }
        return true;
    }

    private static float[] toFloat(double[] x, float[] f) {
        for (int j = 0; j < x.length; j++) {
            f[j] = (float) x[j];
        }
        return f;
    }
}
