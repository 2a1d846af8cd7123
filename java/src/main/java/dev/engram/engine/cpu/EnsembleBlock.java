package dev.engram.engine.cpu;

import dev.engram.engine.EnsembleModel;
import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.Philox;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * T trajectories integrated together in structure-of-arrays form: the state is a (2n × T) matrix, rows q_0..q_{n−1},
 * p_0..p_{n−1}, columns trajectories. Each network's gradient over the block is a chain of small dense products with
 * vectors along trajectories (the retrieval engine's micro-kernel):
 * <pre>
 *   forward   A_l = tanh(W_l·A_{l−1} + b_l)                 (h_l × T)
 *   backward  Δ_L = w_out ⊙ (1 − A_L²),  G_{l−1} = W_lᵀ·Δ_l,  Δ_{l−1} = G_{l−1} ⊙ (1 − A_{l−1}²),  ∇H = W_1ᵀ·Δ_1
 * </pre>
 * Every kind of {@link EnsembleModel} and scheme of {@link EnsembleSpec.Scheme}, with the reference engine's
 * equations. One instance per thread; blocks are handed to it one after another.
 */
final class EnsembleBlock {
    private static final VectorSpecies<Float> S = CpuVectors.SPECIES;
    private static final int L = CpuVectors.LANES;

    private final EnsembleSpec spec;
    private final EnsembleModel model;
    private final int n;
    private final int m;
    private final int dim;
    private final int width;
    private final float[] inputs;
    /** H (hnn, dissipative, port), T (separable) or F (baseline). */
    private final Net primary;
    /** V (separable) or the damping R (dissipative, port). */
    private final Net secondary;
    /** The input map G (port). */
    private final Net inputMap;
    private final float[] delta;
    private final float[] g;
    private final float[] grad;
    private final float[] field;
    private final float[] x;
    private final float[] prev;
    private final float[] tmp;
    private final float[] ksum;
    private final float[] energy;
    private final boolean[] alive;
    private final double[] normals = new double[4];
    /** Störmer–Verlet: ∇V(q) of the current state (n × width). */
    private final float[] force;
    /** Tao: the copy (x, y) of the state (2n × width). */
    private final float[] copy;
    /** The damping network's output R (n × width), or the baseline's input (q, p, u) ((2n + m) × width). */
    private final float[] aux;
    /** The input map's output G(q) (n·m × width). */
    private final float[] inputForce;

    /** One MLP's weights and its hidden activations over the block. */
    private static final class Net {
        final int layers;
        final int[] widths;
        final float[][] w;
        final float[][] b;
        final float[][] act;

        Net(MlpWeights mw, int width) {
            layers = mw.layers();
            widths = mw.widths();
            w = mw.weights();
            b = mw.biases();
            act = new float[layers - 1][];
            for (int l = 0; l < layers - 1; l++) {
                act[l] = new float[widths[l + 1] * width];
            }
        }

        int maxWidth() {
            int max = 0;
            for (int v : widths) {
                max = Math.max(max, v);
            }
            return max;
        }
    }

    EnsembleBlock(EnsembleSpec spec, int width) {
        this.spec = spec;
        this.model = spec.model();
        this.n = spec.dof();
        this.m = model.inputCount();
        this.dim = 2 * n;
        this.width = width;
        this.inputs = model.inputs();
        switch (model) {
            case EnsembleModel.Hamiltonian k -> {
                primary = new Net(k.h(), width);
                secondary = null;
                inputMap = null;
            }
            case EnsembleModel.Separable k -> {
                primary = new Net(k.kinetic(), width);
                secondary = new Net(k.potential(), width);
                inputMap = null;
            }
            case EnsembleModel.Dissipative k -> {
                primary = new Net(k.h(), width);
                secondary = new Net(k.damping(), width);
                inputMap = null;
            }
            case EnsembleModel.PortHamiltonian k -> {
                primary = new Net(k.h(), width);
                secondary = new Net(k.damping(), width);
                inputMap = new Net(k.inputMap(), width);
            }
            case EnsembleModel.Derivative k -> {
                primary = new Net(k.f(), width);
                secondary = null;
                inputMap = null;
            }
        }
        int max = dim + m;
        for (Net net : new Net[] {primary, secondary, inputMap}) {
            if (net != null) {
                max = Math.max(max, net.maxWidth());
            }
        }
        delta = new float[max * width];
        g = new float[max * width];
        grad = new float[dim * width];
        field = new float[dim * width];
        x = new float[dim * width];
        prev = new float[dim * width];
        tmp = new float[dim * width];
        ksum = new float[dim * width];
        energy = new float[width];
        alive = new boolean[width];
        force = spec.scheme() == EnsembleSpec.Scheme.STORMER_VERLET ? new float[n * width] : null;
        copy = spec.scheme() == EnsembleSpec.Scheme.TAO ? new float[dim * width] : null;
        aux = new float[Math.max(dim + m, n) * width];
        inputForce = inputMap != null ? new float[n * m * width] : null;
    }

    /** Integrates trajectories {@code [first, first + count)} (count ≤ width) and records them. */
    void run(int first, int count, EnsembleRecorder rec) {
        initialState(first, count);
        int[] samples = spec.sampleSteps();
        record(rec, 0, first, count);
        int next = 1;
        float h = spec.dt();
        if (force != null) {
            gradient(secondary, x, 0, force, 0);
        }
        if (copy != null) {
            System.arraycopy(x, 0, copy, 0, x.length);
        }
        for (int step = 1; step <= spec.steps(); step++) {
            System.arraycopy(x, 0, prev, 0, x.length);
            switch (spec.scheme()) {
                case LEAPFROG -> leapfrog(h);
                case STORMER_VERLET -> stormerVerlet(h);
                case TAO -> tao(h);
                case RK4 -> rk4(h, step - 1);
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

    /** {@code force} = ∇V(q) on entry and exit: p ← p − h/2·force; q ← q + h·∇T(p); force ← ∇V(q); p ← p − h/2·force. */
    private void stormerVerlet(float h) {
        int half = n * width;
        axpy(-0.5f * h, force, 0, x, half, half);
        gradient(primary, x, half, grad, half);
        axpy(h, grad, half, x, 0, half);
        gradient(secondary, x, 0, force, 0);
        axpy(-0.5f * h, force, 0, x, half, half);
    }

    /** Tao's φ_A(h/2) ∘ φ_B(h/2) ∘ φ_C(h) ∘ φ_B(h/2) ∘ φ_A(h/2) on the state and its copy. */
    private void tao(float h) {
        taoA(0.5f * h);
        taoB(0.5f * h);
        int half = n * width;
        // φ_C(h): rotate (q − x, p − y) by the angle 2ωh, keep (q + x, p + y)
        FloatVector c = FloatVector.broadcast(S, (float) Math.cos(2 * spec.taoOmega() * h));
        FloatVector sn = FloatVector.broadcast(S, (float) Math.sin(2 * spec.taoOmega() * h));
        for (int i = 0; i < half; i += L) {
            FloatVector q = FloatVector.fromArray(S, x, i);
            FloatVector p = FloatVector.fromArray(S, x, half + i);
            FloatVector cq = FloatVector.fromArray(S, copy, i);
            FloatVector cp = FloatVector.fromArray(S, copy, half + i);
            FloatVector sq = q.add(cq);
            FloatVector sp = p.add(cp);
            FloatVector u = q.sub(cq);
            FloatVector v = p.sub(cp);
            FloatVector u2 = c.mul(u).add(sn.mul(v));
            FloatVector v2 = c.mul(v).sub(sn.mul(u));
            sq.add(u2).mul(0.5f).intoArray(x, i);
            sq.sub(u2).mul(0.5f).intoArray(copy, i);
            sp.add(v2).mul(0.5f).intoArray(x, half + i);
            sp.sub(v2).mul(0.5f).intoArray(copy, half + i);
        }
        taoB(0.5f * h);
        taoA(0.5f * h);
    }

    /** φ_A(δ): ∇H at (q, y); p −= δ·∂H/∂q, x += δ·∂H/∂p. */
    private void taoA(float d) {
        int half = n * width;
        System.arraycopy(x, 0, tmp, 0, half);
        System.arraycopy(copy, half, tmp, half, half);
        gradient(tmp);
        axpy(-d, grad, 0, x, half, half);
        axpy(d, grad, half, copy, 0, half);
    }

    /** φ_B(δ): ∇H at (x, p); q += δ·∂H/∂p, y −= δ·∂H/∂q. */
    private void taoB(float d) {
        int half = n * width;
        System.arraycopy(copy, 0, tmp, 0, half);
        System.arraycopy(x, half, tmp, half, half);
        gradient(tmp);
        axpy(d, grad, half, x, 0, half);
        axpy(-d, grad, 0, copy, half, half);
    }

    /** RK4 on the model's field (dq, dp), input row {@code row} held for all four stages. */
    private void rk4(float h, int row) {
        // k1 at x
        field(x, row);
        fieldInto(ksum, 1f, false);
        stageFrom(0.5f * h);
        field(tmp, row);
        fieldInto(ksum, 2f, true);
        stageFrom(0.5f * h);
        field(tmp, row);
        fieldInto(ksum, 2f, true);
        stageFrom(h);
        field(tmp, row);
        fieldInto(ksum, 1f, true);
        axpy(h / 6f, ksum, 0, x, 0, dim * width);
    }

    /**
     * The model's (dq/dt, dp/dt) for every column of {@code state} into {@code field}, with input row {@code row}:
     * (∂H/∂p, −∂H/∂q), minus D ⊙ ∂H/∂p with D = softplus(R) for the damped kinds, plus G(q)·u for the port kind, or
     * F(q, p, u) for the baseline.
     */
    private void field(float[] state, int row) {
        int half = n * width;
        if (model instanceof EnsembleModel.Derivative) {
            if (m == 0) {
                output(primary, state, field);
                return;
            }
            System.arraycopy(state, 0, aux, 0, dim * width);
            for (int j = 0; j < m; j++) {
                java.util.Arrays.fill(aux, (dim + j) * width, (dim + j + 1) * width, inputs == null ? 0f : inputs[row * m + j]);
            }
            output(primary, aux, field);
            return;
        }
        gradient(state);
        for (int i = 0; i < half; i += L) {
            FloatVector.fromArray(S, grad, half + i).intoArray(field, i);
            FloatVector.fromArray(S, grad, i).neg().intoArray(field, half + i);
        }
        if (secondary != null && !(model instanceof EnsembleModel.Separable)) {
            output(secondary, state, aux);
            // softplus in double per element: n values per trajectory against the MLP's h² products
            for (int i = 0; i < half; i++) {
                field[half + i] -= (float) softplus(aux[i]) * grad[half + i];
            }
        }
        if (inputMap != null && inputs != null) {
            output(inputMap, state, inputForce);
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < m; j++) {
                    FloatVector u = FloatVector.broadcast(S, inputs[row * m + j]);
                    int gRow = (i * m + j) * width;
                    for (int t = 0; t < width; t += L) {
                        FloatVector.fromArray(S, inputForce, gRow + t).fma(u, FloatVector.fromArray(S, field, half + i * width + t))
                                .intoArray(field, half + i * width + t);
                    }
                }
            }
        }
    }

    /** softplus(r) = log(1 + e^r), without overflow for large r. */
    private static double softplus(double r) {
        return r > 0 ? r + StrictMath.log1p(StrictMath.exp(-r)) : StrictMath.log1p(StrictMath.exp(r));
    }

    /** ksum (+)= c·f with f the field just computed. */
    private void fieldInto(float[] dst, float c, boolean accumulate) {
        for (int i = 0; i < dim * width; i += L) {
            FloatVector d = FloatVector.fromArray(S, field, i).mul(c);
            if (accumulate) {
                d = d.add(FloatVector.fromArray(S, dst, i));
            }
            d.intoArray(dst, i);
        }
    }

    /** tmp = x + a·f, with f the field just computed. */
    private void stageFrom(float a) {
        for (int i = 0; i < dim * width; i += L) {
            FloatVector.fromArray(S, field, i).fma(FloatVector.broadcast(S, a), FloatVector.fromArray(S, x, i)).intoArray(tmp, i);
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
                if (copy != null) {
                    copy[at] = (float) (copy[at] + amp * normals[j % 4]); // Tao's copy y follows p
                }
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

    /** The recorded energy of every column of {@code state} into {@code energy}: H, T + V, or NaN (baseline). */
    private void energy(float[] state) {
        switch (model) {
            case EnsembleModel.Derivative k -> java.util.Arrays.fill(energy, Float.NaN);
            case EnsembleModel.Separable k -> {
                energy(primary, state, n * width, false);
                energy(secondary, state, 0, true);
            }
            default -> energy(primary, state, 0, false);
        }
    }

    /** A scalar network at every column of {@code state} (rows from {@code stateOff}) into (or added to) {@code energy}. */
    private void energy(Net net, float[] state, int stateOff, boolean accumulate) {
        forward(net, state, stateOff);
        int last = net.layers - 1;
        int h = net.widths[last];
        float[] a = net.act[last - 1];
        float bo = net.b[last][0];
        for (int t = 0; t < width; t += L) {
            FloatVector acc = FloatVector.broadcast(S, bo);
            for (int i = 0; i < h; i++) {
                acc = FloatVector.fromArray(S, a, i * width + t).fma(FloatVector.broadcast(S, net.w[last][i]), acc);
            }
            if (accumulate) {
                acc = acc.add(FloatVector.fromArray(S, energy, t));
            }
            acc.intoArray(energy, t);
        }
    }

    /** A vector-valued network's output (out-width × width) at every column of {@code state} into {@code dst}. */
    private void output(Net net, float[] state, float[] dst) {
        forward(net, state, 0);
        int last = net.layers - 1;
        int rows = net.widths[last + 1];
        for (int i = 0; i < rows; i++) {
            java.util.Arrays.fill(dst, i * width, (i + 1) * width, net.b[last][i]);
        }
        float[] in = last == 0 ? state : net.act[last - 1];
        MicroKernels.gemm(net.w[last], 0, net.widths[last], 1, rows, net.widths[last], in, 0, width, dst, 0, width, width, true);
    }

    private void forward(Net net, float[] state, int stateOff) {
        float[] in = state;
        int inOff = stateOff;
        for (int l = 0; l < net.layers - 1; l++) {
            int rows = net.widths[l + 1];
            float[] out = net.act[l];
            for (int i = 0; i < rows; i++) {
                java.util.Arrays.fill(out, i * width, (i + 1) * width, net.b[l][i]);
            }
            MicroKernels.gemm(net.w[l], 0, net.widths[l], 1, rows, net.widths[l], in, inOff, width, out, 0, width, width, true);
            // not lanewise(TANH): its bits would depend on the JIT tier
            ReproducibleMath.tanh(out, 0, rows * width);
            in = out;
            inOff = 0;
        }
    }

    /** ∇H of every column of {@code state} into {@code grad} (2n × width); separable: (∇V(q), ∇T(p)). */
    private void gradient(float[] state) {
        if (model instanceof EnsembleModel.Separable) {
            gradient(secondary, state, 0, grad, 0);
            gradient(primary, state, n * width, grad, n * width);
        } else {
            gradient(primary, state, 0, grad, 0);
        }
    }

    /** ∇ of a scalar network at every column of {@code state} (rows from {@code stateOff}) into {@code dst} from {@code dstOff}. */
    private void gradient(Net net, float[] state, int stateOff, float[] dst, int dstOff) {
        forward(net, state, stateOff);
        int last = net.layers - 1;
        int rows = net.widths[last];
        float[] a = net.act[last - 1];
        for (int i = 0; i < rows; i++) {
            FloatVector wo = FloatVector.broadcast(S, net.w[last][i]);
            for (int t = i * width, end = t + width; t < end; t += L) {
                FloatVector av = FloatVector.fromArray(S, a, t);
                wo.sub(wo.mul(av).mul(av)).intoArray(delta, t);
            }
        }
        for (int l = last - 1; l >= 1; l--) {
            int in = net.widths[l];
            MicroKernels.gemm(net.w[l], 0, 1, in, in, net.widths[l + 1], delta, 0, width, g, 0, width, width, false);
            float[] al = net.act[l - 1];
            for (int t = 0; t < in * width; t += L) {
                FloatVector av = FloatVector.fromArray(S, al, t);
                FloatVector gv = FloatVector.fromArray(S, g, t);
                gv.sub(gv.mul(av).mul(av)).intoArray(delta, t);
            }
        }
        int in0 = net.widths[0];
        MicroKernels.gemm(net.w[0], 0, 1, in0, in0, net.widths[1], delta, 0, width, dst, dstOff, width, width, false);
    }
}
