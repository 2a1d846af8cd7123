package dev.engram.engine.jcuda;

import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.EnsembleModel;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.EnsembleSpec.Scheme;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalAssertions;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.RetrievalResult;
import dev.engram.engine.ffm.IntegrationLaunch;
import dev.engram.engine.ffm.NativeQuantilesTest;
import dev.engram.engine.reference.ReferenceBackend;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

import static dev.engram.engine.ffm.NativeIntegrationTest.assertFp32Agrees;
import static dev.engram.engine.ffm.NativeIntegrationTest.assertWithin;
import static dev.engram.engine.ffm.NativeIntegrationTest.bf16Tolerance;
import static dev.engram.engine.ffm.NativeIntegrationTest.model;
import static dev.engram.engine.ffm.NativeIntegrationTest.spec;
import static dev.engram.engine.ffm.NativeIntegrationTest.tensorSpec;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The jcuda engine's integration (the FP32 and tensor-core kernels) and its retrieval kernel version 2 against the
 * reference engine, with NativeIntegrationTest's and NativeTensorCoreKernelTest's tolerances (the same kernels):
 * FP32 integration within 1e-3 over 24 steps of dt = 0.05 (float32 against double), pure-noise paths within 1e-5
 * (Philox keyed by (seed, trajectory, step)), divergence flagged at the same step and frozen at the same state; the
 * tensor kernel within its bf16 bound (2·ε·D + 1e-4, see NativeIntegrationTest); retrieval within
 * {@link RetrievalAssertions}'s tolerances against the reference run on the stored (rounded) patterns.
 *
 * <p>Runs wherever a JCuda engine can start (a GPU with its driver, or the emulated driver); skipped with the reason
 * elsewhere. Sizes are small: on the emulated driver every kernel thread runs on the host.
 */
class JCudaIntegrationTest {
    private static final ReferenceBackend REFERENCE = new ReferenceBackend();
    private static final Map<String, JCudaBackend> ENGINES = new HashMap<>();

    @BeforeEach
    void available() {
        String why = JCudaBackend.unavailableReason();
        assumeTrue(why == null, () -> "jcuda engine unavailable here: " + why);
    }

    static JCudaBackend engine(JCudaStorage storage, JCudaLaunch launch, IntegrationLaunch integration) {
        return ENGINES.computeIfAbsent(storage + " " + launch + " " + integration,
                k -> JCudaBackend.create(0, storage, launch, integration));
    }

    static JCudaBackend engine(IntegrationLaunch integration) {
        return engine(JCudaStorage.F32, JCudaLaunch.AUTO, integration);
    }

    @AfterAll
    static void close() {
        ENGINES.values().forEach(JCudaBackend::close);
        ENGINES.clear();
    }

    /** Every valid (kind, scheme) on the FP32 kernel, each at another launch shape. */
    @ParameterizedTest(name = "{0} {1} block={2} maxBlocks={3}")
    @CsvSource({"hnn, LEAPFROG, 32, 1", "hnn, TAO, 64, 0", "hnn, RK4, 128, 2", "separable, STORMER_VERLET, 256, 0",
            "separable, LEAPFROG, 96, 1", "separable, TAO, 32, 0", "separable, RK4, 64, 1", "dissipative, RK4, 128, 0",
            "port, RK4, 32, 2", "port-no-u, RK4, 64, 0", "baseline, RK4, 96, 0", "baseline-u, RK4, 32, 1"})
    void fp32KernelAgreesWithTheReference(String kind, Scheme scheme, int block, int maxBlocks) {
        JCudaBackend engine = engine(new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, block, 0, maxBlocks));
        int steps = 24;
        EnsembleSpec spec = spec(model(kind, steps, 21), 70, steps, 0.1f, 5, scheme);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult jc = engine.integrate(spec);
        assertFp32Agrees(ref, jc);
    }

    /** Ranges and shapes do not change a trajectory (one thread each, noise keyed by its global index). */
    @Test
    void resultsDoNotDependOnShapeOrRange() {
        EnsembleSpec spec = spec(model("hnn", 16, 5), 70, 16, 0.2f, 4, Scheme.TAO);
        JCudaBackend whole = engine(IntegrationLaunch.AUTO);
        EnsembleResult a = whole.integrate(spec);
        AtomicLong done = new AtomicLong();
        EnsembleResult b = JCudaEnsemble.run(whole.device(), spec,
                new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 32, 0, 1), done::set, 17);
        assertArrayEquals(a.finalStates(), b.finalStates());
        assertArrayEquals(a.paths(), b.paths());
        assertArrayEquals(a.finalEnergy(), b.finalEnergy());
        assertEquals(70, done.get(), "progress reached N");
    }

    /** H = const: every path is the initial perturbation plus the Philox momentum noise alone. */
    @Test
    void noiseStreamIsPhilox() {
        int n = 5;
        MlpWeights zero = new MlpWeights(new int[] {2 * n, 3, 1}, new float[][] {new float[3 * 2 * n], new float[3]},
                new float[][] {new float[3], new float[1]});
        EnsembleSpec spec = new EnsembleSpec(new EnsembleModel.Hamiltonian(zero), new float[n], new float[n], null, 40,
                0.04f, 30, 0.3f, 0.5f, 0.7f, 0x1234_5678_9abcL, 1, true, EnsembleSpec.FAN, Scheme.LEAPFROG,
                EnsembleSpec.DEFAULT_TAO_OMEGA);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult jc = engine(IntegrationLaunch.of(IntegrationLaunch.Kernel.FP32)).integrate(spec);
        assertWithin(ref.paths(), jc.paths(), 1e-5, "pure-noise paths");
        double spread = 0;
        for (int i = 0; i < 40; i++) {
            spread = Math.max(spread, Math.abs(jc.finalState(i, n)));
        }
        assertTrue(spread > 0.5, "the noise moved p by only " + spread);
    }

    /** NativeIntegrationTest's divergence design: F(x) = λx, trajectories diverging at steps 1…5 or never. */
    @Test
    void divergenceIsFlaggedAndFrozenAsInTheReference() {
        float lambda = 1000f;
        float[] w = {lambda, 0, 0, lambda};
        MlpWeights f = new MlpWeights(new int[] {2, 2}, new float[][] {w}, new float[][] {new float[2]});
        double g = 1 + 100 + 100.0 * 100 / 2 + 100.0 * 100 * 100 / 6 + 100.0 * 100 * 100 * 100 / 24;
        int count = 12;
        float[] init = new float[count * 2];
        int[] expected = new int[count];
        for (int i = 0; i < count; i++) {
            int k = i % 6;
            double x0 = k == 0 ? 0 : Float.MAX_VALUE / 2000.0 / Math.pow(g, k - 1);
            init[2 * i] = (float) x0;
            init[2 * i + 1] = (float) (-x0);
            expected[i] = k == 0 ? -1 : k;
        }
        EnsembleSpec spec = new EnsembleSpec(new EnsembleModel.Derivative(f), null, null, init, count, 0.1f, 8, 0f, 0f,
                0f, 1, 1, true, EnsembleSpec.FAN, Scheme.RK4, EnsembleSpec.DEFAULT_TAO_OMEGA);
        EnsembleResult ref = REFERENCE.integrate(spec);
        // ranges of 5: the initial states of each range are uploaded from their own offset
        EnsembleResult jc = JCudaEnsemble.run(engine(IntegrationLaunch.AUTO).device(), spec,
                new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 32, 0, 1), done -> { }, 5);
        assertArrayEquals(expected, ref.divergedAtStep(), "the reference diverges where designed");
        assertArrayEquals(ref.divergedAtStep(), jc.divergedAtStep());
        for (int i = 0; i < ref.finalStates().length; i++) {
            float e = ref.finalStates()[i];
            assertEquals(e, jc.finalStates()[i], 1e-5 * Math.abs(e), "last finite state " + i);
        }
        for (int s = 0; s < ref.sampleSteps().length; s++) {
            for (int i = 0; i < count; i++) {
                assertEquals(Float.isNaN(ref.path(s, i, 0)), Float.isNaN(jc.path(s, i, 0)), "sample " + s + " of " + i);
            }
        }
    }

    /** The tensor-core kernel within its bf16 bound, at every hidden width and both tiles. */
    @ParameterizedTest(name = "h={0} n={1} tile={2} block={3} maxBlocks={4}")
    @CsvSource({"16, 1, 16, 32, 1", "32, 3, 32, 64, 0", "64, 6, 16, 96, 2", "128, 8, 16, 64, 0", "16, 7, 32, 128, 0"})
    void tensorKernelAgreesWithTheReferenceWithinBf16(int h, int n, int tile, int block, int maxBlocks) {
        JCudaBackend engine = engine(new IntegrationLaunch(IntegrationLaunch.Kernel.TENSOR_BF16, block, tile, maxBlocks));
        int count = 40;
        EnsembleSpec spec = tensorSpec(h, n, count, 0.1f);
        EnsembleResult ref = REFERENCE.integrate(spec);
        EnsembleResult jc = engine.integrate(spec);
        assertEquals(0, ref.divergedCount());
        assertArrayEquals(ref.divergedAtStep(), jc.divergedAtStep());
        double tol = bf16Tolerance(ref, count, n);
        assertWithin(ref.initialEnergy(), jc.initialEnergy(), tol, "initial energies");
        assertWithin(ref.paths(), jc.paths(), tol, "paths");
        assertWithin(ref.finalStates(), jc.finalStates(), tol, "final states");
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < 2 * n; j++) {
                assertEquals(ref.path(0, i, j), jc.path(0, i, j), "initial state " + i + "," + j);
            }
        }
    }

    @Test
    void tensorKernelRefusesWhatItDoesNotServe() {
        JCudaBackend engine = engine(IntegrationLaunch.of(IntegrationLaunch.Kernel.TENSOR_BF16));
        EnsembleSpec spec = spec(model("separable", 5, 1), 10, 5, 0f, 1, Scheme.LEAPFROG);
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class, () -> engine.integrate(spec));
        assertEquals("the tensor-core kernel integrates the general Hamiltonian (kind hamiltonian) only; use the FP32"
                + " kernel", e.getMessage());
    }

    /**
     * Quantiles computed on the device (cuda/quantiles.cu) equal, bit for bit, the host's over the samples the same
     * kernel writes (NativeQuantilesTest's comparison): the same order statistics, interpolated in double.
     */
    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"hnn, LEAPFROG", "port, RK4", "baseline-u, RK4"})
    void deviceQuantilesEqualTheHosts(String kind, Scheme scheme) {
        JCudaBackend engine = engine(new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 64, 0, 2));
        int steps = 12;
        EnsembleSpec spec = new EnsembleSpec(model(kind, steps, 7), new float[] {0.3f, -0.2f}, new float[] {0.1f, 0.4f},
                null, 150, 0.05f, steps, 0.3f, 0.2f, 0.2f, 5, 4, false, NativeQuantilesTest.LEVELS, scheme,
                EnsembleSpec.DEFAULT_TAO_OMEGA);
        NativeQuantilesTest.assertSameQuantiles(spec, engine.integrate(spec), engine.integrateQuantiles(spec));
    }

    /** Selected by name for integration, as the CLI's --backend jcuda does. */
    @Test
    void selectedForIntegrationByName() {
        assertEquals("jcuda", Backends.select(Capability.INTEGRATION, "jcuda").name());
    }

    private static FloatMatrix stored(FloatMatrix m, JCudaStorage storage) {
        FloatMatrix out = m.copy();
        for (long r = 0; r < m.rows(); r++) {
            for (int c = 0; c < m.cols(); c++) {
                float f = m.get(r, c);
                out.set(r, c, switch (storage) {
                    case F32 -> f;
                    case F16 -> Float.float16ToFloat(Float.floatToFloat16(f));
                    case BF16 -> Float.intBitsToFloat(StoredRows.bf16(f) << 16);
                });
            }
        }
        return out;
    }

    /**
     * Retrieval kernel version 2 (asked for, and chosen automatically) against the reference on the stored patterns:
     * every storage, d in {32, 64, 128}, V = X and a separate V, k in shared and in global memory, B within and
     * beyond a query tile, several chunks; partials merged give the whole.
     */
    @ParameterizedTest(name = "{0} M={1} d={2} B={3} beta={4} k={5} separateV={6} kernel={7} chunk={8}")
    @CsvSource({"F32, 300, 32, 5, 0.5, 10, false, 2, 128", "F16, 600, 64, 17, 4, 20, true, 2, 256",
            "BF16, 700, 128, 3, 40, 1, false, 0, 0", "F32, 257, 64, 20, 0.001, 40, true, 0, 128",
            "BF16, 129, 32, 1, 1, 0, true, 2, 0", "F16, 300, 128, 16, 2, 34, false, 2, 128"})
    void retrievalKernelTwoAgreesWithTheReference(JCudaStorage storage, long m, int d, int b, float beta, int k,
                                                  boolean separate, int kernel, int chunk) {
        long seed = m * 31 + d;
        JCudaLaunch launch = new JCudaLaunch(0, chunk, 0, kernel);
        assertEquals(2, LaunchPlan.plan(storage, d, d, !separate, k, b, m, launch, 132, 232448).version());
        JCudaBackend engine = engine(storage, launch, IntegrationLaunch.AUTO);
        try (FloatMatrix x = RandomMatrices.uniform(m, d, seed);
             FloatMatrix v = separate ? RandomMatrices.gaussian(m, d, seed + 1) : null;
             FloatMatrix q = RandomMatrices.uniform(b, d, seed + 2);
             PatternMemory mem = separate ? PatternMemory.of(x, v) : PatternMemory.of(x);
             FloatMatrix xr = stored(x, storage);
             FloatMatrix vr = separate ? stored(v, storage) : null;
             PatternMemory asStored = separate ? PatternMemory.of(xr, vr) : PatternMemory.of(xr)) {
            RetrievalParams params = new RetrievalParams(beta, k);
            RetrievalResult want = REFERENCE.retrieve(asStored, q, params);
            String what = "jcuda v2 " + storage + " M=" + m + " d=" + d + " B=" + b + " k=" + k;
            RetrievalAssertions.assertAgrees(want, engine.retrieve(mem, q, params), asStored, q, beta, what);
            long half = m / 2;
            RetrievalPartial p1 = engine.retrievePartial(mem, 0, half, q, params);
            RetrievalPartial p2 = engine.retrievePartial(mem, half, m, q, params);
            RetrievalAssertions.assertAgrees(want, p1.merge(p2).finish(), asStored, q, beta, what + " partials");
        }
    }
}
