package dev.engram.engine.ffm;

import dev.engram.engine.EnsembleModel;
import dev.engram.engine.EnsembleRecorder;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.util.List;
import java.util.function.LongConsumer;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One ensemble integration through libengram's {@code engram_integrate} (cuda/engram.h): the spec as the C structs
 * {@code engram_ensemble} and {@code engram_mlp}, the trajectories in ranges (so the device's sample buffer stays
 * bounded and progress is reported between ranges), and the kernel's samples handed to an {@link EnsembleRecorder},
 * which computes the quantiles as for the Java engines.
 */
final class NativeEnsemble {
    /** engram_mlp. */
    static final StructLayout MLP = MemoryLayout.structLayout(ADDRESS.withName("widths"), ADDRESS.withName("params"),
            JAVA_INT.withName("layers"), JAVA_INT.withName("reserved"));
    /** engram_ensemble. */
    static final StructLayout ENSEMBLE = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(3, MLP).withName("nets"),
            ADDRESS.withName("inputs"), ADDRESS.withName("initial_states"), ADDRESS.withName("q0"),
            ADDRESS.withName("p0"), JAVA_LONG.withName("trajectories"), JAVA_LONG.withName("seed"),
            JAVA_DOUBLE.withName("tao_omega"), JAVA_FLOAT.withName("dt"), JAVA_FLOAT.withName("sigma_q"),
            JAVA_FLOAT.withName("sigma_p"), JAVA_FLOAT.withName("noise"), JAVA_INT.withName("kind"),
            JAVA_INT.withName("scheme"), JAVA_INT.withName("dof"), JAVA_INT.withName("input_count"),
            JAVA_INT.withName("steps"), JAVA_INT.withName("sample_every"), JAVA_INT.withName("sample_count"),
            JAVA_INT.withName("reserved"));
    /** engram_integrate_launch. */
    static final StructLayout LAUNCH = MemoryLayout.structLayout(JAVA_INT.withName("kernel"),
            JAVA_INT.withName("block_threads"), JAVA_INT.withName("tile"), JAVA_INT.withName("max_blocks"));
    /** Floats of samples one range may hold (64 MiB): bounds device and host buffers per call. */
    private static final long RANGE_FLOATS = 1L << 24;
    /** Trajectories per range at least (a GPU needs about 10⁵ in flight), unless the sample buffer bound is lower. */
    private static final long MIN_RANGE = 1L << 20;

    private NativeEnsemble() {
    }

    /** engram_model_kind and the networks in engram_ensemble.nets order. */
    private record Nets(int kind, List<MlpWeights> nets) {
    }

    private static Nets nets(EnsembleModel model) {
        return switch (model) {
            case EnsembleModel.Hamiltonian k -> new Nets(0, List.of(k.h()));
            case EnsembleModel.Separable k -> new Nets(1, List.of(k.kinetic(), k.potential()));
            case EnsembleModel.Dissipative k -> new Nets(2, List.of(k.h(), k.damping()));
            case EnsembleModel.PortHamiltonian k -> new Nets(3, List.of(k.h(), k.damping(), k.inputMap()));
            case EnsembleModel.Derivative k -> new Nets(4, List.of(k.f()));
        };
    }

    /** W_0, b_0, W_1, b_1, … of one network, as engram_mlp.params. */
    static float[] packed(MlpWeights w) {
        float[][] ws = w.weights();
        float[][] bs = w.biases();
        int total = 0;
        for (int l = 0; l < ws.length; l++) {
            total += ws[l].length + bs[l].length;
        }
        float[] out = new float[total];
        int at = 0;
        for (int l = 0; l < ws.length; l++) {
            System.arraycopy(ws[l], 0, out, at, ws[l].length);
            at += ws[l].length;
            System.arraycopy(bs[l], 0, out, at, bs[l].length);
            at += bs[l].length;
        }
        return out;
    }

    private static MemorySegment floats(Arena arena, float[] v) {
        return v == null ? MemorySegment.NULL : arena.allocateFrom(JAVA_FLOAT, v);
    }

    /** The spec as an engram_ensemble in {@code arena}. */
    static MemorySegment struct(EnsembleSpec spec, Arena arena) {
        EnsembleModel model = spec.model();
        Nets nets = nets(model);
        MemorySegment e = arena.allocate(ENSEMBLE);
        for (int s = 0; s < nets.nets().size(); s++) {
            MlpWeights w = nets.nets().get(s);
            long base = ENSEMBLE.byteOffset(groupElement("nets"), sequenceElement(s));
            e.set(ADDRESS, base + MLP.byteOffset(groupElement("widths")), arena.allocateFrom(JAVA_INT, w.widths()));
            e.set(ADDRESS, base + MLP.byteOffset(groupElement("params")), floats(arena, packed(w)));
            e.set(JAVA_INT, base + MLP.byteOffset(groupElement("layers")), w.layers());
        }
        set(e, "inputs", floats(arena, model.inputs()));
        set(e, "initial_states", floats(arena, spec.initialStates()));
        set(e, "q0", floats(arena, spec.q0()));
        set(e, "p0", floats(arena, spec.p0()));
        e.set(JAVA_LONG, off("trajectories"), spec.trajectories());
        e.set(JAVA_LONG, off("seed"), spec.seed());
        e.set(JAVA_DOUBLE, off("tao_omega"), spec.taoOmega());
        e.set(JAVA_FLOAT, off("dt"), spec.dt());
        e.set(JAVA_FLOAT, off("sigma_q"), spec.sigmaQ());
        e.set(JAVA_FLOAT, off("sigma_p"), spec.sigmaP());
        e.set(JAVA_FLOAT, off("noise"), spec.noise());
        e.set(JAVA_INT, off("kind"), nets.kind());
        e.set(JAVA_INT, off("scheme"), spec.scheme().ordinal());
        e.set(JAVA_INT, off("dof"), spec.dof());
        e.set(JAVA_INT, off("input_count"), model.inputCount());
        e.set(JAVA_INT, off("steps"), spec.steps());
        e.set(JAVA_INT, off("sample_every"), spec.sampleEvery());
        e.set(JAVA_INT, off("sample_count"), spec.sampleSteps().length);
        return e;
    }

    private static long off(String field) {
        return ENSEMBLE.byteOffset(groupElement(field));
    }

    private static void set(MemorySegment e, String field, MemorySegment v) {
        e.set(ADDRESS, off(field), v);
    }

    static MemorySegment launch(IntegrationLaunch l, Arena arena) {
        MemorySegment s = arena.allocate(LAUNCH);
        s.set(JAVA_INT, LAUNCH.byteOffset(groupElement("kernel")), l.kernel().code);
        s.set(JAVA_INT, LAUNCH.byteOffset(groupElement("block_threads")), l.blockThreads());
        s.set(JAVA_INT, LAUNCH.byteOffset(groupElement("tile")), l.tile());
        s.set(JAVA_INT, LAUNCH.byteOffset(groupElement("max_blocks")), l.maxBlocks());
        return s;
    }

    /** Trajectories per engram_integrate call for this spec. */
    static long rangeSize(EnsembleSpec spec) {
        long perTrajectory = (long) spec.sampleSteps().length * (2L * spec.dof() + 1);
        long byBuffer = Math.max(1, RANGE_FLOATS / perTrajectory);
        long wanted = Math.max(MIN_RANGE, (spec.trajectories() + 15) / 16);
        return Math.min(spec.trajectories(), Math.min(byBuffer, wanted));
    }

    /**
     * The whole ensemble in one engram_integrate_quantiles call: the device integrates it and computes the quantiles
     * of every sample column and of the final states itself, so only S·(2n + 1)·L + 2n·L floats come back.
     */
    static EnsembleQuantiles quantiles(NativeLibrary lib, EnsembleSpec spec, IntegrationLaunch launch) {
        double[] levels = spec.quantiles();
        if (levels.length == 0) {
            throw new IllegalArgumentException("the spec has no quantile levels (EnsembleSpec.quantiles is empty)");
        }
        int dim = 2 * spec.dof();
        int sampleCount = spec.sampleSteps().length;
        int count = levels.length;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = struct(spec, arena);
            MemorySegment l = launch(launch, arena);
            MemorySegment lv = arena.allocateFrom(JAVA_DOUBLE, levels);
            MemorySegment sq = arena.allocate(JAVA_FLOAT, (long) sampleCount * (dim + 1) * count);
            MemorySegment fq = arena.allocate(JAVA_FLOAT, (long) dim * count);
            MemorySegment dc = arena.allocate(JAVA_LONG);
            long total = spec.trajectories();
            NativeCall.run("engram_integrate_quantiles", c -> {
                c.check((int) lib.integrateQuantiles.invokeExact(e, 0L, total, l, lv, count, sq, fq, dc, c.err(),
                        c.errCap()));
                return null;
            });
            return new EnsembleQuantiles(spec.sampleSteps(), levels, sq.toArray(JAVA_FLOAT), fq.toArray(JAVA_FLOAT),
                    dc.get(JAVA_LONG, 0));
        }
    }

    /** Integrates the whole ensemble with {@code lib}, range after range. */
    static EnsembleResult run(NativeLibrary lib, EnsembleSpec spec, IntegrationLaunch launch, LongConsumer progress) {
        return run(lib, spec, launch, progress, rangeSize(spec));
    }

    /** The same with {@code per} trajectories per call (tests split small ensembles into many ranges). */
    static EnsembleResult run(NativeLibrary lib, EnsembleSpec spec, IntegrationLaunch launch, LongConsumer progress,
                              long per) {
        EnsembleRecorder rec = new EnsembleRecorder(spec, progress);
        int n = spec.dof();
        int dim = 2 * n;
        int sampleCount = spec.sampleSteps().length;
        long total = spec.trajectories();
        float[] samples = new float[(int) (per * sampleCount * (dim + 1))];
        float[] finals = new float[(int) (per * dim)];
        int[] diverged = new int[(int) per];
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment e = struct(spec, arena);
            MemorySegment l = launch(launch, arena);
            MemorySegment dSamples = arena.allocate(JAVA_FLOAT, samples.length);
            MemorySegment dFinals = arena.allocate(JAVA_FLOAT, finals.length);
            MemorySegment dDiverged = arena.allocate(JAVA_INT, diverged.length);
            for (long first = 0; first < total; first += per) {
                long count = Math.min(per, total - first);
                long from = first;
                NativeCall.run("engram_integrate", c -> {
                    c.check((int) lib.integrate.invokeExact(e, from, count, l, dSamples, dFinals, dDiverged, c.err(),
                            c.errCap()));
                    return null;
                });
                int cnt = (int) count;
                int coords = dim + 1;
                MemorySegment.copy(dSamples, JAVA_FLOAT, 0, samples, 0, sampleCount * cnt * coords);
                MemorySegment.copy(dFinals, JAVA_FLOAT, 0, finals, 0, cnt * dim);
                MemorySegment.copy(dDiverged, JAVA_INT, 0, diverged, 0, cnt);
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
        }
        return rec.result();
    }
}
