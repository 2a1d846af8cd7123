package dev.engram.engine.reference;

import dev.engram.engine.EnsembleModel;
import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.Philox;

/**
 * Ensemble integration the obvious way: one trajectory after another, every network by plain loops in double.
 * The oracle for the CPU and native engines. The equations of each kind are in {@link EnsembleModel}, the schemes in
 * {@link EnsembleSpec.Scheme}.
 */
final class ReferenceEnsemble {
    private final EnsembleSpec spec;
    private final EnsembleModel model;
    private final int n;
    private final int m;
    private final float[] inputs;
    /** H (hnn, dissipative, port), T (separable) or F (baseline). */
    private final Net primary;
    /** V (separable) or the damping R (dissipative, port). */
    private final Net secondary;
    /** The input map G (port). */
    private final Net inputMap;
    private final double[] scratchA;
    private final double[] scratchB;
    private final double[] scratchC;

    ReferenceEnsemble(EnsembleSpec spec) {
        this.spec = spec;
        this.model = spec.model();
        this.n = spec.dof();
        this.m = model.inputCount();
        this.inputs = model.inputs();
        switch (model) {
            case EnsembleModel.Hamiltonian k -> {
                primary = new Net(k.h());
                secondary = null;
                inputMap = null;
            }
            case EnsembleModel.Separable k -> {
                primary = new Net(k.kinetic());
                secondary = new Net(k.potential());
                inputMap = null;
            }
            case EnsembleModel.Dissipative k -> {
                primary = new Net(k.h());
                secondary = new Net(k.damping());
                inputMap = null;
            }
            case EnsembleModel.PortHamiltonian k -> {
                primary = new Net(k.h());
                secondary = new Net(k.damping());
                inputMap = new Net(k.inputMap());
            }
            case EnsembleModel.Derivative k -> {
                primary = new Net(k.f());
                secondary = null;
                inputMap = null;
            }
        }
        scratchA = new double[Math.max(2 * n + m, n * Math.max(m, 1))];
        scratchB = new double[2 * n];
        scratchC = new double[2 * n];
    }

    /** One tanh MLP in double: the output vector, and the input gradient of a scalar output. */
    static final class Net {
        private final MlpWeights w;
        private final int layers;
        private final int[] widths;
        private final double[][] act;
        private final double[] g;
        private final double[] gNext;

        Net(MlpWeights w) {
            this.w = w;
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

        /** y = MLP(x[off … off + in)): tanh hidden layers, linear output; returns y (held in the net), y[0] for H. */
        double[] forward(double[] x, int off) {
            double[] in = x;
            int inOff = off;
            for (int l = 0; l < layers; l++) {
                int rows = widths[l + 1];
                int cols = widths[l];
                double[] out = act[l];
                for (int i = 0; i < rows; i++) {
                    double z = w.bias(l, i);
                    for (int j = 0; j < cols; j++) {
                        z += w.weight(l, i, j) * in[inOff + j];
                    }
                    out[i] = l == layers - 1 ? z : Math.tanh(z);
                }
                in = out;
                inOff = 0;
            }
            return act[layers - 1];
        }

        /**
         * ∇ₓ of a scalar output at x[off …] into grad[gOff …]: backward through tanh,
         * g_{l−1} = W_lᵀ (g_l ⊙ (1 − a_l²)).
         */
        void gradient(double[] x, int off, double[] grad, int gOff) {
            forward(x, off);
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
                int dOff = l == 0 ? gOff : 0;
                for (int j = 0; j < cols; j++) {
                    double s = 0;
                    for (int i = 0; i < rows; i++) {
                        s += w.weight(l, i, j) * g[i];
                    }
                    dst[dOff + j] = s;
                }
                if (l > 0) {
                    System.arraycopy(gNext, 0, g, 0, cols);
                }
            }
        }
    }

    /** The recorded energy: H, T + V, or NaN for the baseline. */
    double energy(double[] x) {
        return switch (model) {
            case EnsembleModel.Separable k -> primary.forward(x, n)[0] + secondary.forward(x, 0)[0];
            case EnsembleModel.Derivative k -> Double.NaN;
            default -> primary.forward(x, 0)[0];
        };
    }

    /** ∇H = (∂H/∂q, ∂H/∂p) into {@code grad} (2n); for the separable kind (∇V(q), ∇T(p)). */
    private void gradient(double[] x, double[] grad) {
        if (secondary != null && model instanceof EnsembleModel.Separable) {
            secondary.gradient(x, 0, grad, 0);
            primary.gradient(x, n, grad, n);
        } else {
            primary.gradient(x, 0, grad, 0);
        }
    }

    /** (dq/dt, dp/dt) of the model at x into {@code out} (2n), with input row {@code row} of the table. */
    private void field(double[] x, int row, double[] out) {
        if (model instanceof EnsembleModel.Derivative) {
            double[] in = scratchA;
            System.arraycopy(x, 0, in, 0, 2 * n);
            for (int j = 0; j < m; j++) {
                in[2 * n + j] = inputs == null ? 0 : inputs[row * m + j];
            }
            System.arraycopy(primary.forward(in, 0), 0, out, 0, 2 * n);
            return;
        }
        double[] g = scratchB;
        gradient(x, g);
        for (int j = 0; j < n; j++) {
            out[j] = g[n + j];
            out[n + j] = -g[j];
        }
        if (model instanceof EnsembleModel.Dissipative || model instanceof EnsembleModel.PortHamiltonian) {
            double[] r = secondary.forward(x, 0);
            for (int j = 0; j < n; j++) {
                out[n + j] -= softplus(r[j]) * g[n + j];
            }
        }
        if (model instanceof EnsembleModel.PortHamiltonian && inputs != null) {
            double[] gm = inputMap.forward(x, 0);
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = 0; j < m; j++) {
                    s += gm[i * m + j] * inputs[row * m + j];
                }
                out[n + i] += s;
            }
        }
    }

    /** softplus(r) = log(1 + e^r), without overflow for large r. */
    static double softplus(double r) {
        return r > 0 ? r + Math.log1p(Math.exp(-r)) : Math.log1p(Math.exp(r));
    }

    EnsembleResult run(java.util.function.LongConsumer progress) {
        EnsembleRecorder rec = new EnsembleRecorder(spec, progress);
        int[] samples = spec.sampleSteps();
        int dim = 2 * n;
        double[] x = new double[dim];
        double[] prev = new double[dim];
        double[] grad = new double[dim];
        double[] copy = new double[dim];
        double[] force = new double[n];
        double[][] k = new double[4][dim];
        double[] tmp = new double[dim];
        double[] normals = new double[4];
        float[] f = new float[dim];
        double h = spec.dt();
        EnsembleSpec.Scheme scheme = spec.scheme();
        for (int i = 0; i < spec.trajectories(); i++) {
            initialState(i, x, normals);
            rec.sample(0, i, toFloat(x, f), 0, 1, (float) energy(x));
            if (scheme == EnsembleSpec.Scheme.TAO) {
                System.arraycopy(x, 0, copy, 0, dim);
            } else if (scheme == EnsembleSpec.Scheme.STORMER_VERLET) {
                secondary.gradient(x, 0, force, 0);
            }
            int next = 1;
            for (int step = 1; step <= spec.steps(); step++) {
                System.arraycopy(x, 0, prev, 0, dim);
                switch (scheme) {
                    case LEAPFROG -> leapfrog(x, grad, h);
                    case STORMER_VERLET -> stormerVerlet(x, force, grad, h);
                    case TAO -> tao(x, copy, grad, tmp, h);
                    case RK4 -> rk4(x, step - 1, k, tmp, h);
                }
                if (spec.noise() > 0) {
                    double amp = spec.noise() * Math.sqrt(h);
                    for (int j = 0; j < n; j++) {
                        if (j % 4 == 0) {
                            Philox.gaussians(spec.seed(), i, step, j / 4, normals);
                        }
                        x[n + j] += amp * normals[j % 4];
                        copy[n + j] += amp * normals[j % 4]; // Tao's copy y follows p (unused by other schemes)
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

    /** {@code force} = ∇V(q) on entry and on exit: p ← p − h/2·force; q ← q + h·∇T(p); force ← ∇V(q); p ← p − h/2·force. */
    private void stormerVerlet(double[] x, double[] force, double[] velocity, double h) {
        for (int j = 0; j < n; j++) {
            x[n + j] -= 0.5 * h * force[j];
        }
        primary.gradient(x, n, velocity, 0);
        for (int j = 0; j < n; j++) {
            x[j] += h * velocity[j];
        }
        secondary.gradient(x, 0, force, 0);
        for (int j = 0; j < n; j++) {
            x[n + j] -= 0.5 * h * force[j];
        }
    }

    /** Tao's φ_A(h/2) ∘ φ_B(h/2) ∘ φ_C(h) ∘ φ_B(h/2) ∘ φ_A(h/2) on (q, p) = x and its copy (x, y) = {@code copy}. */
    private void tao(double[] x, double[] copy, double[] grad, double[] tmp, double h) {
        taoA(x, copy, grad, tmp, 0.5 * h);
        taoB(x, copy, grad, tmp, 0.5 * h);
        double c = Math.cos(2 * spec.taoOmega() * h);
        double s = Math.sin(2 * spec.taoOmega() * h);
        // φ_C(h): rotate (q − x, p − y) by the angle 2ωh, keep (q + x, p + y)
        for (int j = 0; j < n; j++) {
            double sq = x[j] + copy[j];
            double sp = x[n + j] + copy[n + j];
            double u = x[j] - copy[j];
            double v = x[n + j] - copy[n + j];
            double u2 = c * u + s * v;
            double v2 = -s * u + c * v;
            x[j] = 0.5 * (sq + u2);
            copy[j] = 0.5 * (sq - u2);
            x[n + j] = 0.5 * (sp + v2);
            copy[n + j] = 0.5 * (sp - v2);
        }
        taoB(x, copy, grad, tmp, 0.5 * h);
        taoA(x, copy, grad, tmp, 0.5 * h);
    }

    /** φ_A(δ): at (q, y): p −= δ·∂H/∂q, x += δ·∂H/∂p. */
    private void taoA(double[] x, double[] copy, double[] grad, double[] tmp, double d) {
        System.arraycopy(x, 0, tmp, 0, n);
        System.arraycopy(copy, n, tmp, n, n);
        gradient(tmp, grad);
        for (int j = 0; j < n; j++) {
            x[n + j] -= d * grad[j];
            copy[j] += d * grad[n + j];
        }
    }

    /** φ_B(δ): at (x, p): q += δ·∂H/∂p, y −= δ·∂H/∂q. */
    private void taoB(double[] x, double[] copy, double[] grad, double[] tmp, double d) {
        System.arraycopy(copy, 0, tmp, 0, n);
        System.arraycopy(x, n, tmp, n, n);
        gradient(tmp, grad);
        for (int j = 0; j < n; j++) {
            x[j] += d * grad[n + j];
            copy[n + j] -= d * grad[j];
        }
    }

    /** Classical RK4 on the model's field, the input row held for all four stages. */
    private void rk4(double[] x, int row, double[][] k, double[] tmp, double h) {
        int dim = 2 * n;
        field(x, row, k[0]);
        for (int j = 0; j < dim; j++) {
            tmp[j] = x[j] + 0.5 * h * k[0][j];
        }
        field(tmp, row, k[1]);
        for (int j = 0; j < dim; j++) {
            tmp[j] = x[j] + 0.5 * h * k[1][j];
        }
        field(tmp, row, k[2]);
        for (int j = 0; j < dim; j++) {
            tmp[j] = x[j] + h * k[2][j];
        }
        field(tmp, row, k[3]);
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
