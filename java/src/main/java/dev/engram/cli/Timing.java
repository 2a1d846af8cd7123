package dev.engram.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The one way the benchmark suite times a piece of work: repetitions until the median settles, reported as the
 * median with its spread. After {@code minReps} timed calls it keeps going while the median of all calls so far
 * differs by more than {@link #SETTLED} from the median without the last two, up to {@code maxReps} calls or
 * {@code budgetSeconds} of timed work, whichever comes first; {@link Stats#settled} says which ended it.
 */
final class Timing {
    /** Relative change of the median below which it counts as settled. */
    static final double SETTLED = 0.03;

    private Timing() {
    }

    /** A timed call; returns nothing, may throw. */
    @FunctionalInterface
    interface Work {
        void run() throws Exception;
    }

    /**
     * Median, spread and count of the timed calls (milliseconds).
     *
     * @param settled whether the median had settled when timing stopped
     */
    record Stats(double medianMs, double minMs, double maxMs, double p25Ms, double p75Ms, int reps, boolean settled) {
        static Stats of(double[] ms, boolean settled) {
            if (ms.length == 0) {
                throw new IllegalArgumentException("no timed calls");
            }
            double[] s = ms.clone();
            Arrays.sort(s);
            return new Stats(median(s), s[0], s[s.length - 1], quantile(s, 0.25), quantile(s, 0.75), s.length, settled);
        }

        /** (max − min) / median: the whole spread, relative. */
        double relativeSpread() {
            return (maxMs - minMs) / medianMs;
        }

        /** Writes ms (the median), min_ms, max_ms, p25_ms, p75_ms, spread, reps and settled into {@code n}. */
        ObjectNode putInto(ObjectNode n) {
            return n.put("ms", medianMs).put("min_ms", minMs).put("max_ms", maxMs).put("p25_ms", p25Ms)
                    .put("p75_ms", p75Ms).put("spread", relativeSpread()).put("reps", reps).put("settled", settled);
        }

        /** "12.3 ms (11.9–13.0, 7 reps)". */
        String describe() {
            return String.format("%s (%s–%s, %d rep%s%s)", ms(medianMs), ms(minMs), ms(maxMs), reps,
                    reps == 1 ? "" : "s", settled || reps == 1 ? "" : ", not settled");
        }
    }

    /**
     * Untimed calls until the JIT has settled: at least one call and {@code minSeconds}, then until the last call
     * is within 20% of the fastest so far (the Vector API runs orders of magnitude slower before C2 compiles it),
     * or {@code maxSeconds} have passed. Returns the calls made.
     */
    static int warmUp(Work work, double minSeconds, double maxSeconds) throws Exception {
        long w0 = System.nanoTime();
        double best = Double.POSITIVE_INFINITY;
        int calls = 0;
        while (true) {
            long t0 = System.nanoTime();
            work.run();
            long t1 = System.nanoTime();
            calls++;
            double ms = (t1 - t0) / 1e6;
            best = Math.min(best, ms);
            double elapsed = (t1 - w0) / 1e9;
            if (elapsed >= maxSeconds || (elapsed >= minSeconds && ms <= 1.2 * best && calls >= 3)) {
                return calls;
            }
        }
    }

    /** Times {@code work} after {@code warmups} untimed calls; see the class comment for when it stops. */
    static Stats measure(Work work, int warmups, int minReps, int maxReps, double budgetSeconds) throws Exception {
        return measure(work, warmups, minReps, maxReps, budgetSeconds, System::nanoTime);
    }

    /** {@link #measure(Work, int, int, int, double)} with the clock given (nanoseconds; tests use a fake one). */
    static Stats measure(Work work, int warmups, int minReps, int maxReps, double budgetSeconds,
                         java.util.function.LongSupplier nanoTime) throws Exception {
        if (minReps < 1 || maxReps < minReps) {
            throw new IllegalArgumentException("need 1 <= minReps <= maxReps, got " + minReps + ", " + maxReps);
        }
        for (int w = 0; w < warmups; w++) {
            work.run();
        }
        List<Double> t = new ArrayList<>();
        double spent = 0;
        boolean settled = false;
        while (t.size() < maxReps) {
            long t0 = nanoTime.getAsLong();
            work.run();
            double ms = (nanoTime.getAsLong() - t0) / 1e6;
            t.add(ms);
            spent += ms / 1e3;
            if (t.size() >= minReps) {
                settled = settled(t);
                if (settled || spent >= budgetSeconds) {
                    break;
                }
            }
        }
        return Stats.of(t.stream().mapToDouble(Double::doubleValue).toArray(), settled);
    }

    /** Whether the median of all times and the median without the last two differ by at most {@link #SETTLED}. */
    static boolean settled(List<Double> times) {
        if (times.size() < 3) {
            return false;
        }
        double all = median(sorted(times, times.size()));
        double before = median(sorted(times, times.size() - 2));
        return Math.abs(all - before) <= SETTLED * all;
    }

    private static double[] sorted(List<Double> times, int first) {
        double[] s = times.subList(0, first).stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(s);
        return s;
    }

    static double median(double[] sorted) {
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    private static double quantile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }

    /** A duration in ms with 3 significant figures, in s from 10 s. */
    static String ms(double ms) {
        if (ms >= 10_000) {
            return String.format("%.1f s", ms / 1e3);
        }
        return ms >= 100 ? String.format("%.0f ms", ms) : ms >= 10 ? String.format("%.1f ms", ms)
                : String.format("%.2f ms", ms);
    }
}
