package dev.engram.engine.jcuda;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The one description, on the Java side, of the integration kernels' argument struct {@code engram::IntegrateArgs}
 * (and of the quantile kernel's {@code engram::QuantileColumns})
 * (cuda/integrate.cuh), which the JCuda engine packs and passes by value to {@code engram_kernel_integrate_fp32} and
 * {@code engram_kernel_integrate_tc_*}: fields in declaration order with their C types, each at its natural alignment
 * (as the x86-64 and CUDA ABIs lay out a struct). A test compares every offset and size with what the C compiler
 * reports ({@code engram_integrate_args_layout} in libengram) and the struct's size with the parameter size nvcc
 * recorded in the fatbin.
 */
final class IntegrateArgsLayout {
    /** ENGRAM_MAX_NET_LAYERS (engram.h): affine layers of one network at most. */
    static final int MAX_NET_LAYERS = 8;
    /** Networks per model at most (kMaxNets). */
    static final int MAX_NETS = 3;
    private static final ValueLayout POINTER = JAVA_LONG;  // a device address (64-bit)

    /** engram::NetDesc. */
    static final StructLayout NET_DESC = natural(
            JAVA_INT.withName("layers"),
            MemoryLayout.sequenceLayout(MAX_NET_LAYERS + 1, JAVA_INT).withName("widths"),
            MemoryLayout.sequenceLayout(MAX_NET_LAYERS, JAVA_INT).withName("w_off"),
            MemoryLayout.sequenceLayout(MAX_NET_LAYERS, JAVA_INT).withName("b_off"),
            MemoryLayout.sequenceLayout(MAX_NET_LAYERS, JAVA_INT).withName("act_off"));

    /** engram::Scratch, fields in declaration order. */
    static final List<String> SCRATCH_FIELDS = List.of("x", "prev", "grad", "field", "tmp", "ksum", "copy", "force",
            "aux", "inforce", "delta", "g", "floats");
    static final StructLayout SCRATCH = natural(SCRATCH_FIELDS.stream().map(JAVA_INT::withName)
            .toArray(MemoryLayout[]::new));

    /** engram::IntegrateArgs. */
    static final StructLayout ARGS = natural(
            POINTER.withName("params"),
            MemoryLayout.sequenceLayout(MAX_NETS, NET_DESC).withName("nets"),
            JAVA_INT.withName("kind"), JAVA_INT.withName("scheme"), JAVA_INT.withName("n"), JAVA_INT.withName("m"),
            JAVA_INT.withName("steps"), JAVA_INT.withName("sample_every"), JAVA_INT.withName("sample_count"),
            JAVA_FLOAT.withName("dt"), JAVA_FLOAT.withName("sigma_q"), JAVA_FLOAT.withName("sigma_p"),
            JAVA_FLOAT.withName("noise"), JAVA_FLOAT.withName("tao_c"), JAVA_FLOAT.withName("tao_s"),
            JAVA_DOUBLE.withName("amp"), JAVA_LONG.withName("seed"), JAVA_LONG.withName("first"),
            JAVA_LONG.withName("count"),
            POINTER.withName("inputs"), POINTER.withName("init"), POINTER.withName("q0"), POINTER.withName("p0"),
            POINTER.withName("samples"), POINTER.withName("finals"), POINTER.withName("diverged"),
            POINTER.withName("ws"),
            SCRATCH.withName("scratch"));

    /**
     * engram::QuantileColumns (cuda/quantiles.cuh), the quantile kernel's first parameter: column j = s·coords + c
     * holds data[s·slab + i·stride + c] for i < count.
     */
    static final StructLayout QUANTILE_COLUMNS = natural(POINTER.withName("data"), JAVA_LONG.withName("count"),
            JAVA_LONG.withName("stride"), JAVA_LONG.withName("slab"), JAVA_INT.withName("coords"),
            JAVA_INT.withName("columns"));

    /** Bytes of the struct (sizeof), a multiple of 8. */
    static final int SIZE = (int) ARGS.byteSize();

    private IntegrateArgsLayout() {
    }

    /**
     * A struct of {@code fields} in order, each at the next offset that is a multiple of its alignment, padded at the
     * end to a multiple of the largest alignment: the C layout of the same members.
     */
    static StructLayout natural(MemoryLayout... fields) {
        List<MemoryLayout> out = new ArrayList<>();
        long at = 0;
        long align = 1;
        for (MemoryLayout f : fields) {
            long a = f.byteAlignment();
            if (at % a != 0) {
                out.add(MemoryLayout.paddingLayout(a - at % a));
                at += a - at % a;
            }
            out.add(f);
            at += f.byteSize();
            align = Math.max(align, a);
        }
        if (at % align != 0) {
            out.add(MemoryLayout.paddingLayout(align - at % align));
        }
        return MemoryLayout.structLayout(out.toArray(MemoryLayout[]::new));
    }

    /** Byte offset of top-level field {@code name}. */
    static long offset(String name) {
        return ARGS.byteOffset(groupElement(name));
    }

    /** The names of the top-level fields, in declaration order (paddings left out). */
    static List<String> fields(StructLayout layout) {
        List<String> out = new ArrayList<>();
        for (MemoryLayout m : layout.memberLayouts()) {
            m.name().ifPresent(out::add);
        }
        return out;
    }

    /**
     * A zeroed struct image: a segment over a {@code long[]} (8-byte aligned, native byte order), which is also what
     * cuLaunchKernel is given ({@link #words}).
     */
    static MemorySegment allocate() {
        return MemorySegment.ofArray(new long[SIZE / 8]);
    }

    /** A zeroed QuantileColumns image (as {@link #allocate}). */
    static MemorySegment allocateQuantileColumns() {
        return MemorySegment.ofArray(new long[(int) QUANTILE_COLUMNS.byteSize() / 8]);
    }

    /** The image's words, for {@code Pointer.to(long[])}. */
    static long[] words(MemorySegment image) {
        return image.toArray(JAVA_LONG);
    }
}
