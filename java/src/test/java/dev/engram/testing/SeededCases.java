package dev.engram.testing;

import java.util.Random;

/**
 * The random side of Engram's property tests: JUnit parameterised tests whose cases are the boundary values of every
 * range (always included) followed by random cases drawn from one seeded generator. Each case is a record that carries
 * its own seed and sizes and prints them as its display name, so a failing case is replayed by running the test again
 * (the generator's seed is fixed) or by copying its values into the list of fixed cases.
 *
 * <p>{@code -Dengram.cases.seed=N} draws a different set of random cases (the boundary cases stay).
 */
public final class SeededCases {
    private SeededCases() {
    }

    /** The generator of a test class's random cases: {@code defaultSeed}, unless {@code engram.cases.seed} is set. */
    public static Random generator(long defaultSeed) {
        return new Random(Long.getLong("engram.cases.seed", defaultSeed));
    }

    /** A uniform integer in [min, max], both ends included. */
    public static int between(Random rnd, int min, int max) {
        return min + rnd.nextInt(max - min + 1);
    }

    /** A uniform double in [min, max). */
    public static double between(Random rnd, double min, double max) {
        return min + rnd.nextDouble() * (max - min);
    }
}
