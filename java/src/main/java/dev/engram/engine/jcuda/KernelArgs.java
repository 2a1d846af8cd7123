package dev.engram.engine.jcuda;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.util.List;

/**
 * The arguments of one launch, checked against the kernel's signature in {@link KernelTable} as they are added (name
 * and type, in order), then packed the way cuLaunchKernel wants them: one host pointer per parameter, pointing at
 * that parameter's value. A wrong name, type or count is an {@link IllegalStateException} naming the kernel and the
 * parameter, before anything reaches the driver.
 */
final class KernelArgs {
    private final KernelTable kernel;
    private final Object[] values;
    private int next;

    private KernelArgs(KernelTable kernel) {
        this.kernel = kernel;
        this.values = new Object[kernel.params().size()];
    }

    static KernelArgs of(KernelTable kernel) {
        return new KernelArgs(kernel);
    }

    /** A device pointer (null: a null pointer). */
    KernelArgs pointer(String name, CUdeviceptr value) {
        return put(name, KernelParam.POINTER, value == null ? new CUdeviceptr() : value);
    }

    KernelArgs i32(String name, int value) {
        return put(name, KernelParam.INT, value);
    }

    KernelArgs i64(String name, long value) {
        return put(name, KernelParam.LONG, value);
    }

    KernelArgs f32(String name, float value) {
        return put(name, KernelParam.FLOAT, value);
    }

    /**
     * A struct passed by value ({@code type} one of the struct kinds of {@link KernelParam}): its image as 8-byte
     * words in native byte order, exactly {@code type.bytes} long.
     */
    KernelArgs struct(String name, KernelParam type, long[] image) {
        if ((long) image.length * 8 != type.bytes) {
            throw new IllegalStateException(kernel.symbol + " parameter " + name + " is a " + type + " of " + type.bytes
                    + " bytes, got an image of " + image.length * 8L);
        }
        return put(name, type, image.clone());
    }

    private KernelArgs put(String name, KernelParam type, Object value) {
        List<KernelTable.Param> params = kernel.params();
        if (next >= params.size()) {
            throw new IllegalStateException(kernel.symbol + " takes " + params.size() + " parameters; got an extra '"
                    + name + "'");
        }
        KernelTable.Param want = params.get(next);
        if (!want.name().equals(name) || want.type() != type) {
            throw new IllegalStateException(kernel.symbol + " parameter " + next + " is " + want.type() + " "
                    + want.name() + ", got " + type + " " + name);
        }
        values[next++] = value;
        return this;
    }

    /** The value given for parameter i (a CUdeviceptr, Integer, Long, Float, or a struct's long[] image). */
    Object value(int i) {
        return values[i];
    }

    KernelTable kernel() {
        return kernel;
    }

    /** The kernelParams argument of cuLaunchKernel. */
    Pointer pack() {
        if (next != values.length) {
            throw new IllegalStateException(kernel.symbol + " takes " + values.length + " parameters; only " + next
                    + " given (next: " + kernel.params().get(next).name() + ")");
        }
        Pointer[] each = new Pointer[values.length];
        for (int i = 0; i < values.length; i++) {
            each[i] = switch (values[i]) {
                case CUdeviceptr p -> Pointer.to(p);
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case long[] v -> Pointer.to(v);
                default -> throw new IllegalStateException("unexpected argument " + values[i]);
            };
        }
        return Pointer.to(each);
    }
}
