package dev.engram.cli;

import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;

/**
 * Whether an ensemble's step size and energies stay in the range where the integrator means something.
 *
 * <p><b>Step size.</b> Near the initial state x₀ = (q₀, p₀) the flow is linear, {@code ẋ = A·x} with
 * {@code A = J·∇²H(x₀)}, {@code J = [[0, I], [−I, 0]]}. Leapfrog is stable for such a flow only while
 * {@code h·ρ(A) < 2} (ρ the spectral radius; for the oscillator ρ = ω), RK4 while {@code h·ρ(A) < 2√2}. Beyond that
 * the numerical energy grows step by step whatever the model, so a warning says so before the run.
 *
 * <p><b>Energy.</b> A trajectory i counts as diverged when its state became non-finite (the engines mark those) or
 * when its energy changed by more than the tolerance:
 * <pre>
 *   |H_i(T) − H_i(0)| > τ·(max(|H_i(0)|, 1e-6) + E_noise),   E_noise = ½·σ²·T·max(0, tr ∇²_p H(x₀))
 * </pre>
 * with τ = {@code --max-energy-change}. E_noise is the energy momentum noise of σ per √time adds on average over the
 * time T (Itô: {@code dE[H] = ½σ² tr ∇²_p H dt}), so noisy runs are not counted for the energy the noise
 * legitimately brings. It is credited only when the step is stable: with an unstable step the growth is the
 * integrator's.
 */
final class EnsembleStability {
    /** The {@code --max-energy-change} default: an energy change of more than 10× its own size (plus noise). */
    static final double DEFAULT_TOLERANCE = 10;
    private static final double ENERGY_FLOOR = 1e-6;

    /** ρ(J·∇²H(x₀)). */
    final double rho;
    /** h·ρ. */
    final double stepRho;
    /** The scheme's stability limit on h·ρ. */
    final double limit;
    /** tr ∇²_p H(x₀). */
    final double tracePp;

    EnsembleStability(MlpWeights h, float[] q0, float[] p0, float dt, EnsembleSpec.Scheme scheme) {
        int n = q0.length;
        double[] x = new double[2 * n];
        for (int i = 0; i < n; i++) {
            x[i] = q0[i];
            x[n + i] = p0[i];
        }
        double[][] hess = hessian(h, x);
        double[][] a = new double[2 * n][2 * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < 2 * n; j++) {
                a[i][j] = hess[n + i][j];       // dq/dt = ∂H/∂p
                a[n + i][j] = -hess[i][j];      // dp/dt = −∂H/∂q
            }
        }
        double tr = 0;
        for (int i = 0; i < n; i++) {
            tr += hess[n + i][n + i];
        }
        rho = spectralRadius(a);
        stepRho = dt * rho;
        limit = scheme == EnsembleSpec.Scheme.RK4 ? 2 * Math.sqrt(2) : 2;
        tracePp = tr;
    }

    boolean stepStable() {
        return stepRho < limit;
    }

    /** E_noise for momentum noise σ over time T (0 when the step is unstable, see the class comment). */
    double noiseEnergy(double sigma, double time) {
        return stepStable() ? 0.5 * sigma * sigma * time * Math.max(0, tracePp) : 0;
    }

    /** Per trajectory: true when its energy changed beyond the tolerance (non-finite trajectories are not counted here). */
    static boolean[] energyDiverged(EnsembleResult r, double tolerance, double noiseEnergy) {
        boolean[] out = new boolean[r.trajectories()];
        for (int i = 0; i < out.length; i++) {
            if (r.divergedAtStep()[i] >= 0) {
                continue;
            }
            double e0 = r.initialEnergy()[i];
            double e1 = r.finalEnergy()[i];
            out[i] = !(Math.abs(e1 - e0) <= tolerance * (Math.max(Math.abs(e0), ENERGY_FLOOR) + noiseEnergy));
        }
        return out;
    }

    static String rule(double tolerance, double noiseEnergy) {
        return String.format("|H(T) - H(0)| > %s * (max(|H(0)|, 1e-6) + %.4g)", tolerance, noiseEnergy);
    }

    /** ∂H/∂x of the tanh MLP at x, in double: one forward pass and one backward pass. */
    static double[] gradient(MlpWeights h, double[] x) {
        int layers = h.layers();
        int[] w = h.widths();
        double[][] act = new double[layers][];
        act[0] = x;
        for (int l = 0; l < layers - 1; l++) {
            double[] next = new double[w[l + 1]];
            for (int i = 0; i < next.length; i++) {
                double s = h.bias(l, i);
                for (int j = 0; j < w[l]; j++) {
                    s += h.weight(l, i, j) * act[l][j];
                }
                next[i] = Math.tanh(s);
            }
            act[l + 1] = next;
        }
        double[] g = new double[w[layers - 1]];
        for (int j = 0; j < g.length; j++) {
            g[j] = h.weight(layers - 1, 0, j);
        }
        for (int l = layers - 2; l >= 0; l--) {
            double[] prev = new double[w[l]];
            for (int i = 0; i < w[l + 1]; i++) {
                double d = g[i] * (1 - act[l + 1][i] * act[l + 1][i]);
                for (int j = 0; j < w[l]; j++) {
                    prev[j] += h.weight(l, i, j) * d;
                }
            }
            g = prev;
        }
        return g;
    }

    /** ∇²H(x) by central differences of the analytic gradient, symmetrised. */
    static double[][] hessian(MlpWeights h, double[] x) {
        int m = x.length;
        double[][] hess = new double[m][m];
        for (int j = 0; j < m; j++) {
            double step = 1e-4 * Math.max(1, Math.abs(x[j]));
            double[] plus = x.clone();
            double[] minus = x.clone();
            plus[j] += step;
            minus[j] -= step;
            double[] gp = gradient(h, plus);
            double[] gm = gradient(h, minus);
            for (int i = 0; i < m; i++) {
                hess[i][j] = (gp[i] - gm[i]) / (2 * step);
            }
        }
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < i; j++) {
                double s = 0.5 * (hess[i][j] + hess[j][i]);
                hess[i][j] = s;
                hess[j][i] = s;
            }
        }
        return hess;
    }

    /**
     * ρ(A) by Gelfand's formula, ρ = lim ‖A^k‖^{1/k}, with k = 2^40 reached by repeated squaring of the normalised
     * matrix (so it neither overflows nor needs the eigenvalues of a non-symmetric matrix).
     */
    static double spectralRadius(double[][] a) {
        int m = a.length;
        double[][] cur = new double[m][];
        for (int i = 0; i < m; i++) {
            cur[i] = a[i].clone();
        }
        double norm = frobenius(cur);
        if (norm == 0) {
            return 0;
        }
        scale(cur, 1 / norm);
        double log = Math.log(norm); // log ‖A^k‖ estimate for k = 1
        double k = 1;
        for (int it = 0; it < 40; it++) {
            double[][] sq = multiply(cur, cur);
            double s = frobenius(sq);
            if (s == 0 || !Double.isFinite(s)) {
                return s == 0 ? 0 : Math.exp(log / k);
            }
            scale(sq, 1 / s);
            log = 2 * log + Math.log(s);
            k *= 2;
            cur = sq;
        }
        return Math.exp(log / k);
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int m = a.length;
        double[][] c = new double[m][m];
        for (int i = 0; i < m; i++) {
            for (int l = 0; l < m; l++) {
                double v = a[i][l];
                for (int j = 0; j < m; j++) {
                    c[i][j] += v * b[l][j];
                }
            }
        }
        return c;
    }

    private static double frobenius(double[][] a) {
        double s = 0;
        for (double[] row : a) {
            for (double v : row) {
                s += v * v;
            }
        }
        return Math.sqrt(s);
    }

    private static void scale(double[][] a, double f) {
        for (double[] row : a) {
            for (int j = 0; j < row.length; j++) {
                row[j] *= f;
            }
        }
    }
}
