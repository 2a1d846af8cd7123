package dev.engram.engine.ffm;

import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.EnsembleModel;
import dev.engram.engine.SampleModels;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.EnsembleSpec.Scheme;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.reference.ReferenceBackend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The native FP32 integration kernel (cuda/integrate.cu) against the reference engine: every model kind and scheme,
 * several launch shapes (one block looping over all trajectories, small and large blocks, capped grids), ranges of
 * trajectories, the Philox noise stream, divergence. Runs on the emulated kernels; the GPU variants run when a GPU is
 * present and are skipped with the reason otherwise.
 *
 * <p>Tolerances. The kernel computes in float32 (2⁻²⁴ per operation) as the cpu engine does, the reference in double:
 * over 40 steps of these smooth fields (dt = 0.05) the difference stays below 2e-4; 1e-3 is allowed, as in
 * EnsembleKindsTest for the cpu engine. The noise test integrates H = const, so the trajectory is the noise alone
 * and float32 rounding of a sum of 40 terms bounds the difference: 1e-5.
 */
public class NativeIntegrationTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final Map<String, NativeBackend> ENGINES = new HashMap<>();

    static NativeBackend engine(String variant, IntegrationLaunch launch) {
        if (variant.equals("cuda")) {
            NativeTestSupport.assumeCuda();
        } else {
            NativeTestSupport.assumeEmu();
        }
        return ENGINES.computeIfAbsent(variant + launch, key -> (variant.equals("cuda") ? NativeBackend.cuda()
                : NativeBackend.emulated()).with(launch));
    }

    @AfterAll
    static void close() {
        ENGINES.values().forEach(NativeBackend::close);
        ENGINES.clear();
    }

    /** {@link SampleModels#net}. */
    public static MlpWeights net(long seed, int... widths) {
        return SampleModels.net(seed, widths);
    }

    /** {@link SampleModels#table}. */
    public static float[] table(int rows, int m, long seed) {
        return SampleModels.table(rows, m, seed);
    }

    /**
     * The FP32 kernel against the reference engine: no divergence, the same sample steps, states and quantiles within
     * 1e-3, initial energies within 1e-5.
     */
    public static void assertFp32Agrees(EnsembleResult ref, EnsembleResult got) {
        assertEquals(0, ref.divergedCount());
        assertArrayEquals(ref.divergedAtStep(), got.divergedAtStep());
        assertArrayEquals(ref.sampleSteps(), got.sampleSteps());
        assertWithin(ref.finalStates(), got.finalStates(), 1e-3, "final states");
        assertWithin(ref.paths(), got.paths(), 1e-3, "paths");
        assertWithin(ref.initialEnergy(), got.initialEnergy(), 1e-5, "initial energies");
        assertWithin(ref.finalEnergy(), got.finalEnergy(), 1e-3, "final energies");
        assertWithin(ref.quantiles(), got.quantiles(), 1e-3, "quantiles");
    }

    /**
     * The tensor-core kernel's bound against the reference on the same bf16-rounded weights: 2·(3·2⁻⁹ + 2·2⁻¹⁰) times
     * the largest displacement of the first {@code count} trajectories (n degrees of freedom), plus 1e-4; asserts the
     * flow moved them by more than 0.05, so that the bound is not vacuous.
     */
    public static double bf16Tolerance(EnsembleResult ref, int count, int n) {
        double moved = 0;
        for (int s = 0; s < ref.sampleSteps().length; s++) {
            for (int i = 0; i < count; i++) {
                for (int j = 0; j < 2 * n; j++) {
                    moved = Math.max(moved, Math.abs(ref.path(s, i, j) - ref.path(0, i, j)));
                }
            }
        }
        double eps = 3 * Math.scalb(1.0, -9) + 2 * Math.scalb(1.0, -10);
        assertTrue(moved > 0.05, "the flow moved the states by only " + moved);
        return 2 * eps * moved + 1e-4;
    }

    /** {@link SampleModels#model}: a model of {@code kind} with n = 2 (m = 2 where it takes inputs). */
    public static EnsembleModel model(String kind, int steps, long seed) {
        return SampleModels.model(kind, steps, seed);
    }

    public static EnsembleSpec spec(EnsembleModel model, int count, int steps, float noise, int sampleEvery, Scheme scheme) {
        return new EnsembleSpec(model, new float[] {0.3f, -0.2f}, new float[] {0.1f, 0.4f}, null, count, 0.05f, steps,
                0.1f, 0.2f, noise, 99, sampleEvery, true, EnsembleSpec.FAN, scheme, EnsembleSpec.DEFAULT_TAO_OMEGA);
    }

    public static void assertWithin(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + " length");
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            if (Float.isNaN(expected[i]) || Float.isNaN(actual[i])) {
                assertTrue(Float.isNaN(expected[i]) && Float.isNaN(actual[i]),
                        what + "[" + i + "]: " + expected[i] + " vs " + actual[i]);
                continue;
            }
            worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        }
        assertTrue(worst <= tol, what + ": max |Δ| = " + worst + " (tolerance " + tol + ")");
    }

    /** Every valid (kind, scheme), each at a different launch shape, on the emulator (and the GPU if present). */
    static Stream<Arguments> kindCases() {
        String[][] kinds = {{"hnn", "LEAPFROG"}, {"hnn", "TAO"}, {"hnn", "RK4"}, {"separable", "STORMER_VERLET"},
                {"separable", "LEAPFROG"}, {"separable", "TAO"}, {"separable", "RK4"}, {"dissipative", "RK4"},
                {"port", "RK4"}, {"port-no-u", "RK4"}, {"baseline", "RK4"}, {"baseline-u", "RK4"}};
        int[][] shapes = {{32, 1}, {64, 0}, {128, 2}, {256, 0}, {96, 1}};
        List<Arguments> out = new ArrayList<>();
        int k = 0;
        for (String variant : new String[] {"emu", "cuda"}) {
            for (String[] ks : kinds) {
                int[] s = shapes[k++ % shapes.length];
                out.add(Arguments.of(variant, ks[0], Scheme.valueOf(ks[1]), s[0], s[1]));
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2} block={3} maxBlocks={4}")
    @MethodSource("kindCases")
    void agreesWithTheReferenceEngine(String variant, String kind, Scheme scheme, int block, int maxBlocks) {
        NativeBackend engine = engine(variant, new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, block, 0, maxBlocks));
        int steps = 40;
        EnsembleSpec spec = spec(model(kind, steps, 21), 130, steps, 0.1f, 7, scheme);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult nat = engine.integrate(spec);
        assertFp32Agrees(ref, nat);
    }

    /** The same ensemble at other shapes and split into ranges gives the same numbers bit for bit (one thread each). */
    @ParameterizedTest(name = "range={0} block={1} maxBlocks={2}")
    @CsvSource({"17, 32, 1", "64, 64, 0", "1, 32, 0", "130, 256, 3"})
    void resultsDoNotDependOnShapeOrRange(int range, int block, int maxBlocks) {
        NativeTestSupport.assumeEmu();
        EnsembleSpec spec = spec(model("hnn", 30, 5), 130, 30, 0.2f, 4, Scheme.TAO);
        EnsembleResult whole = engine("emu", IntegrationLaunch.AUTO).integrate(spec);
        NativeLibrary lib = NativeLibrary.load(NativeLibrary.EMU);
        AtomicLong done = new AtomicLong();
        EnsembleResult split = NativeEnsemble.run(lib, spec,
                new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, block, 0, maxBlocks), done::set, range);
        assertArrayEquals(whole.finalStates(), split.finalStates());
        assertArrayEquals(whole.paths(), split.paths());
        assertArrayEquals(whole.finalEnergy(), split.finalEnergy());
        assertEquals(130, done.get(), "progress reached N");
    }

    /**
     * H = const (all weights 0): no step moves the state, so every path is the initial perturbation plus the momentum
     * noise alone. Equal to the reference's to float32 rounding: the kernel draws Philox's numbers for the same
     * (seed, trajectory, step), and a wrong counter or key would differ by O(1).
     */
    @Test
    void noiseStreamIsPhilox() {
        NativeTestSupport.assumeEmu();
        int n = 5; // two Philox groups per step, the second half-used
        int[] widths = {2 * n, 3, 1};
        MlpWeights zero = new MlpWeights(widths, new float[][] {new float[3 * 2 * n], new float[3]},
                new float[][] {new float[3], new float[1]});
        EnsembleSpec spec = new EnsembleSpec(new EnsembleModel.Hamiltonian(zero), new float[n], new float[n], null, 50,
                0.04f, 40, 0.3f, 0.5f, 0.7f, 0x1234_5678_9abcL, 1, true, EnsembleSpec.FAN, Scheme.LEAPFROG,
                EnsembleSpec.DEFAULT_TAO_OMEGA);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult nat = engine("emu", IntegrationLaunch.of(IntegrationLaunch.Kernel.FP32)).integrate(spec);
        assertWithin(ref.paths(), nat.paths(), 1e-5, "pure-noise paths");
        double spread = 0;
        for (int i = 0; i < 50; i++) {
            spread = Math.max(spread, Math.abs(nat.finalState(i, n)));
        }
        assertTrue(spread > 0.5, "the noise moved p by only " + spread);
    }

    /**
     * Divergence far from the threshold: the affine field F(x) = λx with λh = 100 multiplies the state by about 4·10⁶
     * per RK4 step, and each initial state is chosen so that the step before overflow ends near FLT_MAX/2000 (so the
     * next step overflows by a factor of ~2000 in float and double alike, and no RK4 stage of the step before, at most ~60 times its
     * result, comes within a factor of 30 of FLT_MAX). Trajectories diverge at steps 1…5, or never (x = 0), and both engines say so.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"emu", "cuda"})
    void divergenceIsFlaggedAndFrozenAsInTheReference(String variant) {
        NativeBackend engine = engine(variant, new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 32, 0, 1));
        int n = 1;
        float lambda = 1000f;
        float dt = 0.1f;
        float[] w = {lambda, 0, 0, lambda};
        MlpWeights f = new MlpWeights(new int[] {2, 2}, new float[][] {w}, new float[][] {new float[2]});
        double g = 1 + 100 + 100.0 * 100 / 2 + 100.0 * 100 * 100 / 6 + 100.0 * 100 * 100 * 100 / 24;
        int count = 12;
        float[] init = new float[count * 2];
        int[] expected = new int[count];
        for (int i = 0; i < count; i++) {
            int k = i % 6; // diverges at step k (0: never)
            double x0 = k == 0 ? 0 : Float.MAX_VALUE / 2000.0 / Math.pow(g, k - 1);
            init[2 * i] = (float) x0;
            init[2 * i + 1] = (float) (-x0);
            expected[i] = k == 0 ? -1 : k;
        }
        EnsembleSpec spec = new EnsembleSpec(new EnsembleModel.Derivative(f), null, null, init, count, dt, 8, 0f, 0f,
                0f, 1, 1, true, EnsembleSpec.FAN, Scheme.RK4, EnsembleSpec.DEFAULT_TAO_OMEGA);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult nat = engine.integrate(spec);
        assertArrayEquals(expected, ref.divergedAtStep(), "the reference diverges where designed");
        assertArrayEquals(ref.divergedAtStep(), nat.divergedAtStep());
        assertEquals(ref.divergedCount(), nat.divergedCount());
        for (int i = 0; i < ref.finalStates().length; i++) {
            float e = ref.finalStates()[i];
            assertEquals(e, nat.finalStates()[i], 1e-5 * Math.abs(e), "last finite state " + i);
        }
        for (int s = 0; s < ref.sampleSteps().length; s++) {
            for (int i = 0; i < count; i++) {
                assertEquals(Float.isNaN(ref.path(s, i, 0)), Float.isNaN(nat.path(s, i, 0)), "sample " + s + " of " + i);
            }
        }
    }

    @Test
    void autoPicksANativeEngineForIntegrationOnlyWhenCudaIsHere() {
        assertTrue(Backends.withCapability(Capability.INTEGRATION).contains("emu"));
        assertTrue(Backends.withCapability(Capability.INTEGRATION).contains("cuda"));
        String auto = Backends.select(Capability.INTEGRATION, "auto").name();
        assertEquals(NativeBackend.cudaUnavailableReason() == null ? "cuda" : "cpu", auto);
    }

    /** A copy of w with the hidden layers' weight matrices (W1, W2) rounded to bf16, as the tensor kernel holds them. */
    public static MlpWeights withBf16HiddenWeights(MlpWeights w) {
        float[][] ws = w.weights();
        for (int l = 0; l < ws.length - 1; l++) {
            for (int i = 0; i < ws[l].length; i++) {
                ws[l][i] = NativeTestSupport.bf16(ws[l][i]);
            }
        }
        return new MlpWeights(w.widths(), ws, w.biases());
    }

    public static EnsembleSpec tensorSpec(int h, int n, int count, float noise) {
        MlpWeights w = withBf16HiddenWeights(net(40 + h + n, 2 * n, h, h, 1));
        float[] q0 = new float[n];
        float[] p0 = new float[n];
        for (int j = 0; j < n; j++) {
            q0[j] = 0.4f - 0.1f * j;
            p0[j] = -0.3f + 0.15f * j;
        }
        return new EnsembleSpec(new EnsembleModel.Hamiltonian(w), q0, p0, null, count, 0.05f, 20, 0.2f, 0.2f, noise, 7, 5,
                true, EnsembleSpec.FAN, Scheme.LEAPFROG, EnsembleSpec.DEFAULT_TAO_OMEGA);
    }

    /**
     * The tensor-core kernel (cuda/integrate_tc.cu) against the reference engine run on the same bf16-rounded W1 and
     * W2 (biases and the output layer stay float32 in both), at several hidden widths, dimensions and launch shapes.
     *
     * <p>Tolerance, from the precision used: the state enters the first layer as bf16 hi + lo (relative error
     * 2⁻¹⁷), but the hidden activations A1 and the backward factors Δ2, Δ1 are rounded to bf16 (2⁻⁹ each) and tanh
     * is tanh.approx (2⁻¹¹ on the device, modelled as 2⁻¹⁰ here). So one ∇H is off by at most about
     * ε = 3·2⁻⁹ + 2·2⁻¹⁰ ≈ 0.8% relative, and a trajectory's error is at most ε times the distance the flow moved it,
     * times e^{LT} ≤ 2 for this duration (T = 1): tol = 2·ε·D + 1e-4, with D the largest displacement
     * |x(t) − x(0)| in the reference's paths (about 0.3 here, so tol ≈ 5e-3; measured errors are 4–6e-4, as the
     * roundings partly cancel). A fragment-layout error gives O(1) differences. (Rounding the state itself to bf16,
     * i.e. dropping the lo half, stays within this tolerance for these states |x| < 1, but its error grows as
     * 2⁻⁹·|x|, which is why the kernel keeps it.)
     */
    @ParameterizedTest(name = "{0} h={1} n={2} tile={3} block={4} maxBlocks={5}")
    @CsvSource({"emu, 16, 1, 16, 32, 1", "emu, 32, 3, 32, 64, 0", "emu, 64, 1, 16, 128, 0", "emu, 64, 6, 16, 96, 2", "emu, 16, 7, 32, 128, 0",
            "emu, 128, 2, 16, 128, 0", "emu, 128, 8, 16, 64, 1", "cuda, 64, 1, 16, 128, 0", "cuda, 128, 8, 16, 64, 0"})
    void tensorKernelAgreesWithTheReferenceWithinBf16(String variant, int h, int n, int tile, int block, int maxBlocks) {
        NativeBackend engine = engine(variant, new IntegrationLaunch(IntegrationLaunch.Kernel.TENSOR_BF16, block, tile,
                maxBlocks));
        EnsembleSpec spec = tensorSpec(h, n, 70, 0.1f);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult nat = engine.integrate(spec);
        assertEquals(0, ref.divergedCount());
        assertArrayEquals(ref.divergedAtStep(), nat.divergedAtStep());
        double tol = bf16Tolerance(ref, 70, n);
        assertWithin(ref.initialEnergy(), nat.initialEnergy(), tol, "initial energies");
        assertWithin(ref.paths(), nat.paths(), tol, "paths");
        assertWithin(ref.finalStates(), nat.finalStates(), tol, "final states");
        assertWithin(ref.finalEnergy(), nat.finalEnergy(), tol, "final energies");
        assertWithin(ref.quantiles(), nat.quantiles(), tol, "quantiles");
        // the initial states come from Philox exactly as in the reference (no rounding on the way in)
        for (int i = 0; i < 70; i++) {
            for (int j = 0; j < 2 * n; j++) {
                assertEquals(ref.path(0, i, j), nat.path(0, i, j), "initial state " + i + "," + j);
            }
        }
    }

    /** Trajectories are independent rows of every product: the tensor kernel's results do not depend on the shape. */
    @Test
    void tensorKernelResultsDoNotDependOnShape() {
        EnsembleSpec spec = tensorSpec(32, 5, 45, 0.3f);
        EnsembleResult a = engine("emu", new IntegrationLaunch(IntegrationLaunch.Kernel.TENSOR_BF16, 32, 16, 1))
                .integrate(spec);
        EnsembleResult b = engine("emu", new IntegrationLaunch(IntegrationLaunch.Kernel.TENSOR_BF16, 128, 32, 0))
                .integrate(spec);
        assertArrayEquals(a.paths(), b.paths());
        assertArrayEquals(a.finalStates(), b.finalStates());
    }

    @Test
    void tensorKernelRefusesWhatItDoesNotServeWithAReason() {
        NativeBackend engine = engine("emu", IntegrationLaunch.of(IntegrationLaunch.Kernel.TENSOR_BF16));
        EnsembleSpec spec = spec(model("dissipative", 10, 3), 8, 10, 0f, 0, Scheme.RK4);
        NativeEngineException e = assertThrows(NativeEngineException.class, () -> engine.integrate(spec));
        assertTrue(e.getMessage().contains("tensor-core kernel integrates the general Hamiltonian"), e.getMessage());
        EnsembleSpec wide = new EnsembleSpec(new EnsembleModel.Hamiltonian(net(3, 2, 48, 48, 1)), new float[1],
                new float[1], null, 4, 0.1f, 2, 0f, 0f, 0f, 1, 0, false, EnsembleSpec.FAN, Scheme.LEAPFROG, 20);
        e = assertThrows(NativeEngineException.class, () -> engine.integrate(wide));
        assertTrue(e.getMessage().contains("hidden width h of 16, 32, 64 or 128; use the FP32 kernel"), e.getMessage());
    }
}
