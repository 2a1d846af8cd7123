package dev.engram.engine.ffm;

import dev.engram.engine.EnsembleModel;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.EnsembleSpec.Scheme;
import dev.engram.engine.MlpWeights;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * engram_integrate_quantiles (quantiles computed on the device by radix select, cuda/quantiles.cu) against the host
 * computation: EnsembleRecorder's quantiles of the samples that engram_integrate downloads, and the same type-7
 * quantile over the downloaded final states. Both see the same kernel's output, so they must agree bit for bit:
 * the device selects the same order statistics and interpolates in double as the host does. Runs on the emulator
 * (and the GPU when present).
 */
public class NativeQuantilesTest {
    static NativeBackend engine(String variant, IntegrationLaunch launch) {
        return NativeIntegrationTest.engine(variant, launch);
    }

    /** The host's type-7 quantile of one column (NaN left out), as EnsembleRecorder.quantile computes it. */
    public static float quantile(float[] column, double level) {
        float[] kept = new float[column.length];
        int m = 0;
        for (float f : column) {
            if (!Float.isNaN(f)) {
                kept[m++] = f;
            }
        }
        Arrays.sort(kept, 0, m);
        if (m == 0) {
            return Float.NaN;
        }
        double pos = level * (m - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, m - 1);
        double frac = pos - lo;
        return (float) (kept[lo] + frac * (kept[hi] - kept[lo]));
    }

    public static void assertSameQuantiles(EnsembleSpec spec, EnsembleResult host, EnsembleQuantiles device) {
        assertArrayEquals(host.quantiles(), device.sampleQuantiles(), "sample quantiles, bit for bit");
        int dim = 2 * spec.dof();
        double[] levels = spec.quantiles();
        int count = (int) spec.trajectories();
        for (int c = 0; c < dim; c++) {
            float[] column = new float[count];
            for (int i = 0; i < count; i++) {
                column[i] = host.finalStates()[i * dim + c];
            }
            for (int l = 0; l < levels.length; l++) {
                assertEquals(Float.floatToIntBits(quantile(column, levels[l])),
                        Float.floatToIntBits(device.finalState(c, l)),
                        "final-state quantile of coordinate " + c + " at level " + levels[l]);
            }
        }
        assertEquals(host.divergedCount(), device.divergedCount());
        assertArrayEquals(spec.sampleSteps(), device.sampleSteps());
    }

    public static final double[] LEVELS = {0, 0.05, 0.25, 0.5, 0.75, 0.95, 1, 1.0 / 3};

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource({"emu, hnn, LEAPFROG", "emu, separable, STORMER_VERLET", "emu, port, RK4", "emu, baseline-u, RK4",
            "cuda, hnn, LEAPFROG", "cuda, port, RK4"})
    void deviceQuantilesEqualTheHostsOverTheSameSamples(String variant, String kind, Scheme scheme) {
        NativeBackend engine = engine(variant, new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 64, 0, 2));
        int steps = 20;
        EnsembleModel model = NativeIntegrationTest.model(kind, steps, 7);
        EnsembleSpec spec = new EnsembleSpec(model, new float[] {0.3f, -0.2f}, new float[] {0.1f, 0.4f}, null, 333,
                0.05f, steps, 0.3f, 0.2f, 0.2f, 5, 6, false, LEVELS, scheme, EnsembleSpec.DEFAULT_TAO_OMEGA);
        EnsembleResult host = engine.integrate(spec);
        EnsembleQuantiles device = engine.integrateQuantiles(spec);
        assertSameQuantiles(spec, host, device);
        assertTrue(device.sample(0, 0, 0) < device.sample(0, 0, 6), "the 0 and 1 quantiles differ: a real spread");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"emu", "cuda"})
    void tensorKernelQuantilesEqualTheHosts(String variant) {
        NativeBackend engine = engine(variant, new IntegrationLaunch(IntegrationLaunch.Kernel.TENSOR_BF16, 64, 16, 0));
        MlpWeights h = NativeIntegrationTest.net(11, 2, 16, 16, 1);
        EnsembleSpec spec = new EnsembleSpec(new EnsembleModel.Hamiltonian(h), new float[] {0.4f},
                new float[] {-0.1f}, null, 77, 0.05f, 15, 0.5f, 0.5f, 0.1f, 3, 4, false, LEVELS, Scheme.LEAPFROG,
                EnsembleSpec.DEFAULT_TAO_OMEGA);
        assertSameQuantiles(spec, engine.integrate(spec), engine.integrateQuantiles(spec));
    }

    /** Diverged trajectories: their NaN samples are left out of the sample quantiles, their last states kept. */
    @ParameterizedTest(name = "{0}")
    @CsvSource({"emu", "cuda"})
    void divergedTrajectoriesAreLeftOutOfTheSampleQuantiles(String variant) {
        NativeBackend engine = engine(variant, new IntegrationLaunch(IntegrationLaunch.Kernel.FP32, 32, 0, 1));
        float lambda = 1000f;
        float[] w = {lambda, 0, 0, lambda};
        MlpWeights f = new MlpWeights(new int[] {2, 2}, new float[][] {w}, new float[][] {new float[2]});
        double g = 1 + 100 + 100.0 * 100 / 2 + 100.0 * 100 * 100 / 6 + 100.0 * 100 * 100 * 100 / 24;
        int count = 12;
        float[] init = new float[count * 2];
        for (int i = 0; i < count; i++) {
            int k = i % 6;  // diverges at step k (0: never), as in NativeIntegrationTest
            double x0 = k == 0 ? 0 : Float.MAX_VALUE / 2000.0 / Math.pow(g, k - 1);
            init[2 * i] = (float) x0;
            init[2 * i + 1] = (float) (-x0);
        }
        EnsembleSpec spec = new EnsembleSpec(new EnsembleModel.Derivative(f), null, null, init, count, 0.1f, 8, 0f,
                0f, 0f, 1, 1, false, LEVELS, Scheme.RK4, EnsembleSpec.DEFAULT_TAO_OMEGA);
        EnsembleResult host = engine.integrate(spec);
        EnsembleQuantiles device = engine.integrateQuantiles(spec);
        assertEquals(10, device.divergedCount());
        assertSameQuantiles(spec, host, device);
        assertEquals(0f, device.sample(8, 0, 3), "after step 5 only the x = 0 trajectories are left");
    }

    /** The README's example (emulated, smaller): the median final q from the device equals the host's. */
    @org.junit.jupiter.api.Test
    void readmeExample() {
        NativeTestSupport.assumeEmu();
        MlpWeights h = NativeIntegrationTest.net(3, 2, 16, 16, 1);
        float[] q0 = {0.5f};
        float[] p0 = {0f};
        try (NativeBackend gpu = NativeBackend.emulated()
                .with(IntegrationLaunch.of(IntegrationLaunch.Kernel.TENSOR_BF16))) {
            EnsembleSpec spec = EnsembleSpec.of(h, q0, p0, 2_000, 0.01f, 20, 0.1f, 0.1f, 0.05f, 7, 10);
            EnsembleResult r = gpu.integrate(spec);
            EnsembleQuantiles q = gpu.integrateQuantiles(spec);
            float medianFinalQ = q.finalState(0, 2);
            float[] column = new float[2_000];
            for (int i = 0; i < column.length; i++) {
                column[i] = r.finalStates()[2 * i];
            }
            assertEquals(quantile(column, 0.5), medianFinalQ);
            assertArrayEquals(r.quantiles(), q.sampleQuantiles());
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"emu"})
    void aSpecWithoutLevelsIsRefused(String variant) {
        NativeBackend engine = engine(variant, IntegrationLaunch.AUTO);
        EnsembleSpec spec = new EnsembleSpec(NativeIntegrationTest.model("hnn", 5, 1), new float[] {0.3f, -0.2f},
                new float[] {0.1f, 0.4f}, null, 10, 0.05f, 5, 0.1f, 0.1f, 0f, 1, 0, false, new double[0],
                Scheme.LEAPFROG, EnsembleSpec.DEFAULT_TAO_OMEGA);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> engine.integrateQuantiles(spec));
        assertEquals("the spec has no quantile levels (EnsembleSpec.quantiles is empty)", e.getMessage());
    }
}
