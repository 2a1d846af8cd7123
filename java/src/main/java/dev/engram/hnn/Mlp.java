package dev.engram.hnn;

import dev.engram.engine.MlpWeights;

import java.util.Arrays;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * A tanh multilayer perceptron in double precision, a view over a slice of one flat parameter vector θ (so that
 * models made of several networks, and the optimiser, see a single {@code double[]}).
 * <pre>
 *   a_0 = x,   a_l = tanh(z_l),  z_l = W_l·a_{l−1} + b_l   (l = 1 … L, hidden),   y = W_o·a_L + b_o   (linear)
 * </pre>
 * {@code widths = [in, h_1, …, h_L, out]}. Layout of θ from {@link #offset()}: for each affine layer k = 0 … L in
 * order, W_k row-major ({@code widths[k+1] × widths[k]}) then b_k ({@code widths[k+1]}); the same layout as
 * {@link MlpWeights}.
 * <p>
 * Besides the forward pass the class offers, all analytic (no tape):
 * <ul>
 *   <li>{@link #valueAndInputGradient}: y and ∇ₓy for a scalar output (one forward, one backward);</li>
 *   <li>{@link #backpropParameters}: ∂(ȳ·y)/∂θ for any output width (first-order backprop);</li>
 *   <li>{@link #backpropInputGradient}: ∂(ḡ·∇ₓy)/∂θ for a scalar output (double backprop, what the HNN loss
 *       needs).</li>
 * </ul>
 * Methods allocate their small scratch arrays per call, so one instance may be used from several threads at once as
 * long as nobody writes θ meanwhile. Gradients are <em>added</em> into an array laid out like θ (same offset).
 */
public final class Mlp {
    private final int[] widths;
    private final double[] theta;
    private final int offset;
    /** Start of W_k in θ for k = 0 … L; start of b_k is {@code wOff[k] + widths[k+1]·widths[k]}. */
    private final int[] wOff;
    private final int count;

    /**
     * A view over {@code theta[offset … offset + parameterCount(widths))}.
     *
     * @param widths [in, h_1, …, h_L, out], each ≥ 1, at least two entries
     */
    public Mlp(int[] widths, double[] theta, int offset) {
        this.widths = checkWidths(widths);
        this.theta = Objects.requireNonNull(theta, "theta");
        this.count = parameterCount(this.widths);
        if (offset < 0 || offset + count > theta.length) {
            throw new IllegalArgumentException("an MLP of widths " + Arrays.toString(widths) + " needs " + count
                    + " parameters from offset " + offset + ", but theta has " + theta.length);
        }
        this.offset = offset;
        int layers = this.widths.length - 1;
        wOff = new int[layers];
        int o = offset;
        for (int k = 0; k < layers; k++) {
            wOff[k] = o;
            o += this.widths[k + 1] * this.widths[k] + this.widths[k + 1];
        }
    }

    /** A stand-alone network with its own zeroed parameter vector. */
    public static Mlp of(int... widths) {
        return new Mlp(widths, new double[parameterCount(checkWidths(widths))], 0);
    }

    /** Σ_k (widths[k+1]·widths[k] + widths[k+1]). */
    public static int parameterCount(int... widths) {
        checkWidths(widths);
        long n = 0;
        for (int k = 0; k + 1 < widths.length; k++) {
            n += (long) widths[k + 1] * widths[k] + widths[k + 1];
        }
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("widths " + Arrays.toString(widths) + " give " + n + " parameters, too many");
        }
        return (int) n;
    }

    private static int[] checkWidths(int[] widths) {
        Objects.requireNonNull(widths, "widths");
        if (widths.length < 2) {
            throw new IllegalArgumentException("widths needs at least [in, out], got " + Arrays.toString(widths));
        }
        for (int i = 0; i < widths.length; i++) {
            if (widths[i] < 1) {
                throw new IllegalArgumentException("widths[" + i + "] must be >= 1, got " + widths[i]
                        + " in " + Arrays.toString(widths));
            }
        }
        return widths.clone();
    }

    /**
     * Glorot/Xavier uniform initialisation: W_k ~ U(−r, r), r = √(6/(fan_in + fan_out)); biases 0. Draws from
     * {@code rnd} in parameter order, so the same generator state gives the same network.
     */
    public void initGlorot(SplittableRandom rnd) {
        for (int k = 0; k < wOff.length; k++) {
            int in = widths[k];
            int out = widths[k + 1];
            double r = Math.sqrt(6.0 / (in + out));
            int w = wOff[k];
            for (int i = 0; i < out * in; i++) {
                theta[w + i] = (2 * rnd.nextDouble() - 1) * r;
            }
            Arrays.fill(theta, w + out * in, w + out * in + out, 0.0);
        }
    }

    public int[] widths() {
        return widths.clone();
    }

    public int inputWidth() {
        return widths[0];
    }

    public int outputWidth() {
        return widths[widths.length - 1];
    }

    /** Number of affine layers, L + 1. */
    public int layers() {
        return widths.length - 1;
    }

    public int parameterCount() {
        return count;
    }

    /** Where this network's parameters start in {@link #parameters()}. */
    public int offset() {
        return offset;
    }

    /** The backing parameter vector (live, shared with the owner and the optimiser). */
    public double[] parameters() {
        return theta;
    }

    /** Offset in θ of W_k (row-major, {@code widths[k+1] × widths[k]}). */
    public int weightOffset(int k) {
        return wOff[k];
    }

    /** Offset in θ of b_k (length {@code widths[k+1]}). */
    public int biasOffset(int k) {
        return wOff[k] + widths[k + 1] * widths[k];
    }

    /**
     * y = MLP(x) for one input.
     *
     * @param x input, length {@code widths[0]}
     * @param y output, length {@code widths[L+1]}, overwritten
     */
    public void forward(double[] x, double[] y) {
        forward(new double[][] {x}, new double[][] {y});
    }

    /**
     * y_b = MLP(x_b) for a batch of B inputs.
     *
     * @param x B×{@code widths[0]}
     * @param y B×{@code widths[L+1]}, overwritten
     */
    public void forward(double[][] x, double[][] y) {
        checkBatch("x", x, widths[0]);
        checkBatch("y", y, outputWidth());
        double[][][] a = forwardActivations(x);
        int k = wOff.length - 1;
        affine(k, a[k], y);
    }

    /**
     * For a scalar output (out = 1): returns y = MLP(x) and writes ∇ₓy, see {@link #valueAndInputGradient(double[][],
     * double[], double[][])}.
     */
    public double valueAndInputGradient(double[] x, double[] gx) {
        double[] y = new double[1];
        valueAndInputGradient(new double[][] {x}, y, new double[][] {gx});
        return y[0];
    }

    /**
     * For a scalar output (out = 1), per row b of the batch: y_b = MLP(x_b) and g_0 = ∇ₓy_b by
     * g_L = w_o, δ_l = g_l ⊙ (1 − a_l²), g_{l−1} = W_lᵀ δ_l.
     *
     * @param x  B×{@code widths[0]}
     * @param y  length B, overwritten; may be null
     * @param gx B×{@code widths[0]}, overwritten with ∇ₓy
     */
    public void valueAndInputGradient(double[][] x, double[] y, double[][] gx) {
        requireScalar();
        checkBatch("x", x, widths[0]);
        checkBatch("gx", gx, widths[0]);
        int batch = x.length;
        double[][][] a = forwardActivations(x);
        int out = wOff.length - 1;
        if (y != null) {
            if (y.length != batch) {
                throw new IllegalArgumentException("y has length " + y.length + ", expected the batch size " + batch);
            }
            double[][] yy = new double[batch][1];
            affine(out, a[out], yy);
            for (int b = 0; b < batch; b++) {
                y[b] = yy[b][0];
            }
        }
        double[][] g = new double[batch][];
        for (int b = 0; b < batch; b++) {
            g[b] = Arrays.copyOfRange(theta, wOff[out], wOff[out] + widths[out]);
        }
        for (int k = out - 1; k >= 0; k--) {
            double[][] ak = a[k + 1];
            for (int b = 0; b < batch; b++) {
                double[] gb = g[b];
                double[] ab = ak[b];
                for (int i = 0; i < gb.length; i++) {
                    gb[i] *= 1 - ab[i] * ab[i];
                }
            }
            double[][] prev = new double[batch][widths[k]];
            transposeMultiplyAdd(k, g, prev);
            g = prev;
        }
        for (int b = 0; b < batch; b++) {
            System.arraycopy(g[b], 0, gx[b], 0, widths[0]);
        }
    }

    /** {@link #backpropParameters(double[][], double[][], double[])} for one input. */
    public void backpropParameters(double[] x, double[] yBar, double[] grad) {
        backpropParameters(new double[][] {x}, new double[][] {yBar}, grad);
    }

    /**
     * Adds Σ_b ∂(ȳ_b·y_b)/∂θ to {@code grad} (first-order backpropagation):
     * ā_L = W_oᵀ ȳ, W̄_o += ȳ ⊗ a_L, b̄_o += ȳ; for l = L … 1: z̄_l = ā_l ⊙ (1 − a_l²), W̄_l += z̄_l ⊗ a_{l−1},
     * b̄_l += z̄_l, ā_{l−1} = W_lᵀ z̄_l.
     *
     * @param x    B×{@code widths[0]}
     * @param yBar B×{@code widths[L+1]}, adjoints of the outputs
     * @param grad laid out like θ (this network's slice from {@link #offset()}), added to
     */
    public void backpropParameters(double[][] x, double[][] yBar, double[] grad) {
        checkBatch("x", x, widths[0]);
        checkBatch("yBar", yBar, outputWidth());
        checkGrad(grad);
        int batch = x.length;
        double[][][] a = forwardActivations(x);
        double[][] zBar = yBar;
        for (int k = wOff.length - 1; k >= 0; k--) {
            if (k < wOff.length - 1) { // hidden layer: through tanh
                double[][] ak = a[k + 1];
                for (int b = 0; b < batch; b++) {
                    double[] zb = zBar[b];
                    double[] ab = ak[b];
                    for (int i = 0; i < zb.length; i++) {
                        zb[i] *= 1 - ab[i] * ab[i];
                    }
                }
            }
            double[][] aBarPrev = k > 0 ? new double[batch][widths[k]] : null;
            outerAndTranspose(k, zBar, a[k], null, null, grad, aBarPrev);
            zBar = aBarPrev;
        }
    }

    /** {@link #backpropInputGradient(double[][], double[][], double[])} for one input. */
    public void backpropInputGradient(double[] x, double[] gBar, double[] grad) {
        backpropInputGradient(new double[][] {x}, new double[][] {gBar}, grad);
    }

    /**
     * For a scalar output (out = 1): adds Σ_b ∂(ḡ_b·∇ₓy_b)/∂θ to {@code grad}, the hand-derived double
     * backpropagation. With the forward pass a_l, s_l = 1 − a_l², and the backward pass g_L = w_o,
     * δ_l = g_l ⊙ s_l, g_{l−1} = W_lᵀ δ_l (∇ₓy = g_0), and ḡ_0 = ḡ:
     * <pre>
     *   for l = 1 … L:  δ̄_l = W_l ḡ_{l−1};  W̄_l += δ_l ⊗ ḡ_{l−1};  ḡ_l = δ̄_l ⊙ s_l;  ā_l = −2 a_l ⊙ (δ̄_l ⊙ g_l)
     *   w̄_o += ḡ_L
     *   for l = L … 1:  z̄_l = ā_l ⊙ s_l;  W̄_l += z̄_l ⊗ a_{l−1};  b̄_l += z̄_l;  ā_{l−1} += W_lᵀ z̄_l
     * </pre>
     * The output bias b_o does not enter ∇ₓy, so its gradient is 0.
     *
     * @param x    B×{@code widths[0]}
     * @param gBar B×{@code widths[0]}, adjoints of ∇ₓy
     * @param grad laid out like θ (this network's slice from {@link #offset()}), added to
     */
    public void backpropInputGradient(double[][] x, double[][] gBar, double[] grad) {
        checkBatch("gBar", gBar, widths[0]);
        backpropInputGradient(x, g -> gBar, grad);
    }

    /**
     * As {@link #backpropInputGradient(double[][], double[][], double[])}, with the adjoint ḡ computed from ∇ₓy by
     * {@code adjoint} once the backward pass has produced it: a loss on ∇ₓy itself (the HNN loss) then needs one
     * forward and one backward pass, not two of each.
     *
     * @param adjoint receives ∇ₓy (B×{@code widths[0]}, not to be kept) and returns ḡ (B×{@code widths[0]})
     */
    public void backpropInputGradient(double[][] x, UnaryOperator<double[][]> adjoint, double[] grad) {
        requireScalar();
        checkBatch("x", x, widths[0]);
        checkGrad(grad);
        int batch = x.length;
        int out = wOff.length - 1; // index of the output layer = number of hidden layers L
        double[][][] a = forwardActivations(x);
        // backward pass: g[l] = ∂y/∂a_l (l = 0 … L), delta[l] = ∂y/∂z_l (l = 1 … L)
        double[][][] g = new double[out + 1][][];
        double[][][] delta = new double[out + 1][][];
        g[out] = new double[batch][];
        for (int b = 0; b < batch; b++) {
            g[out][b] = Arrays.copyOfRange(theta, wOff[out], wOff[out] + widths[out]);
        }
        for (int l = out; l >= 1; l--) {
            double[][] d = new double[batch][widths[l]];
            for (int b = 0; b < batch; b++) {
                double[] al = a[l][b];
                double[] gl = g[l][b];
                double[] db = d[b];
                for (int i = 0; i < db.length; i++) {
                    db[i] = gl[i] * (1 - al[i] * al[i]);
                }
            }
            delta[l] = d;
            g[l - 1] = new double[batch][widths[l - 1]];
            transposeMultiplyAdd(l - 1, d, g[l - 1]);
        }
        // adjoint of the backward pass, l = 1 … L
        double[][] gBar = adjoint.apply(g[0]);
        checkBatch("adjoint", gBar, widths[0]);
        if (gBar.length != batch) {
            throw new IllegalArgumentException("adjoint has " + gBar.length + " rows, expected " + batch);
        }
        double[][][] gb = new double[out + 1][][];
        double[][][] ab = new double[out + 1][][];
        gb[0] = gBar;
        for (int l = 1; l <= out; l++) {
            double[][] db = new double[batch][widths[l]];
            multiply(l - 1, gb[l - 1], db); // δ̄_l = W_l ḡ_{l−1}
            for (int b = 0; b < batch; b++) {
                double[] al = a[l][b];
                double[] glb = g[l][b];
                double[] d = db[b];
                double[] abl = new double[widths[l]];
                for (int i = 0; i < d.length; i++) {
                    double s = 1 - al[i] * al[i];
                    abl[i] = -2 * al[i] * d[i] * glb[i]; // ā_l = −2 a_l ⊙ s̄_l, s̄_l = δ̄_l ⊙ g_l
                    d[i] *= s; // ḡ_l = δ̄_l ⊙ s_l, in place
                }
                db[b] = d;
                if (ab[l] == null) {
                    ab[l] = new double[batch][];
                }
                ab[l][b] = abl;
            }
            gb[l] = db;
        }
        // w̄_o += ḡ_L
        int wo = wOff[out];
        for (int b = 0; b < batch; b++) {
            double[] gL = gb[out][b];
            for (int j = 0; j < gL.length; j++) {
                grad[wo + j] += gL[j];
            }
        }
        // adjoint of the forward pass, l = L … 1; the two outer products of layer l are added in one sweep
        for (int l = out; l >= 1; l--) {
            double[][] zb = ab[l];
            for (int b = 0; b < batch; b++) {
                double[] al = a[l][b];
                double[] z = zb[b];
                for (int i = 0; i < z.length; i++) {
                    z[i] *= 1 - al[i] * al[i];
                }
            }
            outerAndTranspose(l - 1, zb, a[l - 1], delta[l], gb[l - 1], grad, l > 1 ? ab[l - 1] : null);
        }
    }

    /** The weights in float32 for engines. Fails if a parameter is not finite. */
    public MlpWeights toWeights() {
        int layers = wOff.length;
        float[][] w = new float[layers][];
        float[][] b = new float[layers][];
        for (int k = 0; k < layers; k++) {
            int n = widths[k + 1] * widths[k];
            w[k] = new float[n];
            b[k] = new float[widths[k + 1]];
            for (int i = 0; i < n; i++) {
                w[k][i] = (float) theta[wOff[k] + i];
            }
            for (int i = 0; i < b[k].length; i++) {
                b[k][i] = (float) theta[wOff[k] + n + i];
            }
        }
        return new MlpWeights(widths, w, b);
    }

    /** a[0] = x, a[l] = tanh(W a[l−1] + b) for the hidden layers l = 1 … L; each B×width. */
    private double[][][] forwardActivations(double[][] x) {
        int hidden = wOff.length - 1;
        double[][][] a = new double[hidden + 1][][];
        a[0] = x;
        for (int k = 0; k < hidden; k++) {
            double[][] z = new double[x.length][widths[k + 1]];
            affine(k, a[k], z);
            for (double[] zb : z) {
                for (int i = 0; i < zb.length; i++) {
                    zb[i] = Math.tanh(zb[i]);
                }
            }
            a[k + 1] = z;
        }
        return a;
    }

    /** Z_b = W_k x_b + b_k for every row b. */
    private void affine(int k, double[][] x, double[][] z) {
        multiply(k, x, z);
        int bo = biasOffset(k);
        for (double[] zb : z) {
            for (int i = 0; i < zb.length; i++) {
                zb[i] += theta[bo + i];
            }
        }
    }

    /**
     * Z_b = W_k x_b (overwrites Z). Row i of W_k is reused for the whole batch while it sits in the L1 cache: the
     * batch is what turns the per-sample matrix–vector products (bound by memory traffic) into a small GEMM.
     */
    private void multiply(int k, double[][] x, double[][] z) {
        int in = widths[k];
        int out = widths[k + 1];
        int w = wOff[k];
        for (int i = 0; i < out; i++) {
            int row = w + i * in;
            for (int b = 0; b < x.length; b++) {
                z[b][i] = dot(theta, row, x[b], in);
            }
        }
    }

    /** Y_b += W_kᵀ v_b, as sums of rows of W_k (axpy, which the JIT vectorises). */
    private void transposeMultiplyAdd(int k, double[][] v, double[][] y) {
        int in = widths[k];
        int out = widths[k + 1];
        int w = wOff[k];
        for (int i = 0; i < out; i++) {
            int row = w + i * in;
            for (int b = 0; b < v.length; b++) {
                double vi = v[b][i];
                double[] yb = y[b];
                for (int j = 0; j < in; j++) {
                    yb[j] += vi * theta[row + j];
                }
            }
        }
    }

    /**
     * One sweep over layer k: W̄_k += Σ_b u_b ⊗ x_b (+ d_b ⊗ e_b when d ≠ null), b̄_k += Σ_b u_b, and
     * aBarPrev_b += W_kᵀ u_b when aBarPrev ≠ null. Row i of W̄_k and W_k stays in cache across the batch.
     */
    private void outerAndTranspose(int k, double[][] u, double[][] x, double[][] d, double[][] e, double[] grad,
                                   double[][] aBarPrev) {
        int in = widths[k];
        int out = widths[k + 1];
        int w = wOff[k];
        int bo = w + out * in;
        for (int i = 0; i < out; i++) {
            int row = w + i * in;
            double biasSum = 0;
            for (int b = 0; b < u.length; b++) {
                double ui = u[b][i];
                double[] xb = x[b];
                if (d != null) {
                    double di = d[b][i];
                    double[] eb = e[b];
                    for (int j = 0; j < in; j++) {
                        grad[row + j] += ui * xb[j] + di * eb[j];
                    }
                } else {
                    for (int j = 0; j < in; j++) {
                        grad[row + j] += ui * xb[j];
                    }
                }
                if (aBarPrev != null) {
                    double[] pb = aBarPrev[b];
                    for (int j = 0; j < in; j++) {
                        pb[j] += ui * theta[row + j];
                    }
                }
                biasSum += ui;
            }
            grad[bo + i] += biasSum;
        }
    }

    /** Σ_j a[off + j]·x[j] with four partial sums (independent chains the CPU can overlap). */
    private static double dot(double[] a, int off, double[] x, int n) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int j = 0;
        for (; j + 3 < n; j += 4) {
            s0 += a[off + j] * x[j];
            s1 += a[off + j + 1] * x[j + 1];
            s2 += a[off + j + 2] * x[j + 2];
            s3 += a[off + j + 3] * x[j + 3];
        }
        for (; j < n; j++) {
            s0 += a[off + j] * x[j];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private void requireScalar() {
        if (outputWidth() != 1) {
            throw new IllegalStateException("the input gradient needs a scalar output, widths are "
                    + Arrays.toString(widths));
        }
    }

    private void checkGrad(double[] grad) {
        if (grad.length < offset + count) {
            throw new IllegalArgumentException("grad has length " + grad.length + ", needs at least "
                    + (offset + count) + " (laid out like theta)");
        }
    }

    private static void checkBatch(String name, double[][] v, int n) {
        if (v.length == 0) {
            throw new IllegalArgumentException(name + " is an empty batch");
        }
        for (int b = 0; b < v.length; b++) {
            if (v[b].length != n) {
                throw new IllegalArgumentException(name + "[" + b + "] has length " + v[b].length + ", expected " + n);
            }
        }
    }
}
