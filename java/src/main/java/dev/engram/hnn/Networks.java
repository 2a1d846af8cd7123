package dev.engram.hnn;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Shared plumbing of the models: width lists, one θ holding several networks, seeded initialisation. */
final class Networks {
    private Networks() {
    }

    /** [in, hidden…, out]; {@code hidden} may be empty (an affine map). */
    static int[] widths(int in, int[] hidden, int out) {
        int[] w = new int[hidden.length + 2];
        w[0] = in;
        System.arraycopy(hidden, 0, w, 1, hidden.length);
        w[w.length - 1] = out;
        return w;
    }

    static void requireWidths(String kind, String net, int[] w, int in, int out, String inWhat, String outWhat) {
        if (w == null) {
            throw new IllegalArgumentException(kind + " model: network " + net + " is missing");
        }
        if (w.length < 2 || w[0] != in || w[w.length - 1] != out) {
            throw new IllegalArgumentException(kind + " model: network " + net + " has widths " + Arrays.toString(w)
                    + ", expected input " + inWhat + " = " + in + " and output " + outWhat + " = " + out);
        }
    }

    static void requireDof(int dof) {
        if (dof < 1) {
            throw new IllegalArgumentException("dof must be >= 1, got " + dof);
        }
    }

    /** Total parameters of the networks, in order. */
    static int count(int[]... widths) {
        long n = 0;
        for (int[] w : widths) {
            n += Mlp.parameterCount(w);
        }
        if (n > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("model has " + n + " parameters, too many");
        }
        return (int) n;
    }

    /** The networks laid out one after the other in θ, in the order given. */
    static Map<String, Mlp> layout(double[] theta, String[] names, int[][] widths) {
        if (theta.length != count(widths)) {
            throw new IllegalArgumentException("theta has " + theta.length + " parameters, the networks need "
                    + count(widths));
        }
        Map<String, Mlp> nets = new LinkedHashMap<>();
        int off = 0;
        for (int i = 0; i < names.length; i++) {
            Mlp m = new Mlp(widths[i], theta, off);
            nets.put(names[i], m);
            off += m.parameterCount();
        }
        return java.util.Collections.unmodifiableMap(nets);
    }

    /** Glorot initialisation of every network, in order, from one seeded generator. */
    static void init(Map<String, Mlp> nets, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        for (Mlp m : nets.values()) {
            m.initGlorot(rnd);
        }
    }

    static double[] concat(double[] q, double[] p) {
        double[] x = new double[q.length + p.length];
        System.arraycopy(q, 0, x, 0, q.length);
        System.arraycopy(p, 0, x, q.length, p.length);
        return x;
    }

    /** Row b = (q_b, p_b). */
    static double[][] concat(double[][] q, double[][] p) {
        double[][] x = new double[q.length][];
        for (int b = 0; b < q.length; b++) {
            x[b] = concat(q[b], p[b]);
        }
        return x;
    }

    static void checkBatch(int n, int m, double[][] q, double[][] p, double[][] u, double[][] dq, double[][] dp) {
        int batch = q.length;
        if (batch == 0 || p.length != batch || u.length != batch || dq.length != batch || dp.length != batch) {
            throw new IllegalArgumentException("q, p, u, dq, dp must be batches of the same size >= 1, got "
                    + q.length + ", " + p.length + ", " + u.length + ", " + dq.length + ", " + dp.length);
        }
        for (int b = 0; b < batch; b++) {
            checkState(n, q[b], p[b], dq[b], dp[b]);
            checkInput(m, u[b]);
            checkFinite("q", q[b], b);
            checkFinite("p", p[b], b);
            checkFinite("u", u[b], b);
        }
    }

    /** Fails on a NaN or infinite component, naming it: a model fed one would return NaN silently. */
    static void checkFinite(String name, double[] v, int row) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException(name + "[" + i + "] of state " + row + " is " + v[i]);
            }
        }
    }

    static void checkState(int n, double[] q, double[] p, double[] dq, double[] dp) {
        if (q.length != n || p.length != n || dq.length != n || dp.length != n) {
            throw new IllegalArgumentException("q, p, dq, dp must each have length n = " + n + ", got " + q.length
                    + ", " + p.length + ", " + dq.length + ", " + dp.length);
        }
    }

    static void checkInput(int m, double[] u) {
        if (u.length != m) {
            throw new IllegalArgumentException("u must have length m = " + m + ", got " + u.length);
        }
    }

    /** softplus(r) = log(1 + e^r), without overflow for large r. */
    static double softplus(double r) {
        return r > 0 ? r + Math.log1p(Math.exp(-r)) : Math.log1p(Math.exp(r));
    }

    /** d softplus/dr = 1/(1 + e^(−r)). */
    static double sigmoid(double r) {
        return r >= 0 ? 1 / (1 + Math.exp(-r)) : Math.exp(r) / (1 + Math.exp(r));
    }
}
