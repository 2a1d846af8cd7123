package dev.engram.engine.jcuda;

import dev.engram.engine.EnsembleModel;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.ffm.IntegrationLaunch;

import java.lang.foreign.MemorySegment;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.MemoryLayout.PathElement.sequenceElement;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * What libengram's {@code integrate()} (cuda/engram.cu) prepares on the host before launching an integration kernel,
 * done in Java for the JCuda engine: the checks the spec's own validation leaves to the native side (its limits), the
 * networks' parameters packed one after another with the offsets the kernels index by ({@code NetDesc}), the FP32
 * kernel's per-thread workspace offsets ({@code Scratch}), the scalars ({@code tao_c}, {@code tao_s}, {@code amp}),
 * the launch grid, and finally the {@code IntegrateArgs} image ({@link IntegrateArgsLayout}). Pure arithmetic: tested
 * without a device.
 */
final class IntegrationPack {
    /** Largest network width (kMaxNetWidth). */
    static final int MAX_NET_WIDTH = 1 << 16;
    /** Largest n and m. */
    static final int MAX_DOF = 4096;
    /** Order of engram::Scratch's offsets as integrate() takes them from the workspace. */
    private static final List<String> SCRATCH_TAKE_ORDER = List.of("delta", "g", "x", "prev", "grad", "field", "tmp",
            "ksum", "copy", "force", "aux", "inforce");

    final EnsembleSpec spec;
    /** engram_model_kind. */
    final int kind;
    final List<MlpWeights> nets;
    /** Every network's W_l then b_l, in nets order (IntegrateArgs.params). */
    final float[] params;
    /** Per net: widths, w_off, b_off, act_off (NetDesc), in floats. */
    final int[][] widths;
    final int[][] wOff;
    final int[][] bOff;
    final int[][] actOff;
    /** Scratch offsets by name (floats per thread), and "floats": the total. */
    final java.util.Map<String, Integer> scratch;

    private IntegrationPack(EnsembleSpec spec, int kind, List<MlpWeights> nets) {
        this.spec = spec;
        this.kind = kind;
        this.nets = nets;
        int n = spec.dof();
        int m = spec.model().inputCount();
        int dim = 2 * n;
        widths = new int[nets.size()][];
        wOff = new int[nets.size()][];
        bOff = new int[nets.size()][];
        actOff = new int[nets.size()][];
        long total = 0;
        for (MlpWeights w : nets) {
            for (int l = 0; l < w.layers(); l++) {
                total += (long) w.widths()[l + 1] * (w.widths()[l] + 1);
            }
        }
        if (total > 1L << 30) {
            throw new IllegalArgumentException("the model has too many parameters (" + total + ", at most 2^30)");
        }
        params = new float[(int) total];
        int at = 0;
        int act = 0;  // running workspace offset of hidden activations
        int maxWidth = dim + m;
        for (int s = 0; s < nets.size(); s++) {
            MlpWeights w = nets.get(s);
            int layers = w.layers();
            widths[s] = w.widths().clone();
            wOff[s] = new int[layers];
            bOff[s] = new int[layers];
            actOff[s] = new int[layers];
            for (int width : widths[s]) {
                maxWidth = Math.max(maxWidth, width);
            }
            for (int l = 0; l < layers; l++) {
                int rows = widths[s][l + 1];
                wOff[s][l] = at;
                System.arraycopy(w.weights()[l], 0, params, at, w.weights()[l].length);
                at += w.weights()[l].length;
                bOff[s][l] = at;
                System.arraycopy(w.biases()[l], 0, params, at, rows);
                at += rows;
                if (l + 1 < layers) {
                    actOff[s][l] = act;
                    act += rows;
                }
            }
        }
        java.util.Map<String, Integer> sc = new java.util.LinkedHashMap<>();
        int ws = act;
        int[] sizes = {maxWidth, maxWidth, dim, dim, dim, dim, dim, dim, dim, n, Math.max(dim + m, n),
                Math.max(1, n * m)};
        for (int i = 0; i < sizes.length; i++) {
            sc.put(SCRATCH_TAKE_ORDER.get(i), ws);
            ws += sizes[i];
        }
        sc.put("floats", ws);
        scratch = java.util.Collections.unmodifiableMap(sc);
    }

    /**
     * The packing of {@code spec}'s model.
     *
     * @throws IllegalArgumentException when the model exceeds the kernels' limits (n, m, layers, widths, parameters)
     */
    static IntegrationPack of(EnsembleSpec spec) {
        EnsembleModel model = spec.model();
        int kind;
        List<MlpWeights> nets;
        switch (model) {
            case EnsembleModel.Hamiltonian k -> {
                kind = 0;
                nets = List.of(k.h());
            }
            case EnsembleModel.Separable k -> {
                kind = 1;
                nets = List.of(k.kinetic(), k.potential());
            }
            case EnsembleModel.Dissipative k -> {
                kind = 2;
                nets = List.of(k.h(), k.damping());
            }
            case EnsembleModel.PortHamiltonian k -> {
                kind = 3;
                nets = List.of(k.h(), k.damping(), k.inputMap());
            }
            case EnsembleModel.Derivative k -> {
                kind = 4;
                nets = List.of(k.f());
            }
        }
        if (spec.dof() > MAX_DOF) {
            throw new IllegalArgumentException("dof must be in [1, " + MAX_DOF + "] for the jcuda engine, got "
                    + spec.dof());
        }
        if (model.inputCount() > MAX_DOF) {
            throw new IllegalArgumentException("input_count must be <= " + MAX_DOF + " for the jcuda engine, got "
                    + model.inputCount());
        }
        String[] names = netNames(kind);
        for (int s = 0; s < nets.size(); s++) {
            MlpWeights w = nets.get(s);
            if (w.layers() > IntegrateArgsLayout.MAX_NET_LAYERS) {
                throw new IllegalArgumentException("nets[" + s + "] (" + names[s] + "): layers must be in [1, "
                        + IntegrateArgsLayout.MAX_NET_LAYERS + "], got " + w.layers());
            }
            long count = 0;
            for (int l = 0; l <= w.layers(); l++) {
                if (w.widths()[l] > MAX_NET_WIDTH) {
                    throw new IllegalArgumentException("nets[" + s + "] (" + names[s] + "): widths[" + l
                            + "] must be in [1, " + MAX_NET_WIDTH + "], got " + w.widths()[l]);
                }
                if (l < w.layers()) {
                    count += (long) w.widths()[l + 1] * (w.widths()[l] + 1);
                }
            }
            if (count > 1L << 28) {
                throw new IllegalArgumentException("nets[" + s + "] (" + names[s] + ") has " + count
                        + " parameters (at most 2^28)");
            }
        }
        return new IntegrationPack(spec, kind, nets);
    }

    private static String[] netNames(int kind) {
        return switch (kind) {
            case 0 -> new String[] {"H"};
            case 1 -> new String[] {"T", "V"};
            case 2 -> new String[] {"H", "R"};
            case 3 -> new String[] {"H", "R", "G"};
            default -> new String[] {"F"};
        };
    }

    /** Null when the tensor-core kernel serves this model ({@code tensor_kernel_supports}), else why not. */
    String tensorSupport() {
        String reason = null;
        if (kind != 0) {
            reason = "the tensor-core kernel integrates the general Hamiltonian (kind hamiltonian) only";
        } else if (spec.scheme() != EnsembleSpec.Scheme.LEAPFROG) {
            reason = "the tensor-core kernel runs the LEAPFROG scheme only";
        } else if (widths[0].length != 4 || widths[0][1] != widths[0][2]) {
            reason = "the tensor-core kernel needs H = [2n, h, h, 1] (two tanh hidden layers of equal width)";
        } else if (widths[0][1] != 16 && widths[0][1] != 32 && widths[0][1] != 64 && widths[0][1] != 128) {
            reason = "the tensor-core kernel needs a hidden width h of 16, 32, 64 or 128";
        } else if (spec.dof() > 8) {
            reason = "the tensor-core kernel needs n <= 8 degrees of freedom";
        }
        return reason == null ? null : reason + "; use the FP32 kernel";
    }

    /**
     * The grid of one launch over {@code count} trajectories, as integrate() chooses it.
     *
     * @param kernel  the kernel to launch
     * @param threads threads per block
     * @param blocks  blocks
     * @param shared  dynamic shared memory per block (the tensor kernel's weight image)
     */
    record Grid(KernelTable kernel, int threads, int blocks, int shared) {
    }

    /**
     * The kernel and grid for {@code count} trajectories with {@code launch} on a device of {@code multiprocessors}.
     *
     * @throws UnsupportedOperationException when the tensor kernel does not serve the model or tile
     * @throws IllegalArgumentException      for launch values outside the kernels' limits
     */
    Grid grid(IntegrationLaunch launch, long count, int multiprocessors) {
        int sms = Math.max(1, multiprocessors);
        int threads = launch.blockThreads() != 0 ? launch.blockThreads() : 128;
        long blocks;
        KernelTable kernel;
        int shared = 0;
        if (launch.kernel() == IntegrationLaunch.Kernel.TENSOR_BF16) {
            String why = tensorSupport();
            if (why != null) {
                throw new UnsupportedOperationException(why);
            }
            int h = widths[0][1];
            int tile = launch.tile() == 0 ? 16 : launch.tile();
            if (tile == 32 && h > 32) {
                throw new UnsupportedOperationException("launch.tile = 32 needs a hidden width h <= 32 (registers), got h = "
                        + h + "; use tile 16");
            }
            if (threads > 128) {
                throw new IllegalArgumentException("launch.block_threads must be at most 128 for the tensor-core kernel, got "
                        + threads);
            }
            long tiles = (count + tile - 1) / tile;
            int warps = threads / 32;
            blocks = Math.min((tiles + warps - 1) / warps, (long) sms * 16);
            kernel = KernelTable.integrateTc(h, tile);
            shared = TensorWeights.Layout.of(h).bytes();
        } else {
            if (launch.tile() != 0) {
                throw new IllegalArgumentException("launch.tile applies to the tensor-core kernel only; pass 0 for the"
                        + " FP32 kernel, got " + launch.tile());
            }
            blocks = (count + threads - 1) / threads;
            blocks = Math.min(blocks, (long) sms * (2048 / threads));
            long wsBudget = 1L << 30;  // bytes of workspace at most
            blocks = Math.min(blocks, Math.max(1, wsBudget / ((long) scratch.get("floats") * 4 * threads)));
            kernel = KernelTable.INTEGRATE_FP32;
        }
        if (launch.maxBlocks() > 0) {
            blocks = Math.min(blocks, launch.maxBlocks());
        }
        blocks = Math.max(blocks, 1);
        return new Grid(kernel, threads, (int) blocks, shared);
    }

    /** Device addresses of what one launch reads and writes (0: none). */
    record Buffers(long params, long inputs, long init, long q0, long p0, long samples, long finals, long diverged,
                   long ws) {
    }

    /** The IntegrateArgs image for trajectories [first, first + count) with buffers at {@code b}. */
    MemorySegment image(long first, long count, Buffers b) {
        MemorySegment a = IntegrateArgsLayout.allocate();
        set(a, "params", b.params());
        for (int s = 0; s < nets.size(); s++) {
            long base = IntegrateArgsLayout.ARGS.byteOffset(groupElement("nets"), sequenceElement(s));
            a.set(JAVA_INT, base + net("layers"), widths[s].length - 1);
            for (int l = 0; l < widths[s].length; l++) {
                a.set(JAVA_INT, base + net("widths") + 4L * l, widths[s][l]);
            }
            for (int l = 0; l < wOff[s].length; l++) {
                a.set(JAVA_INT, base + net("w_off") + 4L * l, wOff[s][l]);
                a.set(JAVA_INT, base + net("b_off") + 4L * l, bOff[s][l]);
                a.set(JAVA_INT, base + net("act_off") + 4L * l, actOff[s][l]);
            }
        }
        seti(a, "kind", kind);
        seti(a, "scheme", spec.scheme().ordinal());
        seti(a, "n", spec.dof());
        seti(a, "m", spec.model().inputCount());
        seti(a, "steps", spec.steps());
        seti(a, "sample_every", spec.sampleEvery());
        seti(a, "sample_count", spec.sampleSteps().length);
        setf(a, "dt", spec.dt());
        setf(a, "sigma_q", spec.sigmaQ());
        setf(a, "sigma_p", spec.sigmaP());
        setf(a, "noise", spec.noise());
        setf(a, "tao_c", (float) Math.cos(2 * spec.taoOmega() * (double) spec.dt()));
        setf(a, "tao_s", (float) Math.sin(2 * spec.taoOmega() * (double) spec.dt()));
        a.set(JAVA_DOUBLE, IntegrateArgsLayout.offset("amp"), (double) spec.noise() * Math.sqrt((double) spec.dt()));
        set(a, "seed", spec.seed());
        set(a, "first", first);
        set(a, "count", count);
        set(a, "inputs", b.inputs());
        set(a, "init", b.init());
        set(a, "q0", b.q0());
        set(a, "p0", b.p0());
        set(a, "samples", b.samples());
        set(a, "finals", b.finals());
        set(a, "diverged", b.diverged());
        set(a, "ws", b.ws());
        long sc = IntegrateArgsLayout.offset("scratch");
        for (String f : IntegrateArgsLayout.SCRATCH_FIELDS) {
            a.set(JAVA_INT, sc + IntegrateArgsLayout.SCRATCH.byteOffset(groupElement(f)), scratch.get(f));
        }
        return a;
    }

    private static long net(String field) {
        return IntegrateArgsLayout.NET_DESC.byteOffset(groupElement(field));
    }

    private static void set(MemorySegment a, String field, long v) {
        a.set(JAVA_LONG, IntegrateArgsLayout.offset(field), v);
    }

    private static void seti(MemorySegment a, String field, int v) {
        a.set(JAVA_INT, IntegrateArgsLayout.offset(field), v);
    }

    private static void setf(MemorySegment a, String field, float v) {
        a.set(JAVA_FLOAT, IntegrateArgsLayout.offset(field), v);
    }
}
