package dev.engram.engine.jcuda;

import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.ffm.EnsembleQuantiles;
import dev.engram.engine.ffm.IntegrationLaunch;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongConsumer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoH;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuMemsetD8;

/**
 * One ensemble integration on a {@link JCudaDevice}: libengram's {@code integrate()} (cuda/engram.cu) with the host
 * part in Java ({@link IntegrationPack}) and the same kernels (cuda/integrate.cu, cuda/integrate_tc.cu,
 * cuda/quantiles.cu) launched through the driver API. The model is uploaded once; the trajectories go in ranges (so
 * the device's sample buffer stays bounded and progress is reported between ranges), each launched, downloaded and
 * handed to an {@link EnsembleRecorder}, which computes the quantiles as for the Java engines; or, for
 * {@link #quantiles}, the whole ensemble in one launch whose quantiles are computed on the device.
 */
final class JCudaEnsemble {
    /** Floats of samples one range may hold (64 MiB), as the FFM engine (NativeEnsemble). */
    private static final long RANGE_FLOATS = 1L << 24;
    /** Trajectories per range at least, unless the sample buffer bound is lower. */
    private static final long MIN_RANGE = 1L << 20;
    /** Threads per block of the quantile kernels (kQuantileThreads). */
    static final int QUANTILE_THREADS = 256;

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
        pack.grid(launch, per, device.multiprocessors);  // the launch's checks before any device work
        EnsembleRecorder rec = new EnsembleRecorder(spec, progress);
        int dim = 2 * spec.dof();
        int sampleCount = spec.sampleSteps().length;
        int coords = dim + 1;
        long total = spec.trajectories();
        float[] samples = new float[(int) (per * sampleCount * coords)];
        float[] finals = new float[(int) (per * dim)];
        int[] diverged = new int[(int) per];
        try (Session s = new Session(device, pack, launch, per)) {
            for (long first = 0; first < total; first += per) {
                long count = Math.min(per, total - first);
                int cnt = (int) count;
                s.integrate(first, count);
                device.synchronize();
                // the kernel wrote sample s of trajectory i at (s·count + i)·coords
                cuMemcpyDtoH(Pointer.to(samples), s.results, (long) sampleCount * cnt * coords * 4);
                cuMemcpyDtoH(Pointer.to(finals), s.finals(), (long) cnt * dim * 4);
                cuMemcpyDtoH(Pointer.to(diverged), s.flags(), (long) cnt * 4);
                for (int k = 0; k < sampleCount; k++) {
                    rec.sampleRange(k, (int) first, cnt, samples, k * cnt * coords);
                }
                for (int t = 0; t < cnt; t++) {
                    int i = (int) first + t;
                    if (diverged[t] >= 0) {
                        rec.markDiverged(i, diverged[t]);
                    }
                    rec.finish(i, finals, t * dim, 1);
                }
            }
        }
        return rec.result();
    }

    /**
     * The whole ensemble in one launch, its quantiles computed on the device (cuda/quantiles.cu, as libengram's
     * engram_integrate_quantiles): only S·(2n + 1)·L + 2n·L floats and the diverged count come back.
     */
    static EnsembleQuantiles quantiles(JCudaDevice device, EnsembleSpec spec, IntegrationLaunch launch) {
        double[] levels = spec.quantiles();
        if (levels.length < 1 || levels.length > 4096) {
            throw new IllegalArgumentException("the spec needs 1 to 4096 quantile levels (EnsembleSpec.quantiles), has "
                    + levels.length);
        }
        IntegrationPack pack = IntegrationPack.of(spec);
        long count = spec.trajectories();
        pack.grid(launch, count, device.multiprocessors);
        int dim = 2 * spec.dof();
        int coords = dim + 1;
        int sampleCount = spec.sampleSteps().length;
        int l = levels.length;
        long sqFloats = (long) sampleCount * coords * l;
        long fqFloats = (long) dim * l;
        float[] sq = new float[(int) sqFloats];
        float[] fq = new float[(int) fqFloats];
        long[] diverged = new long[1];
        try (Session s = new Session(device, pack, launch, count)) {
            s.integrate(0, count);
            CUdeviceptr dLevels = s.alloc(l * 8L);
            cuMemcpyHtoD(dLevels, Pointer.to(levels), l * 8L);
            CUdeviceptr quant = s.alloc(align256(sqFloats * 4) + align256(fqFloats * 4) + 8);
            CUdeviceptr dfq = quant.withByteOffset(align256(sqFloats * 4));
            CUdeviceptr dcount = quant.withByteOffset(align256(sqFloats * 4) + align256(fqFloats * 4));
            // sample columns: column s·coords + c holds data[s·count·coords + i·coords + c]; final states: one slab
            columnQuantiles(device, DeviceAddress.of(s.results), count, coords, count * coords, coords,
                    sampleCount * coords, dLevels, l, quant);
            columnQuantiles(device, DeviceAddress.of(s.finals()), count, dim, 0, dim, dim, dLevels, l, dfq);
            cuMemsetD8(dcount, (byte) 0, 8);
            long blocks = Math.min((count + QUANTILE_THREADS - 1) / QUANTILE_THREADS, 1024);
            device.launch(KernelArgs.of(KernelTable.COUNT_DIVERGED).pointer("flags", s.flags()).i64("count", count)
                    .pointer("out", dcount), blocks, 1, QUANTILE_THREADS, 0);
            device.synchronize();
            cuMemcpyDtoH(Pointer.to(sq), quant, sqFloats * 4);
            cuMemcpyDtoH(Pointer.to(fq), dfq, fqFloats * 4);
            cuMemcpyDtoH(Pointer.to(diverged), dcount, 8);
        }
        return new EnsembleQuantiles(spec.sampleSteps(), levels, sq, fq, diverged[0]);
    }

    /** One block per (column, level): out[j·L + l] is the level-l quantile of column j. */
    private static void columnQuantiles(JCudaDevice device, long data, long count, long stride, long slab, int coords,
                                        int columns, CUdeviceptr levels, int levelCount, CUdeviceptr out) {
        MemorySegment c = IntegrateArgsLayout.allocateQuantileColumns();
        c.set(JAVA_LONG, qc("data"), data);
        c.set(JAVA_LONG, qc("count"), count);
        c.set(JAVA_LONG, qc("stride"), stride);
        c.set(JAVA_LONG, qc("slab"), slab);
        c.set(JAVA_INT, qc("coords"), coords);
        c.set(JAVA_INT, qc("columns"), columns);
        long blocks = (long) columns * levelCount;
        if (blocks == 0) {
            return;
        }
        device.launch(KernelArgs.of(KernelTable.COLUMN_QUANTILES)
                .struct("c", KernelParam.QUANTILE_COLUMNS, IntegrateArgsLayout.words(c))
                .pointer("levels", levels).i32("level_count", levelCount).pointer("out", out),
                blocks, 1, QUANTILE_THREADS, 0);
    }

    private static long qc(String field) {
        return IntegrateArgsLayout.QUANTILE_COLUMNS.byteOffset(groupElement(field));
    }

    /**
     * The device buffers of one integration (the model, its inputs, initial states, the results and the FP32
     * kernel's workspace), sized for ranges of up to {@code per} trajectories, freed in reverse order on close.
     * Caller holds no context: the session enters it and leaves it on close.
     */
    private static final class Session implements AutoCloseable {
        private final JCudaDevice device;
        private final IntegrationPack pack;
        private final IntegrationLaunch launch;
        private final List<CUdeviceptr> held = new ArrayList<>();
        private final JCudaDevice.Scope scope;
        private final long samplesBytes;
        private final long finalsBytes;
        private CUdeviceptr params;
        private CUdeviceptr packed;
        private CUdeviceptr inputs;
        private CUdeviceptr init;
        private CUdeviceptr q0;
        private CUdeviceptr p0;
        CUdeviceptr results;
        private CUdeviceptr ws;

        Session(JCudaDevice device, IntegrationPack pack, IntegrationLaunch launch, long per) {
            this.device = device;
            this.pack = pack;
            this.launch = launch;
            EnsembleSpec spec = pack.spec;
            int n = spec.dof();
            int dim = 2 * n;
            samplesBytes = align256((long) spec.sampleSteps().length * per * (dim + 1) * 4);
            finalsBytes = align256(per * dim * 4);
            long flagsBytes = align256(per * 4);
            IntegrationPack.Grid grid = pack.grid(launch, per, device.multiprocessors);
            scope = device.enter();
            try {
                params = upload(pack.params);
                if (grid.kernel() != KernelTable.INTEGRATE_FP32) {
                    byte[] image = TensorWeights.pack(pack.nets.get(0), n);
                    packed = alloc(image.length);
                    cuMemcpyHtoD(packed, Pointer.to(image), image.length);
                }
                float[] u = spec.model().inputs();
                inputs = u == null ? null : upload(u);
                init = spec.initialStates() == null ? null : alloc(per * dim * 4);
                q0 = spec.initialStates() == null ? upload(spec.q0()) : null;
                p0 = spec.initialStates() == null ? upload(spec.p0()) : null;
                results = alloc(samplesBytes + finalsBytes + flagsBytes);
                // the grid grows with the range, so the first (largest) range's workspace serves every range
                ws = grid.kernel() == KernelTable.INTEGRATE_FP32
                        ? alloc((long) grid.blocks() * grid.threads() * pack.scratch.get("floats") * 4) : null;
            } catch (RuntimeException e) {
                close();
                throw e;
            }
        }

        CUdeviceptr finals() {
            return results.withByteOffset(samplesBytes);
        }

        CUdeviceptr flags() {
            return results.withByteOffset(samplesBytes + finalsBytes);
        }

        /** Launches the integration of trajectories [first, first + count) (count at most the session's range). */
        void integrate(long first, long count) {
            int dim = 2 * pack.spec.dof();
            if (init != null) {
                float[] rows = Arrays.copyOfRange(pack.spec.initialStates(), (int) (first * dim),
                        (int) ((first + count) * dim));
                cuMemcpyHtoD(init, Pointer.to(rows), count * dim * 4);
            }
            IntegrationPack.Grid g = pack.grid(launch, count, device.multiprocessors);
            long r = DeviceAddress.of(results);
            IntegrationPack.Buffers b = new IntegrationPack.Buffers(DeviceAddress.of(params), DeviceAddress.of(inputs),
                    DeviceAddress.of(init), DeviceAddress.of(q0), DeviceAddress.of(p0), r, r + samplesBytes,
                    r + samplesBytes + finalsBytes, DeviceAddress.of(ws));
            KernelArgs args = KernelArgs.of(g.kernel())
                    .struct("a", KernelParam.INTEGRATE_ARGS, IntegrateArgsLayout.words(pack.image(first, count, b)));
            if (g.kernel() != KernelTable.INTEGRATE_FP32) {
                args.pointer("packed", packed);
            }
            device.launch(args, g.blocks(), 1, g.threads(), g.shared());
        }

        CUdeviceptr alloc(long bytes) {
            CUdeviceptr p = new CUdeviceptr();
            cuMemAlloc(p, Math.max(bytes, 4));
            held.add(p);
            return p;
        }

        private CUdeviceptr upload(float[] v) {
            CUdeviceptr p = alloc(v.length * 4L);
            if (v.length > 0) {
                cuMemcpyHtoD(p, Pointer.to(v), v.length * 4L);
            }
            return p;
        }

        @Override
        public void close() {
            try {
                for (int i = held.size() - 1; i >= 0; i--) {
                    cuMemFree(held.get(i));
                }
                held.clear();
            } finally {
                scope.close();
            }
        }
    }

    private static long align256(long n) {
        return (n + 255) & ~255L;
    }
}
