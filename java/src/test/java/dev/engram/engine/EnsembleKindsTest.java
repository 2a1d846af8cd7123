package dev.engram.engine;

import dev.engram.engine.EnsembleSpec.Scheme;
import dev.engram.engine.cpu.CpuBackend;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.hnn.DerivativeNetwork;
import dev.engram.hnn.DissipativeHamiltonianNetwork;
import dev.engram.hnn.HamiltonianGradient;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.LearnedField;
import dev.engram.hnn.PhaseSpaceField;
import dev.engram.hnn.PortHamiltonianNetwork;
import dev.engram.hnn.SeparableHamiltonianNetwork;
import dev.engram.hnn.integrate.Integrator;
import dev.engram.hnn.integrate.LeapfrogIntegrator;
import dev.engram.hnn.integrate.RungeKutta4Integrator;
import dev.engram.hnn.integrate.SeparableHamiltonian;
import dev.engram.hnn.integrate.StormerVerletIntegrator;
import dev.engram.hnn.integrate.TaoIntegrator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every model kind on the reference and cpu engines: cross-checked against the single-trajectory double-precision
 * integrators of {@code hnn.integrate} for every valid (kind, scheme), and each kind's law tested on both engines.
 *
 * <p>Tolerances. The models' θ are rounded to float32 first, so the engines and the hnn models hold the same numbers.
 * The reference engine computes in double like the hnn integrators; only its results are rounded to float32, so it
 * agrees to float rounding: |Δ| ≤ 1e-6·(1 + |x|). The cpu engine computes in float32 (2⁻²⁴ per operation); over 40
 * steps of these smooth fields the difference stays below 2e-4, and 1e-3 is allowed, as in
 * {@link EnsembleCrossCheckTest}.
 */
class EnsembleKindsTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final CpuBackend CPU = new CpuBackend(new CpuBackend.Config(3, 128, 64, 2, 16384));
    private static final Backend[] ENGINES = {REFERENCE, CPU};

    @AfterAll
    static void close() {
        CPU.close();
    }

    /** A model of {@code kind} with n = 2 (m = 2 where it takes inputs), θ perturbed so biases are non-zero, in float. */
    static LearnedField model(String kind, long seed) {
        LearnedField m = switch (kind) {
            case "hnn" -> HamiltonianNetwork.create(2, new int[] {12, 12}, seed);
            case "separable" -> SeparableHamiltonianNetwork.create(2, new int[] {10, 10}, seed);
            case "dissipative" -> DissipativeHamiltonianNetwork.create(2, new int[] {12, 12}, new int[] {6}, seed);
            case "port" -> PortHamiltonianNetwork.create(2, 2, new int[] {12, 12}, new int[] {6}, new int[] {5}, seed);
            case "baseline" -> DerivativeNetwork.create(2, 0, new int[] {12, 12}, seed);
            case "baseline-u" -> DerivativeNetwork.create(2, 2, new int[] {12}, seed);
            default -> throw new IllegalArgumentException(kind);
        };
        double[] theta = m.parameters();
        SplittableRandom rnd = new SplittableRandom(seed + 7);
        for (int i = 0; i < theta.length; i++) {
            theta[i] = (float) (theta[i] + 0.3 * (rnd.nextDouble() - 0.5));
        }
        return m;
    }

    /** A steps×m table of inputs in [−1, 1], or null for models without inputs. */
    static float[] inputTable(LearnedField m, int steps, long seed) {
        if (m.inputCount() == 0) {
            return null;
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] u = new float[steps * m.inputCount()];
        for (int i = 0; i < u.length; i++) {
            u[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        return u;
    }

    /** N explicit initial states (q, p) in [−0.8, 0.8]. */
    static float[] initialStates(int count, int n, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] s = new float[count * 2 * n];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (1.6 * rnd.nextDouble() - 0.8);
        }
        return s;
    }

    static EnsembleSpec spec(EnsembleModel m, float[] init, int count, float dt, int steps, int sampleEvery, Scheme s) {
        return new EnsembleSpec(m, null, null, init, count, dt, steps, 0f, 0f, 0f, 3, sampleEvery, true,
                EnsembleSpec.FAN, s, EnsembleSpec.DEFAULT_TAO_OMEGA);
    }

    /** The hnn integrator of {@code scheme} for {@code model}, as the engines run it (RK4 is stepped by the caller). */
    static Integrator hnnIntegrator(LearnedField model, Scheme scheme) {
        return switch (scheme) {
            case LEAPFROG -> new LeapfrogIntegrator((HamiltonianGradient) model);
            case TAO -> new TaoIntegrator((HamiltonianGradient) model, EnsembleSpec.DEFAULT_TAO_OMEGA);
            case STORMER_VERLET -> {
                SeparableHamiltonianNetwork sep = (SeparableHamiltonianNetwork) model;
                yield new StormerVerletIntegrator(SeparableHamiltonian.of(sep.dof(), q -> Double.NaN, p -> Double.NaN,
                        sep::potentialGradient, sep::kineticGradient));
            }
            case RK4 -> null;
        };
    }

    /**
     * One trajectory by the hnn package in double: (steps+1)×2n states. RK4 is stepped one step at a time with a
     * field whose u is row i of the table during step i + 1, the engines' piecewise-constant convention.
     */
    static double[][] hnnTrajectory(LearnedField model, Scheme scheme, float[] u, double[] x0, double h, int steps) {
        int n = model.dof();
        int m = model.inputCount();
        double[] q = java.util.Arrays.copyOfRange(x0, 0, n);
        double[] p = java.util.Arrays.copyOfRange(x0, n, 2 * n);
        double[] row = new double[m];
        Integrator integrator = scheme == Scheme.RK4
                ? new RungeKutta4Integrator(new PhaseSpaceField() {
                    @Override
                    public int dof() {
                        return n;
                    }

                    @Override
                    public void derivatives(double t, double[] qq, double[] pp, double[] dq, double[] dp) {
                        model.predict(qq, pp, row, dq, dp);
                    }
                })
                : hnnIntegrator(model, scheme);
        double[][] out = new double[steps + 1][];
        out[0] = x0.clone();
        for (int s = 1; s <= steps; s++) {
            for (int j = 0; j < m; j++) {
                row[j] = u == null ? 0 : u[(s - 1) * m + j];
            }
            integrator.step((s - 1) * h, h, q, p);
            double[] x = new double[2 * n];
            System.arraycopy(q, 0, x, 0, n);
            System.arraycopy(p, 0, x, n, n);
            out[s] = x;
        }
        return out;
    }

    /** The hnn model's energy at x: H, T + V, or NaN for the baseline. */
    static double energy(LearnedField model, double[] x) {
        int n = model.dof();
        if (!(model instanceof HamiltonianGradient hg)) {
            return Double.NaN;
        }
        return hg.energy(java.util.Arrays.copyOfRange(x, 0, n), java.util.Arrays.copyOfRange(x, n, 2 * n));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"hnn, LEAPFROG", "hnn, TAO", "hnn, RK4", "separable, STORMER_VERLET", "separable, LEAPFROG",
            "separable, TAO", "separable, RK4", "dissipative, RK4", "port, RK4", "baseline, RK4", "baseline-u, RK4"})
    void bothEnginesAgreeWithTheHnnIntegrators(String kind, Scheme scheme) {
        LearnedField model = model(kind, 21);
        int steps = 40;
        int count = 37; // not a multiple of the cpu block width
        float dt = 0.05f;
        float[] u = inputTable(model, steps, 5);
        float[] init = initialStates(count, 2, 9);
        EnsembleSpec spec = spec(model.toEnsembleModel(u), init, count, dt, steps, 1, scheme);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult cpu = CPU.integrate(spec);
        double refWorst = 0;
        double cpuWorst = 0;
        for (int i = 0; i < count; i++) {
            double[] x0 = new double[4];
            for (int j = 0; j < 4; j++) {
                x0[j] = init[i * 4 + j];
            }
            double[][] want = hnnTrajectory(model, scheme, u, x0, dt, steps);
            for (int s = 0; s <= steps; s++) {
                for (int j = 0; j < 4; j++) {
                    double w = want[s][j];
                    refWorst = Math.max(refWorst, Math.abs(ref.path(s, i, j) - w) / (1 + Math.abs(w)));
                    cpuWorst = Math.max(cpuWorst, Math.abs(cpu.path(s, i, j) - w));
                }
            }
            double e0 = energy(model, want[0]);
            double e1 = energy(model, want[steps]);
            if (Double.isNaN(e0)) {
                assertTrue(Float.isNaN(ref.finalEnergy()[i]) && Float.isNaN(cpu.finalEnergy()[i]), "baseline: no energy");
            } else {
                assertEquals(e0, ref.initialEnergy()[i], 1e-6 * (1 + Math.abs(e0)), "reference H(0), trajectory " + i);
                assertEquals(e1, ref.finalEnergy()[i], 1e-6 * (1 + Math.abs(e1)), "reference H(T), trajectory " + i);
                assertEquals(e1, cpu.finalEnergy()[i], 1e-3, "cpu H(T), trajectory " + i);
            }
        }
        assertTrue(refWorst <= 1e-6, kind + " " + scheme + ": reference vs hnn max relative |Δ| = " + refWorst);
        assertTrue(cpuWorst <= 1e-3, kind + " " + scheme + ": cpu vs hnn max |Δ| = " + cpuWorst);
        assertEquals(0, ref.divergedCount() + cpu.divergedCount());
    }

    @ParameterizedTest(name = "{0} {1} noise={2}")
    @CsvSource({"hnn, TAO, 0.1", "separable, STORMER_VERLET, 0.1", "separable, TAO, 0.05", "dissipative, RK4, 0.1",
            "port, RK4, 0.1", "baseline-u, RK4, 0.05"})
    void cpuAgreesWithReferenceUnderNoiseAndPerturbation(String kind, Scheme scheme, float noise) {
        LearnedField model = model(kind, 33);
        int steps = 40;
        float[] u = inputTable(model, steps, 6);
        EnsembleSpec spec = new EnsembleSpec(model.toEnsembleModel(u), new float[] {0.3f, -0.2f},
                new float[] {0.1f, 0.4f}, null, 130, 0.05f, steps, 0.1f, 0.2f, noise, 99, 7, true, EnsembleSpec.FAN,
                scheme, EnsembleSpec.DEFAULT_TAO_OMEGA);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult cpu = CPU.integrate(spec);
        assertEquals(0, ref.divergedCount() + cpu.divergedCount());
        assertWithin(ref.finalStates(), cpu.finalStates(), 1e-3, "final states");
        assertWithin(ref.paths(), cpu.paths(), 1e-3, "paths");
        assertWithin(ref.quantiles(), cpu.quantiles(), 1e-3, "quantiles");
        // the noise moved the trajectories: the same spec without it ends elsewhere
        EnsembleResult quiet = REFERENCE.integrate(new EnsembleSpec(spec.model(), spec.q0(), spec.p0(), null, 130, 0.05f,
                steps, 0.1f, 0.2f, 0f, 99, 7, false, EnsembleSpec.FAN, scheme, EnsembleSpec.DEFAULT_TAO_OMEGA));
        double moved = 0;
        for (int i = 0; i < quiet.finalStates().length; i++) {
            moved = Math.max(moved, Math.abs(quiet.finalStates()[i] - ref.finalStates()[i]));
        }
        assertTrue(moved > 0.01, "noise " + noise + " moved the final states by only " + moved);
    }

    private static void assertWithin(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i]) && Float.isNaN(actual[i])) {
                continue; // the baseline's energy quantiles
            }
            double d = Math.abs(expected[i] - actual[i]);
            worst = Double.isNaN(d) ? Double.POSITIVE_INFINITY : Math.max(worst, d);
        }
        assertTrue(worst <= tol, what + ": max |Δ| = " + worst + " (tolerance " + tol + ")");
    }

    /** max over trajectories and samples of |H(t) − H(0)|, from the engine's recorded energies (paths every step). */
    private static double maxEnergyError(Backend engine, EnsembleModel m, float[] init, int count, float dt, int steps,
                                         Scheme scheme) {
        EnsembleResult r = engine.integrate(new EnsembleSpec(m, null, null, init, count, dt, steps, 0f, 0f, 0f, 1, 0,
                false, EnsembleSpec.FAN, scheme, EnsembleSpec.DEFAULT_TAO_OMEGA));
        assertEquals(0, r.divergedCount());
        double worst = 0;
        for (int i = 0; i < count; i++) {
            worst = Math.max(worst, Math.abs(r.finalEnergy()[i] - r.initialEnergy()[i]));
        }
        return worst;
    }

    /**
     * H is conserved to the scheme's order: halving h over the same time T = 8 divides the largest energy error at T
     * (16 trajectories) by ≈ 2^order; the ratio must lie within a factor 1.5 of 2^order. Leapfrog on a general H is
     * first order (its half-steps take ∂H/∂q at the old p), second order on a separable H. The step sizes keep the
     * errors in the asymptotic range and above float32 rounding of H (≈ 1e-7 here): RK4 is so accurate on these
     * smooth MLPs that it needs h = 0.2…0.4 and, for the general H, θ scaled by 1.5 (a faster flow).
     */
    @ParameterizedTest(name = "{0} {1} order {2} on {3}, h = {4}, θ × {5}")
    @CsvSource({"hnn, LEAPFROG, 1, reference, 0.1, 1", "hnn, TAO, 2, reference, 0.2, 1",
            "hnn, RK4, 4, reference, 0.2, 1.5", "separable, STORMER_VERLET, 2, reference, 0.2, 1",
            "separable, LEAPFROG, 2, reference, 0.2, 1", "separable, TAO, 2, reference, 0.2, 1",
            "separable, RK4, 4, reference, 0.4, 1", "hnn, LEAPFROG, 1, cpu, 0.1, 1", "hnn, TAO, 2, cpu, 0.2, 1",
            "hnn, RK4, 4, cpu, 0.4, 1.5", "separable, STORMER_VERLET, 2, cpu, 0.2, 1", "separable, TAO, 2, cpu, 0.2, 1",
            "separable, RK4, 4, cpu, 0.4, 1"})
    void conservativeKindsKeepHToTheSchemesOrder(String kind, Scheme scheme, int order, String engine, float h,
                                                 double scale) {
        LearnedField model = model(kind, 5);
        double[] theta = model.parameters();
        for (int i = 0; i < theta.length; i++) {
            theta[i] = (float) (theta[i] * scale);
        }
        Backend b = engine.equals("cpu") ? CPU : REFERENCE;
        float[] init = initialStates(16, 2, 4);
        float time = 8f;
        int steps = Math.round(time / h);
        double coarse = maxEnergyError(b, model.toEnsembleModel(), init, 16, h, steps, scheme);
        double fine = maxEnergyError(b, model.toEnsembleModel(), init, 16, h / 2, 2 * steps, scheme);
        double ratio = coarse / fine;
        double want = Math.pow(2, order);
        assertTrue(ratio > want / 1.5 && ratio < want * 1.5, kind + " " + scheme + " on " + engine + ": |ΔH| " + coarse
                + " at h = " + h + ", " + fine + " at h/2: ratio " + ratio + ", order " + order + " wants " + want);
    }

    /**
     * dH/dt = −Σ D_i (∂H/∂p_i)² ≤ 0: without noise, the recorded H never rises from one step to the next beyond
     * RK4's local error and float32 rounding (2e-6·(1 + |H|)), and falls overall.
     */
    @Test
    void dissipativeEnergyNeverRises() {
        LearnedField model = model("dissipative", 8);
        float[] init = initialStates(50, 2, 12);
        for (Backend engine : ENGINES) {
            EnsembleResult r = engine.integrate(spec(model.toEnsembleModel(), init, 50, 0.02f, 300, 1, Scheme.RK4));
            assertEquals(0, r.divergedCount());
            int samples = r.sampleSteps().length;
            for (int i = 0; i < 50; i++) {
                double prev = r.initialEnergy()[i];
                for (int s = 1; s < samples; s++) {
                    double[] x = new double[4];
                    for (int j = 0; j < 4; j++) {
                        x[j] = r.path(s, i, j);
                    }
                    double e = energy(model, x);
                    assertTrue(e <= prev + 2e-6 * (1 + Math.abs(prev)), engine.name() + ": H rose from " + prev + " to "
                            + e + " at step " + s + " of trajectory " + i);
                    prev = e;
                }
                assertTrue(r.finalEnergy()[i] < r.initialEnergy()[i] - 1e-3, engine.name() + ": trajectory " + i
                        + " did not dissipate: " + r.initialEnergy()[i] + " → " + r.finalEnergy()[i]);
            }
        }
    }

    /**
     * Energy balance of the port-Hamiltonian kind: H(T) − H(0) + ∫ Σ D_i (∂H/∂p_i)² dt = ∫ ∂H/∂p · G(q)·u dt. The
     * integrals are trapezoids over the recorded steps (u constant within a step), so the residual is O(h²):
     * halving h must cut it by about 4 (at least 2.5), and at h = 0.01 it is below 1e-3 of the energy supplied.
     */
    @Test
    void portHamiltonianBalancesStoredDissipatedAndSuppliedEnergy() {
        PortHamiltonianNetwork model = (PortHamiltonianNetwork) model("port", 13);
        float[] init = initialStates(8, 2, 2);
        float time = 2f;
        for (Backend engine : ENGINES) {
            double[] residual = new double[2];
            double supplied = 0;
            for (int k = 0; k < 2; k++) {
                float h = k == 0 ? 0.02f : 0.01f;
                int steps = Math.round(time / h);
                // the same u(t) at both step sizes: u piecewise constant on [0.1·j, 0.1·(j+1))
                float[] coarseU = inputTable(model, 20, 3);
                float[] u = new float[steps * 2];
                for (int s = 0; s < steps; s++) {
                    int j = (int) Math.floor(s * h / 0.1 + 1e-6);
                    u[2 * s] = coarseU[2 * j];
                    u[2 * s + 1] = coarseU[2 * j + 1];
                }
                EnsembleResult r = engine.integrate(spec(model.toEnsembleModel(u), init, 8, h, steps, 1, Scheme.RK4));
                assertEquals(0, r.divergedCount());
                double worst = 0;
                supplied = 0;
                for (int i = 0; i < 8; i++) {
                    double in = 0;
                    double out = 0;
                    for (int s = 1; s <= steps; s++) {
                        // step s runs from t_{s−1} to t_s under u row s − 1: both ends of its trapezoid use that row
                        double[] before = rates(model, r, s - 1, i, u, s - 1);
                        double[] now = rates(model, r, s, i, u, s - 1);
                        in += 0.5 * h * (before[0] + now[0]);
                        out += 0.5 * h * (before[1] + now[1]);
                    }
                    double stored = r.finalEnergy()[i] - r.initialEnergy()[i];
                    worst = Math.max(worst, Math.abs(stored + out - in));
                    supplied = Math.max(supplied, Math.abs(in));
                }
                residual[k] = worst;
            }
            assertTrue(supplied > 0.05, engine.name() + ": the port supplied too little energy to test: " + supplied);
            assertTrue(residual[1] < 1e-3 * supplied, engine.name() + ": balance residual " + residual[1]);
            assertTrue(residual[0] / residual[1] > 2.5, engine.name() + ": residual " + residual[0] + " at h = 0.02, "
                    + residual[1] + " at h = 0.01: not second order");
        }
    }

    /** (∂H/∂p · G(q)·u_row, Σ D_i (∂H/∂p_i)²) at sample s of trajectory i, in double from the hnn model. */
    private static double[] rates(PortHamiltonianNetwork model, EnsembleResult r, int s, int i, float[] u, int row) {
        double[] q = {r.path(s, i, 0), r.path(s, i, 1)};
        double[] p = {r.path(s, i, 2), r.path(s, i, 3)};
        double[] dHdq = new double[2];
        double[] dHdp = new double[2];
        model.gradient(q, p, dHdq, dHdp);
        double[] dq = new double[2];
        double[] dp = new double[2];
        // ṗ = −∂H/∂q − D ⊙ ∂H/∂p + G(q)·u, so D ⊙ ∂H/∂p = −ṗ − ∂H/∂q + G(q)·u
        double[] g = new double[4];
        model.inputMap(q, g);
        model.predict(q, p, new double[] {u[2 * row], u[2 * row + 1]}, dq, dp);
        double supply = 0;
        double loss = 0;
        for (int a = 0; a < 2; a++) {
            double force = g[2 * a] * u[2 * row] + g[2 * a + 1] * u[2 * row + 1];
            supply += dHdp[a] * force;
            double damped = -dp[a] - dHdq[a] + force;
            loss += damped * dHdp[a];
        }
        return new double[] {supply, loss};
    }

    @Test
    void schemesAKindCannotRunAreRejectedNamingBoth() {
        float[] q = {0f, 0f};
        String[][] bad = {{"hnn", "STORMER_VERLET"}, {"dissipative", "LEAPFROG"}, {"dissipative", "TAO"},
                {"port", "STORMER_VERLET"}, {"baseline", "LEAPFROG"}};
        for (String[] c : bad) {
            EnsembleModel m = model(c[0], 1).toEnsembleModel();
            var e = assertThrows(IllegalArgumentException.class, () -> new EnsembleSpec(m, q, q, null, 4, 0.1f, 5, 0f,
                    0f, 0f, 1, 0, false, EnsembleSpec.FAN, Scheme.valueOf(c[1]), 20));
            assertTrue(e.getMessage().contains(c[1]) && e.getMessage().contains("'" + c[0] + "'"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
        EnsembleModel port = model("port", 1).toEnsembleModel(new float[10]);
        var e = assertThrows(IllegalArgumentException.class, () -> new EnsembleSpec(port, q, q, null, 4, 0.1f, 6, 0f, 0f,
                0f, 1, 0, false, EnsembleSpec.FAN, Scheme.RK4, 20));
        assertTrue(e.getMessage().contains("steps = 6"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> model("port", 1).toEnsembleModel(new float[] {0f, 1f, 2f}));
        var none = assertThrows(IllegalArgumentException.class, () -> model("hnn", 1).toEnsembleModel(new float[4]));
        assertTrue(none.getMessage().contains("takes no inputs"), none.getMessage());
        assertThrows(IllegalArgumentException.class, () -> EnsembleSpec.of(model("hnn", 1).toEnsembleModel(), q, q, 4,
                0.1f, 5, 0f, 0f, 0f, 1, 0).withTaoOmega(0));
    }

    @Test
    void eachModelDescribesItselfWithItsKindAndWeights() {
        for (String kind : new String[] {"hnn", "separable", "dissipative", "port", "baseline", "baseline-u"}) {
            LearnedField m = model(kind, 2);
            EnsembleModel e = m.toEnsembleModel();
            assertEquals(m.kind(), e.kind());
            assertEquals(m.dof(), e.dof());
            assertEquals(m.inputCount(), e.inputCount());
            assertEquals(e.defaultScheme(), EnsembleSpec.of(e, new float[2], new float[2], 1, 0.1f, 1, 0f, 0f, 0f, 1, 0)
                    .scheme());
        }
        // the float32 weights are θ itself (θ was rounded to float)
        SeparableHamiltonianNetwork sep = (SeparableHamiltonianNetwork) model("separable", 2);
        var s = (EnsembleModel.Separable) sep.toEnsembleModel();
        assertEquals(sep.networks().get("T").parameters()[sep.networks().get("T").offset()], s.kinetic().weight(0, 0, 0));
        assertEquals(sep.networks().get("V").parameters()[sep.networks().get("V").offset()], s.potential().weight(0, 0, 0));
    }
}
