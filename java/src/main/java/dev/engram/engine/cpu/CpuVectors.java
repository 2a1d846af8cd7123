package dev.engram.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * CPU facts computed once: the float vector species the CPU engine runs with. The preferred (widest fast) species
 * unless the system property {@code engram.cpu.vectorBits} (128, 256 or 512) asks for a narrower one, which is how
 * the tests run the 128- and 256-bit code paths on a 512-bit machine.
 */
final class CpuVectors {
    static final VectorSpecies<Float> SPECIES = pick();
    static final int LANES = SPECIES.length();

    private CpuVectors() {
    }

    private static VectorSpecies<Float> pick() {
        String bits = System.getProperty("engram.cpu.vectorBits");
        if (bits == null || bits.isBlank()) {
            return FloatVector.SPECIES_PREFERRED;
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
