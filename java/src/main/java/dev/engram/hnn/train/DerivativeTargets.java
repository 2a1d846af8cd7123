package dev.engram.hnn.train;

import java.util.function.UnaryOperator;

/**
 * Time-derivative targets estimated from a uniformly sampled series x_0, x_1, … (step Δt), for training on observed
 * data where only states are recorded.
 * <p>
 * <b>Causal</b> estimators use x_t and earlier samples only, never later ones, so a target at time t is known at
 * time t: the only kind allowed for trading data (anything else leaks the future into the features):
 * {@link #backwardDifference}, {@link #causalSavitzkyGolay}, {@link #emaBackwardDifference}.
 * <b>Non-causal</b>: {@link #centralDifference} reads x_{t+1}; for offline physics data only.
 * <p>
 * Every method returns an array as long as the input; entries an estimator cannot compute yet (too little history)
 * are NaN, and {@link #samples} drops those rows.
 */
public final class DerivativeTargets {
    private DerivativeTargets() {
    }

    /** Causal, first order: d_t = (x_t − x_{t−1})/Δt; d_0 = NaN. Error O(Δt), lag Δt/2. */
    public static double[] backwardDifference(double[] x, double dt) {
        check(x, dt);
        double[] d = new double[x.length];
        d[0] = Double.NaN;
        for (int t = 1; t < x.length; t++) {
            d[t] = (x[t] - x[t - 1]) / dt;
        }
        return d;
    }

    /**
     * Causal Savitzky–Golay: the least-squares polynomial of degree {@code order} through the last {@code window}
     * samples x_{t−w+1} … x_t, differentiated at its right end t. d_t = Σ_j h_j x_{t−w+1+j}/Δt with fixed weights h
     * (exact for polynomials of degree ≤ order); the first w−1 entries are NaN.
     *
     * @param window w ≥ order + 1
     * @param order  polynomial degree, 1 … 6
     */
    public static double[] causalSavitzkyGolay(double[] x, double dt, int window, int order) {
        check(x, dt);
        if (order < 1 || order > 6) {
            throw new IllegalArgumentException("order must be in 1..6, got " + order);
        }
        if (window < order + 1) {
            throw new IllegalArgumentException("window must be >= order + 1 = " + (order + 1) + ", got " + window);
        }
        double[] h = savitzkyGolayWeights(window, order);
        double[] d = new double[x.length];
        for (int t = 0; t < x.length; t++) {
            if (t < window - 1) {
                d[t] = Double.NaN;
                continue;
            }
            double s = 0;
            int start = t - window + 1;
            for (int j = 0; j < window; j++) {
                s += h[j] * x[start + j];
            }
            d[t] = s / dt;
        }
        return d;
    }

    /**
     * Causal, smoothed: the backward difference of the exponential moving average s_t = α x_t + (1 − α) s_{t−1}
     * (s_0 = x_0): d_t = (s_t − s_{t−1})/Δt; d_0 = NaN. Smaller α smooths more and lags more (≈ (1−α)/α steps).
     *
     * @param alpha in (0, 1]; 1 gives the plain backward difference
     */
    public static double[] emaBackwardDifference(double[] x, double dt, double alpha) {
        check(x, dt);
        if (!(alpha > 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in (0, 1], got " + alpha);
        }
        double[] d = new double[x.length];
        d[0] = Double.NaN;
        double s = x[0];
        for (int t = 1; t < x.length; t++) {
            double next = alpha * x[t] + (1 - alpha) * s;
            d[t] = (next - s) / dt;
            s = next;
        }
        return d;
    }

    /**
     * <b>Not causal: reads the next sample.</b> For offline physics data only. d_t = (x_{t+1} − x_{t−1})/(2Δt),
     * error O(Δt²); one-sided first-order differences at both ends.
     */
    public static double[] centralDifference(double[] x, double dt) {
        check(x, dt);
        double[] d = new double[x.length];
        if (x.length == 1) {
            d[0] = Double.NaN;
            return d;
        }
        d[0] = (x[1] - x[0]) / dt;
        for (int t = 1; t + 1 < x.length; t++) {
            d[t] = (x[t + 1] - x[t - 1]) / (2 * dt);
        }
        d[x.length - 1] = (x[x.length - 1] - x[x.length - 2]) / dt;
        return d;
    }

    /**
     * Training samples from a trajectory of T states, with targets from {@code estimator} applied to each coordinate
     * series; rows where any target is NaN (the estimator's warm-up) are dropped.
     *
     * @param dof       n
     * @param q         T×n, row-major
     * @param p         T×n, row-major
     * @param estimator series → derivative series of the same length, e.g.
     *                  {@code x -> DerivativeTargets.causalSavitzkyGolay(x, dt, 7, 2)}
     */
    public static PhaseSpaceSamples samples(int dof, double[] q, double[] p, UnaryOperator<double[]> estimator) {
        if (dof < 1) {
            throw new IllegalArgumentException("dof must be >= 1, got " + dof);
        }
        if (q.length != p.length || q.length % dof != 0 || q.length == 0) {
            throw new IllegalArgumentException("q and p must both be T×n with n = " + dof + " and T >= 1, got lengths "
                    + q.length + " and " + p.length);
        }
        int steps = q.length / dof;
        double[][] dq = new double[dof][];
        double[][] dp = new double[dof][];
        for (int i = 0; i < dof; i++) {
            double[] sq = new double[steps];
            double[] sp = new double[steps];
            for (int t = 0; t < steps; t++) {
                sq[t] = q[t * dof + i];
                sp[t] = p[t * dof + i];
            }
            dq[i] = estimator.apply(sq);
            dp[i] = estimator.apply(sp);
        }
        int kept = 0;
        int[] rows = new int[steps];
        for (int t = 0; t < steps; t++) {
            boolean ok = true;
            for (int i = 0; i < dof; i++) {
                ok &= !Double.isNaN(dq[i][t]) && !Double.isNaN(dp[i][t]);
            }
            if (ok) {
                rows[kept++] = t;
            }
        }
        if (kept == 0) {
            throw new IllegalArgumentException("no sample has a derivative target: the series of " + steps
                    + " states is shorter than the estimator's warm-up");
        }
        double[] oq = new double[kept * dof];
        double[] op = new double[kept * dof];
        double[] odq = new double[kept * dof];
        double[] odp = new double[kept * dof];
        for (int r = 0; r < kept; r++) {
            int t = rows[r];
            for (int i = 0; i < dof; i++) {
                oq[r * dof + i] = q[t * dof + i];
                op[r * dof + i] = p[t * dof + i];
                odq[r * dof + i] = dq[i][t];
                odp[r * dof + i] = dp[i][t];
            }
        }
        return PhaseSpaceSamples.of(dof, oq, op, odq, odp);
    }

    /**
     * Weights h_j (j = 0 … w−1, sample t−w+1+j) with d_t = Σ h_j x_{t−w+1+j}/Δt: row 1 of (AᵀA)⁻¹Aᵀ for
     * A_jk = τ_j^k, τ_j = (j − (w−1))/(w−1) ∈ [−1, 0] (scaled for conditioning, hence the final 1/(w−1)).
     */
    static double[] savitzkyGolayWeights(int window, int order) {
        int k = order + 1;
        double scale = Math.max(1, window - 1);
        double[][] a = new double[window][k];
        for (int j = 0; j < window; j++) {
            double tau = (j - (window - 1)) / scale;
            double v = 1;
            for (int c = 0; c < k; c++) {
                a[j][c] = v;
                v *= tau;
            }
        }
        // solve (AᵀA) X = Aᵀ by Gaussian elimination with partial pivoting; X is k×w
        double[][] m = new double[k][k + window];
        for (int r = 0; r < k; r++) {
            for (int c = 0; c < k; c++) {
                double s = 0;
                for (int j = 0; j < window; j++) {
                    s += a[j][r] * a[j][c];
                }
                m[r][c] = s;
            }
            for (int j = 0; j < window; j++) {
                m[r][k + j] = a[j][r];
            }
        }
        for (int col = 0; col < k; col++) {
            int piv = col;
            for (int r = col + 1; r < k; r++) {
                if (Math.abs(m[r][col]) > Math.abs(m[piv][col])) {
                    piv = r;
                }
            }
            double[] t = m[col];
            m[col] = m[piv];
            m[piv] = t;
            for (int r = 0; r < k; r++) {
                if (r != col) {
                    double f = m[r][col] / m[col][col];
                    for (int c = col; c < k + window; c++) {
                        m[r][c] -= f * m[col][c];
                    }
                }
            }
        }
        double[] h = new double[window];
        for (int j = 0; j < window; j++) {
            h[j] = m[1][k + j] / m[1][1] / scale;
        }
        return h;
    }

    private static void check(double[] x, double dt) {
        if (!(dt > 0) || !Double.isFinite(dt)) {
            throw new IllegalArgumentException("dt must be finite and > 0, got " + dt);
        }
        if (x.length == 0) {
            throw new IllegalArgumentException("the series is empty");
        }
        for (int t = 0; t < x.length; t++) {
            if (!Double.isFinite(x[t])) {
                throw new IllegalArgumentException("x[" + t + "] is " + x[t]);
            }
        }
    }
}
