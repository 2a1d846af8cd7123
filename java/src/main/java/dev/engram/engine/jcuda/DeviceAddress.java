package dev.engram.engine.jcuda;

import jcuda.NativePointerObject;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;

/**
 * The 64-bit device address a {@link CUdeviceptr} stands for, to be written into a struct passed to a kernel by value
 * ({@link IntegrateArgsLayout}). JCuda keeps it as the object's native pointer plus its byte offset
 * ({@code withByteOffset}), both behind protected accessors; they are read here through a private lookup (JCuda is on
 * the class path, in the same unnamed module).
 */
final class DeviceAddress {
    private static final MethodHandle NATIVE_POINTER;
    private static final MethodHandle BYTE_OFFSET;

    static {
        try {
            MethodHandles.Lookup npo = MethodHandles.privateLookupIn(NativePointerObject.class, MethodHandles.lookup());
            NATIVE_POINTER = npo.findVirtual(NativePointerObject.class, "getNativePointer", MethodType.methodType(long.class));
            MethodHandles.Lookup ptr = MethodHandles.privateLookupIn(Pointer.class, MethodHandles.lookup());
            BYTE_OFFSET = ptr.findVirtual(Pointer.class, "getByteOffset", MethodType.methodType(long.class));
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError("this JCuda version hides a CUdeviceptr's address: " + e);
        }
    }

    private DeviceAddress() {
    }

    /** The address {@code p} points at (0 for null or a pointer never allocated). */
    static long of(CUdeviceptr p) {
        if (p == null) {
            return 0;
        }
        try {
            return (long) NATIVE_POINTER.invoke((NativePointerObject) p) + (long) BYTE_OFFSET.invoke((Pointer) p);
        } catch (Throwable t) {
            throw new IllegalStateException("cannot read a CUdeviceptr's address: " + t, t);
        }
    }
}
