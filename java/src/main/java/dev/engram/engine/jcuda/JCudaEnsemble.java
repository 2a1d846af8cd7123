package dev.engram.engine.jcuda;

import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.ffm.IntegrationLaunch;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;

/**
 * One ensemble integration on a {@link JCudaDevice}: libengram's {@code integrate()} (cuda/engram.cu) with the host
 * part in Java ({@link IntegrationPack}) and the same kernels (cuda/integrate.cu, cuda/integrate_tc.cu) launched
 * through the driver API. The model is uploaded once; the trajectories go in ranges (so the device's sample buffer
 * stays bounded and progress is reported between ranges), each launched, downloaded and handed to an
 * {@link EnsembleRecorder}, which computes the quantiles as for the Java engines.
 */
final class JCudaEnsemble {
    /** Floats of samples one range may hold (64 MiB), as the FFM engine (NativeEnsemble). */
    private static final long RANGE_FLOATS = 1L << 24;
    /** Trajectories per range at least, unless the sample buffer bound is lower. */
    private static final long MIN_RANGE = 1L << 20;

    private JCudaEnsemble() {
    }

    /** Trajectories per launch for this spec (as NativeEnsemble.rangeSize). */
    static long rangeSize(EnsembleSpec spec) {
        long perTrajectory = (long) spec.sampleSteps().length * (2L * spec.dof() + 1);
        long byBuffer = Math.max(1, RANGE_FLOATS / perTrajectory);
        long wanted = Math.max(MIN_RANGE, (spec.trajectories() + 15) / 16);
        return Math.min(spec.trajectories(), Math.min(byBuffer, wanted));
    }

    static EnsembleResult run(JCudaDevice device, EnsembleSpec spec, IntegrationLaunch launch, LongConsumer progress) {
        return run(device, spec, launch, progress, rangeSize(spec));
    }

    /** The same with {@code per} trajectories per launch (tests split small ensembles into many ranges). */
    static EnsembleResult run(JCudaDevice device, EnsembleSpec spec, IntegrationLaunch launch, LongConsumer progress,
                              long per) {
        IntegrationPack pack = IntegrationPack.of(spec);
        IntegrationPack.Grid grid = pack.grid(launch, per, device.multiprocessors);  // checks before any device work
        EnsembleRecorder rec = new EnsembleRecorder(spec, progress);
        int n = spec.dof();
        int dim = 2 * n;
        int sampleCount = spec.sampleSteps().length;
        int coords = dim + 1;
        long total = spec.trajectories();
        float[] samples = new float[(int) (per * sampleCount * coords)];
        float[] finals = new float[(int) (per * dim)];
        int[] diverged = new int[(int) per];
        long samplesBytes = align256(samples.length * 4L);
        long finalsBytes = align256(finals.length * 4L);
        long flagsBytes = align256(diverged.length * 4L);
        List<CUdeviceptr> held = new ArrayList<>();
        try (JCudaDevice.Scope ignored = device.enter()) {
            CUdeviceptr params = upload(held, pack.params);
            CUdeviceptr packed = null;
            if (grid.kernel() != KernelTable.INTEGRATE_FP32) {
                byte[] image = TensorWeights.pack(pack.nets.get(0), n);
                packed = alloc(held, image.length);
                cuMemcpyHtoD(packed, Pointer.to(image), image.length);
            }
            float[] inputs = spec.model().inputs();
            CUdeviceptr dInputs = inputs == null ? null : upload(held, inputs);
            CUdeviceptr dInit = spec.initialStates() == null ? null : alloc(held, per * dim * 4);
            CUdeviceptr dq0 = spec.initialStates() == null ? upload(held, spec.q0()) : null;
            CUdeviceptr dp0 = spec.initialStates() == null ? upload(held, spec.p0()) : null;
            CUdeviceptr results = alloc(held, samplesBytes + finalsBytes + flagsBytes);
            CUdeviceptr ws = grid.kernel() == KernelTable.INTEGRATE_FP32
                    ? alloc(held, (long) grid.blocks() * grid.threads() * pack.scratch.get("floats") * 4) : null;
            for (long first = 0; first < total; first += per) {
                long count = Math.min(per, total - first);
                int cnt = (int) count;
                if (dInit != null) {
                    float[] rows = java.util.Arrays.copyOfRange(spec.initialStates(), (int) (first * dim),
                            (int) ((first + count) * dim));
                    cuMemcpyHtoD(dInit, Pointer.to(rows), count * dim * 4);
                }
                // the range's own grid (never more blocks than the workspace was sized for: per >= count)
                IntegrationPack.Grid g = pack.grid(launch, count, device.multiprocessors);
                IntegrationPack.Buffers b = new IntegrationPack.Buffers(DeviceAddress.of(params),
                        DeviceAddress.of(dInputs), DeviceAddress.of(dInit), DeviceAddress.of(dq0),
                        DeviceAddress.of(dp0), DeviceAddress.of(results),
                        DeviceAddress.of(results) + samplesBytes, DeviceAddress.of(results) + samplesBytes + finalsBytes,
                        DeviceAddress.of(ws));
                long[] image = IntegrateArgsLayout.words(pack.image(first, count, b));
                KernelArgs args = KernelArgs.of(g.kernel()).struct("a", KernelParam.INTEGRATE_ARGS, image);
                if (g.kernel() != KernelTable.INTEGRATE_FP32) {
                    args.pointer("packed", packed);
                }
                device.launch(args, g.blocks(), 1, g.threads(), g.shared());
                device.synchronize();
                // the kernel wrote sample s of trajectory i at (s·count + i)·coords
                cuMemcpyDtoH(Pointer.to(samples), results, (long) sampleCount * cnt * coords * 4);
                cuMemcpyDtoH(Pointer.to(finals), results.withByteOffset(samplesBytes), (long) cnt * dim * 4);
                cuMemcpyDtoH(Pointer.to(diverged), results.withByteOffset(samplesBytes + finalsBytes), (long) cnt * 4);
                for (int s = 0; s < sampleCount; s++) {
                    rec.sampleRange(s, (int) first, cnt, samples, s * cnt * coords);
                }
                for (int t = 0; t < cnt; t++) {
                    int i = (int) first + t;
                    if (diverged[t] >= 0) {
                        rec.markDiverged(i, diverged[t]);
                    }
                    rec.finish(i, finals, t * dim, 1);
                }
            }
        } finally {
            if (!held.isEmpty()) {
                try (JCudaDevice.Scope ignored = device.enter()) {
                    for (int i = held.size() - 1; i >= 0; i--) {
                        cuMemFree(held.get(i));
                    }
                }
            }
        }
        return rec.result();
    }

    private static long align256(long n) {
        return (n + 255) & ~255L;
    }

    private static CUdeviceptr alloc(List<CUdeviceptr> held, long bytes) {
        CUdeviceptr p = new CUdeviceptr();
        cuMemAlloc(p, Math.max(bytes, 4));
        held.add(p);
        return p;
    }

    private static CUdeviceptr upload(List<CUdeviceptr> held, float[] v) {
        CUdeviceptr p = alloc(held, v.length * 4L);
        if (v.length > 0) {
            cuMemcpyHtoD(p, Pointer.to(v), v.length * 4L);
        }
        return p;
    }
}
