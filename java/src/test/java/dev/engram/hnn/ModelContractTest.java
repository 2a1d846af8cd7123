package dev.engram.hnn;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What every learned model kind promises through {@link LearnedField}: the fused squared-error pass equals predict then
 * backprop, bad batches are rejected by name, seeded creation is reproducible, and the field is the model.
 */
class ModelContractTest {
    static final int N = 2;
    static final int M = 2;

    static LearnedField model(String kind, long seed) {
        return switch (kind) {
            case "hnn" -> HamiltonianNetwork.create(N, new int[] {5}, seed);
            case "separable" -> SeparableHamiltonianNetwork.create(N, new int[] {5}, seed);
            case "dissipative" -> DissipativeHamiltonianNetwork.create(N, new int[] {5}, new int[] {3}, seed);
            case "port" -> PortHamiltonianNetwork.create(N, M, new int[] {5}, new int[] {3}, new int[] {3}, seed);
            case "baseline" -> DerivativeNetwork.create(N, M, new int[] {5}, seed);
            default -> throw new IllegalArgumentException(kind);
        };
    }

    static double[][] rows(SplittableRandom rnd, int b, int n) {
        double[][] r = new double[b][n];
        for (double[] row : r) {
            for (int i = 0; i < n; i++) {
                row[i] = 2 * rnd.nextDouble() - 1;
            }
        }
        return r;
    }

    private static void rejected(Executable op, String message) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, op);
        assertTrue(e.getMessage().contains(message), "message '" + e.getMessage() + "' should contain '" + message + "'");
    }

    /** L = s·Σ‖f − target‖² and ∂L/∂θ = backprop with adjoints 2s(f − target), per element to 1e-12 relative. */
    @ParameterizedTest
    @ValueSource(strings = {"hnn", "separable", "dissipative", "port", "baseline"})
    void squaredErrorBackpropIsPredictThenBackpropOfTwiceTheScaledResidual(String kind) {
        LearnedField f = model(kind, 4);
        SplittableRandom rnd = new SplittableRandom(41);
        int batch = 3;
        double[][] q = rows(rnd, batch, N);
        double[][] p = rows(rnd, batch, N);
        double[][] u = rows(rnd, batch, f.inputCount());
        double[][] dqT = rows(rnd, batch, N);
        double[][] dpT = rows(rnd, batch, N);
        double scale = 0.37;

        double[][] dq = new double[batch][N];
        double[][] dp = new double[batch][N];
        f.predict(q, p, u, dq, dp);
        double loss = 0;
        double[][] aq = new double[batch][N];
        double[][] ap = new double[batch][N];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < N; i++) {
                loss += Math.pow(dq[b][i] - dqT[b][i], 2) + Math.pow(dp[b][i] - dpT[b][i], 2);
                aq[b][i] = 2 * scale * (dq[b][i] - dqT[b][i]);
                ap[b][i] = 2 * scale * (dp[b][i] - dpT[b][i]);
            }
        }
        double[] expected = new double[f.parameters().length];
        expected[0] = 1.5; // both passes add to what grad already holds
        f.backprop(q, p, u, aq, ap, expected);

        double[] grad = new double[f.parameters().length];
        grad[0] = 1.5;
        double got = f.squaredErrorBackprop(q, p, u, dqT, dpT, scale, grad);
        assertEquals(scale * loss, got, 1e-12 * loss, kind + " loss");
        for (int i = 0; i < grad.length; i++) {
            assertEquals(expected[i], grad[i], 1e-12 * (1 + Math.abs(expected[i])), kind + " ∂L/∂θ[" + i + "]");
        }
        assertTrue(loss > 1e-3, "the targets are random, so the residual is not small");
    }

    @ParameterizedTest
    @ValueSource(strings = {"hnn", "separable", "dissipative", "port", "baseline"})
    void everyBatchEntryPointRejectsBadShapesAndNonFiniteStatesByName(String kind) {
        LearnedField f = model(kind, 4);
        int m = f.inputCount();
        double[][] one = {{0.1, 0.2}};
        double[][] u = {new double[m]};
        double[] grad = new double[f.parameters().length];
        double[][] out = new double[1][N];
        double[][] out2 = new double[1][N];
        String sizes = "must be batches of the same size >= 1, got ";
        rejected(() -> f.predict(new double[0][], new double[0][], new double[0][], new double[0][], new double[0][]),
                sizes + "0, 0, 0, 0, 0");
        rejected(() -> f.predict(one, new double[2][N], u, out, out2), sizes + "1, 2, 1, 1, 1");
        rejected(() -> f.predict(one, one, u, out, new double[][] {{0, 0, 0}}), "dp must each have length n = 2, got 2, 2, 2, 3");
        rejected(() -> f.predict(one, one, new double[][] {new double[m + 1]}, out, out2),
                "u must have length m = " + m + ", got " + (m + 1));
        rejected(() -> f.predict(new double[][] {{0, Double.NaN}}, one, u, out, out2), "q[1] of state 0 is NaN");
        rejected(() -> f.predict(one, new double[][] {{Double.POSITIVE_INFINITY, 0}}, u, out, out2),
                "p[0] of state 0 is Infinity");
        rejected(() -> f.backprop(one, one, u, out, new double[][] {{1}}, grad), "got 2, 2, 2, 1");
        rejected(() -> f.backprop(new double[][] {{0, Double.NaN}}, one, u, out, out2, grad), "q[1] of state 0 is NaN");
        rejected(() -> f.squaredErrorBackprop(one, one, u, out, new double[][] {{1}}, 1, grad), "got 2, 2, 2, 1");
        rejected(() -> f.squaredErrorBackprop(new double[][] {{Double.NaN, 0}}, one, u, out, out2, 1, grad),
                "q[0] of state 0 is NaN");
        assertArrayEquals(new double[grad.length], grad, "nothing was added by a rejected call");
        if (m > 0) {
            rejected(() -> f.predict(one, one, new double[][] {{0, Double.NaN}}, out, out2), "u[1] of state 0 is NaN");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"hnn", "separable", "dissipative", "port", "baseline"})
    void creationIsSeededAndTheFieldIsTheModelWithZeroInput(String kind) {
        LearnedField a = model(kind, 9);
        assertArrayEquals(a.parameters(), model(kind, 9).parameters(), "same seed, same θ");
        assertFalse(java.util.Arrays.equals(a.parameters(), model(kind, 10).parameters()), "another seed, another θ");
        for (Map.Entry<String, Mlp> e : a.networks().entrySet()) {
            double[] w = new double[e.getValue().parameterCount()];
            System.arraycopy(a.parameters(), e.getValue().offset(), w, 0, w.length);
            assertTrue(java.util.Arrays.stream(w).anyMatch(v -> v != 0), kind + " network " + e.getKey() + " initialised");
        }
        double[] q = {0.3, -0.2};
        double[] p = {0.5, 0.1};
        double[] dq = new double[N];
        double[] dp = new double[N];
        a.predict(q, p, new double[a.inputCount()], dq, dp);
        double[] fq = new double[N];
        double[] fp = new double[N];
        PhaseSpaceField field = a.field();
        assertEquals(N, field.dof());
        field.derivatives(0.7, q, p, fq, fp);
        assertArrayEquals(dq, fq, 0);
        assertArrayEquals(dp, fp, 0);
        assertTrue(Math.abs(dq[0]) + Math.abs(dp[0]) > 0);
        rejected(() -> create(kind, 0), "dof must be >= 1, got 0");
        assertEquals(1, create(kind, 1).dof());
    }

    private static LearnedField create(String kind, int dof) {
        return switch (kind) {
            case "hnn" -> HamiltonianNetwork.create(dof, new int[] {3}, 1);
            case "separable" -> SeparableHamiltonianNetwork.create(dof, new int[] {3}, 1);
            case "dissipative" -> DissipativeHamiltonianNetwork.create(dof, new int[] {3}, new int[] {3}, 1);
            case "port" -> PortHamiltonianNetwork.create(dof, 1, new int[] {3}, new int[] {3}, new int[] {3}, 1);
            default -> DerivativeNetwork.create(dof, 1, new int[] {3}, 1);
        };
    }

    @Test
    void constructorsNameTheNetworkWhoseWidthsDoNotFit() {
        double[] theta = new double[1000];
        rejected(() -> new HamiltonianNetwork(0, Map.of("H", new int[] {0, 1}), theta), "dof must be >= 1, got 0");
        rejected(() -> new HamiltonianNetwork(2, Map.of(), theta), "hnn model: network H is missing");
        rejected(() -> new HamiltonianNetwork(2, Map.of("H", new int[] {4}), theta), "network H has widths [4]");
        rejected(() -> new HamiltonianNetwork(2, Map.of("H", new int[] {3, 1}), theta),
                "hnn model: network H has widths [3, 1], expected input 2n = 4 and output 1 = 1");
        rejected(() -> new HamiltonianNetwork(2, Map.of("H", new int[] {4, 2}), theta), "output 1 = 1");
        rejected(() -> new HamiltonianNetwork(2, Map.of("H", new int[] {4, 1}), theta),
                "theta has 1000 parameters, the networks need 5");
        rejected(() -> new SeparableHamiltonianNetwork(2, Map.of("T", new int[] {2, 1}, "V", new int[] {3, 1}), theta),
                "separable model: network V has widths [3, 1], expected input n = 2");
        rejected(() -> new SeparableHamiltonianNetwork(2, Map.of("T", new int[] {4, 1}, "V", new int[] {2, 1}), theta),
                "separable model: network T");
        rejected(() -> new SeparableHamiltonianNetwork(0, Map.of(), theta), "dof must be >= 1, got 0");
        rejected(() -> new DissipativeHamiltonianNetwork(2, Map.of("H", new int[] {4, 1}, "D", new int[] {4, 1}), theta),
                "dissipative model: network D has widths [4, 1], expected input 2n = 4 and output n = 2");
        rejected(() -> new DissipativeHamiltonianNetwork(2, Map.of("H", new int[] {4, 2}, "D", new int[] {4, 2}), theta),
                "dissipative model: network H");
        rejected(() -> new DissipativeHamiltonianNetwork(0, Map.of(), theta), "dof must be >= 1, got 0");
        Map<String, int[]> port = Map.of("H", new int[] {4, 1}, "D", new int[] {4, 2}, "G", new int[] {2, 4});
        rejected(() -> new PortHamiltonianNetwork(2, 0, port, theta), "port model: inputs m must be >= 1, got 0");
        rejected(() -> new PortHamiltonianNetwork(0, 2, port, theta), "dof must be >= 1, got 0");
        rejected(() -> new PortHamiltonianNetwork(2, 3, port, theta),
                "port model: network G has widths [2, 4], expected input n = 2 and output n·m = 6");
        rejected(() -> new PortHamiltonianNetwork(2, 2, Map.of("H", new int[] {4, 1}, "D", new int[] {4, 1},
                "G", new int[] {2, 4}), theta), "port model: network D");
        rejected(() -> new PortHamiltonianNetwork(2, 2, Map.of("H", new int[] {2, 1}, "D", new int[] {4, 2},
                "G", new int[] {2, 4}), theta), "port model: network H");
        rejected(() -> new DerivativeNetwork(2, -1, Map.of("F", new int[] {4, 4}), theta),
                "baseline model: inputs m must be >= 0, got -1");
        rejected(() -> new DerivativeNetwork(0, 0, Map.of("F", new int[] {0, 0}), theta), "dof must be >= 1, got 0");
        rejected(() -> new DerivativeNetwork(2, 1, Map.of("F", new int[] {4, 4}), theta),
                "baseline model: network F has widths [4, 4], expected input 2n+m = 5 and output 2n = 4");
    }

    /** The baseline's input row is (q, p, u) in that order: its prediction is F's output on that concatenation. */
    @Test
    void theBaselineFeedsQThenPThenUToItsNetwork() {
        DerivativeNetwork f = DerivativeNetwork.create(N, M, new int[] {5}, 3);
        double[] q = {0.3, -0.2};
        double[] p = {0.5, 0.1};
        double[] u = {-0.4, 0.9};
        double[] y = new double[2 * N];
        f.networks().get("F").forward(new double[] {0.3, -0.2, 0.5, 0.1, -0.4, 0.9}, y);
        double[] dq = new double[N];
        double[] dp = new double[N];
        f.predict(q, p, u, dq, dp);
        assertArrayEquals(new double[] {y[0], y[1]}, dq, 0);
        assertArrayEquals(new double[] {y[2], y[3]}, dp, 0);
    }

    @Test
    void softplusAndItsDerivativeAreExactAtZeroAndStableFarOut() {
        assertEquals(Math.log(2), Networks.softplus(0), 1e-15);
        assertEquals(0.5, Networks.sigmoid(0), 0);
        assertEquals(800, Networks.softplus(800), 1e-12, "no overflow for large r");
        assertEquals(Math.exp(-800), Networks.softplus(-800), 0);
        assertEquals(1.0, Networks.sigmoid(800), 0);
        assertEquals(Math.exp(-800), Networks.sigmoid(-800), 0, "no NaN from ∞/∞ for very negative r");
        assertEquals(1 / (1 + Math.exp(-1e-3)), Networks.sigmoid(1e-3), 1e-16);
        assertEquals(Math.log1p(Math.exp(-1e-3)), Networks.softplus(-1e-3), 1e-16);
        assertEquals(1e-3 + Math.log1p(Math.exp(-1e-3)), Networks.softplus(1e-3), 1e-16);
    }
}
