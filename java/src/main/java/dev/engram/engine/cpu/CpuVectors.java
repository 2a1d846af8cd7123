package dev.engram.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * CPU facts computed once: the float vector species the CPU engine runs with. The preferred (widest fast) species
 * unless the system property {@code engram.cpu.vectorBits} (128, 256 or 512) asks for a narrower one, which is how
 * the tests run the 128- and 256-bit code paths on a 512-bit machine. Never wider than 512 bits nor narrower than
 * 128: every width in that range gives the same bits (see {@link ReproducibleMath}).
 */
final class CpuVectors {
    static final VectorSpecies<Float> SPECIES = pick();
    static final int LANES = SPECIES.length();
    /** LANES 16-bit values: one float vector's worth of bfloat16 patterns. */
    static final VectorSpecies<Short> HALF = VectorSpecies.of(short.class,
            jdk.incubator.vector.VectorShape.forBitSize(LANES * Short.SIZE));
    private static final VectorSpecies<Integer> INT = SPECIES.withLanes(int.class);

    private CpuVectors() {
    }

    /** LANES bfloat16 values at {@code byteOffset}, widened to float32 (sign-extend, shift into the high half). */
    static FloatVector bf16(MemorySegment seg, long byteOffset) {
        return ((IntVector) ShortVector.fromMemorySegment(HALF, seg, byteOffset, ByteOrder.LITTLE_ENDIAN)
                .convertShape(VectorOperators.S2I, INT, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** As {@link #bf16(MemorySegment, long)} for the lanes set in {@code mask} (others 0). */
    static FloatVector bf16(MemorySegment seg, long byteOffset, VectorMask<Short> mask) {
        return ((IntVector) ShortVector.fromMemorySegment(HALF, seg, byteOffset, ByteOrder.LITTLE_ENDIAN, mask)
                .convertShape(VectorOperators.S2I, INT, 0)).lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** At least LANES bytes (64 bits at the least): the load {@link #codes} widens. */
    private static final VectorSpecies<Byte> BYTES = jdk.incubator.vector.ByteVector.SPECIES_64.length() >= LANES
            ? jdk.incubator.vector.ByteVector.SPECIES_64
            : VectorSpecies.of(byte.class, jdk.incubator.vector.VectorShape.forBitSize(LANES * Byte.SIZE));

    /**
     * LANES signed bytes (SQ8 codes) at {@code byteOffset}, as floats; reads up to 8 bytes past them when LANES is
     * 4 (the SQ8 copy keeps {@link Sq8Patterns#PAD} bytes after its last row).
     */
    static FloatVector codes(MemorySegment seg, long byteOffset) {
        return ((IntVector) jdk.incubator.vector.ByteVector.fromMemorySegment(BYTES, seg, byteOffset,
                ByteOrder.LITTLE_ENDIAN).convertShape(VectorOperators.B2I, INT, 0))
                .convert(VectorOperators.I2F, 0).reinterpretAsFloats();
    }

    private static VectorSpecies<Float> pick() {
        String bits = System.getProperty("engram.cpu.vectorBits");
        if (bits == null || bits.isBlank()) {
            // 4 to 16 lanes: the range whose results ReproducibleMath keeps identical
            int preferred = FloatVector.SPECIES_PREFERRED.vectorBitSize();
            return preferred > 512 ? FloatVector.SPECIES_512 : preferred < 128 ? FloatVector.SPECIES_128
                    : FloatVector.SPECIES_PREFERRED;
        }
        VectorSpecies<Float> s = switch (bits.strip()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            default -> throw new IllegalArgumentException("engram.cpu.vectorBits must be 128, 256 or 512, got " + bits);
        };
        return s.vectorBitSize() > FloatVector.SPECIES_PREFERRED.vectorBitSize() ? FloatVector.SPECIES_PREFERRED : s;
    }
}
