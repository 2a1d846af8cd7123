package dev.engram.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * One tanh MLP of a model being trained, in float32 for batched products over a chunk of samples:
 * <pre>
 *   a_0 = x,   a_l = tanh(W_{l−1}·a_{l−1} + b_{l−1})  (l = 1 … L, hidden),   y = W_L·a_L + b_L  (linear)
 * </pre>
 * Every matrix of the pass is batch-major, one row per sample, each row padded to N_l = a multiple of the lane count
 * (pads stay exactly 0: padded weights are 0 and tanh(0) = 0), so every product is {@link MicroKernels#gemm} with
 * vectors along units. Each output element is one FMA chain in a fixed order, so the bits do not depend on how rows
 * are split, on the vector width or on the thread.
 *
 * <p>Weights are held twice, W_k ({@code widths[k+1] × N_k}, for δ·W) and W_kᵀ ({@code widths[k] × N_{k+1}},
 * for a·Wᵀ). The gradient of one chunk goes to a float "slot" laid out per layer
 * as W̄_k ({@code widths[k+1] × N_k}) then b̄_k ({@code N_{k+1}}).
 */
final class TanhNet {
    private static final VectorSpecies<Float> S = CpuVectors.SPECIES;
    private static final int LANES = CpuVectors.LANES;

    /** Real widths [in, h_1, …, h_L, out]. */
    final int[] w;
    /** Padded widths N_l. */
    final int[] pw;
    /** Hidden layers L. */
    final int hidden;
    /** Where this network starts in θ. */
    final int offset;
    /** Where layer k's gradient starts in a slot (from this network's slot offset). */
    final int[] gOff;
    /** Floats this network takes in a slot. */
    final int slotSize;
    private final float[][] wRow;
    private final float[][] wCol;
    private final float[][] bias;

    TanhNet(int[] widths, int offset) {
        this.w = widths.clone();
        this.hidden = w.length - 2;
        this.offset = offset;
        this.pw = new int[w.length];
        for (int l = 0; l < w.length; l++) {
            pw[l] = pad(w[l]);
        }
        int layers = w.length - 1;
        wRow = new float[layers][];
        wCol = new float[layers][];
        bias = new float[layers][];
        gOff = new int[layers];
        int g = 0;
        for (int k = 0; k < layers; k++) {
            wRow[k] = new float[w[k + 1] * pw[k]];
            wCol[k] = new float[w[k] * pw[k + 1]];
            bias[k] = new float[pw[k + 1]];
            gOff[k] = g;
            g += w[k + 1] * pw[k] + pw[k + 1];
        }
        slotSize = g;
    }

    static int pad(int n) {
        return (n + LANES - 1) / LANES * LANES;
    }

    /** Copies this network's slice of θ (layout of {@link dev.engram.engine.TrainingModel}) into float32. */
    void load(double[] theta) {
        int o = offset;
        for (int k = 0; k < w.length - 1; k++) {
            int in = w[k];
            int out = w[k + 1];
            float[] r = wRow[k];
            float[] c = wCol[k];
            int nIn = pw[k];
            int nOut = pw[k + 1];
            for (int i = 0; i < out; i++) {
                for (int j = 0; j < in; j++) {
                    float v = (float) theta[o + i * in + j];
                    r[i * nIn + j] = v;
                    c[j * nOut + i] = v;
                }
            }
            o += out * in;
            for (int i = 0; i < out; i++) {
                bias[k][i] = (float) theta[o + i];
            }
            o += out;
        }
    }

    /** Writes this network's part of a merged slot (from {@code slotOff}) into {@code grad}, θ layout. */
    void writeGradient(double[] slot, int slotOff, double[] grad) {
        int o = offset;
        for (int k = 0; k < w.length - 1; k++) {
            int in = w[k];
            int out = w[k + 1];
            int s = slotOff + gOff[k];
            for (int i = 0; i < out; i++) {
                int row = s + i * pw[k];
                for (int j = 0; j < in; j++) {
                    grad[o + i * in + j] = slot[row + j];
                }
            }
            o += out * in;
            int sb = s + out * pw[k];
            for (int i = 0; i < out; i++) {
                grad[o + i] = slot[sb + i];
            }
            o += out;
        }
    }

    /** Scratch of one worker for this network, {@code rows} samples at most. */
    final class Work {
        /** a[l], rows × N_l; a[0] is the input, filled by the caller (pads 0). */
        final float[][] a = new float[w.length - 1][];
        /** g[l] = ∂y/∂a_l (scalar networks), rows × N_l; g[0] = ∇ₓy. */
        final float[][] g = new float[w.length - 1][];
        /** δ_l = g_l ⊙ (1 − a_l²), rows × N_l (l ≥ 1). */
        final float[][] delta = new float[w.length - 1][];
        /** ḡ_l, rows × N_l; ḡ_0 is the loss's adjoint of ∇ₓy, filled by the caller (pads 0). */
        final float[][] gBar = new float[w.length - 1][];
        /** ā_l then z̄_l, rows × N_l (l ≥ 1). */
        final float[][] aBar = new float[w.length - 1][];
        /** y (vector networks), rows × N_out; then ȳ, filled by the caller. */
        final float[] y;
        final float[] yBar;
        final int rows;

        Work(int rows, boolean scalar) {
            this.rows = rows;
            for (int l = 0; l <= hidden; l++) {
                a[l] = new float[rows * pw[l]];
                aBar[l] = l > 0 ? new float[rows * pw[l]] : null;
                if (scalar) {
                    g[l] = new float[rows * pw[l]];
                    gBar[l] = new float[rows * pw[l]];
                    delta[l] = l > 0 ? new float[rows * pw[l]] : null;
                }
            }
            y = scalar ? null : new float[rows * pw[hidden + 1]];
            yBar = scalar ? null : new float[rows * pw[hidden + 1]];
        }
    }

    /** a_1 … a_L from a_0 for {@code rows} samples. */
    void forwardHidden(Work s, int rows) {
        for (int k = 0; k < hidden; k++) {
            int nOut = pw[k + 1];
            float[] z = s.a[k + 1];
            MicroKernels.gemm(s.a[k], 0, pw[k], 1, rows, w[k], wCol[k], 0, nOut, z, 0, nOut, nOut, false);
            float[] b = bias[k];
            for (int r = 0; r < rows; r++) {
                int ro = r * nOut;
                for (int i = 0; i < nOut; i += LANES) {
                    FloatVector.fromArray(S, z, ro + i).add(FloatVector.fromArray(S, b, i)).intoArray(z, ro + i);
                }
            }
            // the one tanh of the training path: FMA-only, the same bits in every JIT tier and at every width
            ReproducibleMath.tanh(z, 0, rows * nOut);
        }
    }

    /** y = W_L·a_L + b_L (vector networks), after {@link #forwardHidden}. */
    void output(Work s, int rows) {
        int nOut = pw[hidden + 1];
        MicroKernels.gemm(s.a[hidden], 0, pw[hidden], 1, rows, w[hidden], wCol[hidden], 0, nOut, s.y, 0, nOut, nOut,
                false);
        float[] b = bias[hidden];
        for (int r = 0; r < rows; r++) {
            int ro = r * nOut;
            for (int i = 0; i < nOut; i += LANES) {
                FloatVector.fromArray(S, s.y, ro + i).add(FloatVector.fromArray(S, b, i)).intoArray(s.y, ro + i);
            }
        }
    }

    /**
     * ∇ₓy of a scalar network into {@code s.g[0]}, after {@link #forwardHidden}: g_L = w_o, δ_l = g_l ⊙ (1 − a_l²),
     * g_{l−1} = δ_l·W_{l−1}.
     */
    void inputGradient(Work s, int rows) {
        int nL = pw[hidden];
        float[] gL = s.g[hidden];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(wRow[hidden], 0, gL, r * nL, nL);
        }
        for (int l = hidden; l >= 1; l--) {
            int nl = pw[l];
            float[] al = s.a[l];
            float[] gl = s.g[l];
            float[] dl = s.delta[l];
            for (int i = 0; i < rows * nl; i += LANES) {
                FloatVector av = FloatVector.fromArray(S, al, i);
                FloatVector gv = FloatVector.fromArray(S, gl, i);
                gv.mul(slope(av)).intoArray(dl, i);
            }
            MicroKernels.gemm(dl, 0, nl, 1, rows, w[l], wRow[l - 1], 0, pw[l - 1], s.g[l - 1], 0, pw[l - 1], pw[l - 1],
                    false);
        }
    }

    /**
     * The double backpropagation of a scalar network, after {@link #inputGradient} and with ḡ_0 in
     * {@code s.gBar[0]}: writes ∂(Σ_rows ḡ_0·∇ₓy)/∂θ into {@code slot} from {@code slotOff}. With s_l = 1 − a_l²:
     * <pre>
     *   for l = 1 … L:  δ̄_l = ḡ_{l−1}·W_{l−1}ᵀ;  ā_l = −2 a_l ⊙ δ̄_l ⊙ g_l;  ḡ_l = δ̄_l ⊙ s_l
     *   w̄_o = Σ_rows ḡ_L   (b̄_o = 0: the output bias does not enter ∇ₓy)
     *   for l = L … 1:  z̄_l = ā_l ⊙ s_l;  W̄_{l−1} = z̄_lᵀ·a_{l−1} + δ_lᵀ·ḡ_{l−1};  b̄_{l−1} = Σ_rows z̄_l;
     *                   ā_{l−1} += z̄_l·W_{l−1}
     * </pre>
     */
    void doubleBackprop(Work s, int rows, float[] slot, int slotOff) {
        for (int l = 1; l <= hidden; l++) {
            int nl = pw[l];
            float[] db = s.gBar[l];
            MicroKernels.gemm(s.gBar[l - 1], 0, pw[l - 1], 1, rows, w[l - 1], wCol[l - 1], 0, nl, db, 0, nl, nl, false);
            float[] al = s.a[l];
            float[] gl = s.g[l];
            float[] ab = s.aBar[l];
            for (int i = 0; i < rows * nl; i += LANES) {
                FloatVector av = FloatVector.fromArray(S, al, i);
                FloatVector dv = FloatVector.fromArray(S, db, i);
                av.mul(-2f).mul(dv).mul(FloatVector.fromArray(S, gl, i)).intoArray(ab, i);
                dv.mul(slope(av)).intoArray(db, i);
            }
        }
        int out = slotOff + gOff[hidden];
        columnSum(s.gBar[hidden], rows, pw[hidden], slot, out);
        java.util.Arrays.fill(slot, out + pw[hidden], out + pw[hidden] + pw[hidden + 1], 0f);
        for (int l = hidden; l >= 1; l--) {
            int nl = pw[l];
            int np = pw[l - 1];
            float[] zb = s.aBar[l];
            float[] al = s.a[l];
            for (int i = 0; i < rows * nl; i += LANES) {
                FloatVector av = FloatVector.fromArray(S, al, i);
                FloatVector.fromArray(S, zb, i).mul(slope(av)).intoArray(zb, i);
            }
            int go = slotOff + gOff[l - 1];
            MicroKernels.gemm(zb, 0, 1, nl, w[l], rows, s.a[l - 1], 0, np, slot, go, np, np, false);
            MicroKernels.gemm(s.delta[l], 0, 1, nl, w[l], rows, s.gBar[l - 1], 0, np, slot, go, np, np, true);
            columnSum(zb, rows, nl, slot, go + w[l] * np);
            if (l > 1) {
                MicroKernels.gemm(zb, 0, nl, 1, rows, w[l], wRow[l - 1], 0, np, s.aBar[l - 1], 0, np, np, true);
            }
        }
    }

    /**
     * First-order backpropagation of a vector network, after {@link #forwardHidden} and with ȳ in {@code s.yBar}:
     * writes ∂(Σ_rows ȳ·y)/∂θ into {@code slot} from {@code slotOff}. z̄_{L+1} = ȳ; for k = L … 0:
     * W̄_k = z̄ᵀ·a_k, b̄_k = Σ_rows z̄, and for k ≥ 1, z̄ ← (z̄·W_k) ⊙ (1 − a_k²).
     */
    void backprop(Work s, int rows, float[] slot, int slotOff) {
        float[] zb = s.yBar;
        for (int k = hidden; k >= 0; k--) {
            int nOut = pw[k + 1];
            int nIn = pw[k];
            int go = slotOff + gOff[k];
            MicroKernels.gemm(zb, 0, 1, nOut, w[k + 1], rows, s.a[k], 0, nIn, slot, go, nIn, nIn, false);
            columnSum(zb, rows, nOut, slot, go + w[k + 1] * nIn);
            if (k > 0) {
                float[] ab = s.aBar[k];
                MicroKernels.gemm(zb, 0, nOut, 1, rows, w[k + 1], wRow[k], 0, nIn, ab, 0, nIn, nIn, false);
                float[] ak = s.a[k];
                for (int i = 0; i < rows * nIn; i += LANES) {
                    FloatVector av = FloatVector.fromArray(S, ak, i);
                    FloatVector.fromArray(S, ab, i).mul(slope(av)).intoArray(ab, i);
                }
                zb = ab;
            }
        }
    }

    /** out[i] = Σ_r m[r][i] for i &lt; n (n a multiple of the lanes), rows added in order. */
    private static void columnSum(float[] m, int rows, int n, float[] out, int outOff) {
        for (int i = 0; i < n; i += LANES) {
            FloatVector acc = FloatVector.zero(S);
            for (int r = 0; r < rows; r++) {
                acc = acc.add(FloatVector.fromArray(S, m, r * n + i));
            }
            acc.intoArray(out, outOff + i);
        }
    }

    /** s = 1 − a², tanh's derivative at the pre-activation whose tanh is a, as one FMA. */
    private static FloatVector slope(FloatVector a) {
        return a.neg().fma(a, FloatVector.broadcast(S, 1f));
    }
}
