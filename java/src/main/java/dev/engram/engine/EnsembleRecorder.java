package dev.engram.engine;

import java.util.Arrays;

/**
 * Collects the sampled states and energies of an ensemble as engines produce them (any thread, any order:
 * each (sample, trajectory) slot is written once) and turns them into an {@link EnsembleResult}.
 */
public final class EnsembleRecorder {
    private final EnsembleSpec spec;
    private final int n;
    private final int count;
    private final int coords;
    private final float[][] samples;
    private final float[] finalStates;
    private final int[] diverged;
    private final java.util.function.LongConsumer progress;
    private final java.util.concurrent.atomic.AtomicLong finished = new java.util.concurrent.atomic.AtomicLong();
    private final long reportEvery;

    public EnsembleRecorder(EnsembleSpec spec) {
        this(spec, done -> { });
    }

    /**
     * @param progress receives the number of finished trajectories about every 1% and at the end
     * @throws IllegalArgumentException when the samples and the result would not fit in the heap that is left (see
     *                                  {@link #requiredBytes}), before any work is done
     */
    public EnsembleRecorder(EnsembleSpec spec, java.util.function.LongConsumer progress) {
        long need = requiredBytes(spec);
        long available = availableHeap();
        if (need > available) {
            System.gc(); // what is in use may be garbage not yet collected; count only what is live
            available = availableHeap();
        }
        if (need > available) {
            throw new IllegalArgumentException(String.format(
                    "the ensemble's samples and result need %s of Java heap (%d samples × %d trajectories × %d "
                            + "coordinates, float32, plus per-trajectory state) but only %s is available (maximum heap %s); "
                            + "lower trajectories or sampleEvery, or raise the heap (-Xmx)",
                    gib(need), spec.sampleSteps().length, spec.trajectories(), 2 * spec.dof() + 1, gib(available),
                    gib(Runtime.getRuntime().maxMemory())));
        }
        this.spec = spec;
        this.progress = java.util.Objects.requireNonNull(progress, "progress");
        this.reportEvery = Math.max(1, spec.trajectories() / 100);
        this.n = spec.dof();
        this.count = spec.trajectories();
        this.coords = 2 * n + 1;
        int s = spec.sampleSteps().length;
        samples = new float[s][];
        for (int i = 0; i < s; i++) {
            samples[i] = new float[coords * count];
        }
        finalStates = new float[count * 2 * n];
        diverged = new int[count];
        Arrays.fill(diverged, -1);
    }

    /**
     * Peak heap bytes the recorder and its {@link #result()} hold for {@code spec}: the S samples of N trajectories
     * × (2n+1) coordinates, the N×2n final states, the divergence steps, and in {@code result()} the initial and final
     * energies, a copy of the divergence steps, one sort column (4 arrays of N) and, with {@code keepPaths}, the
     * S×N×2n paths.
     */
    public static long requiredBytes(EnsembleSpec spec) {
        long n = spec.trajectories();
        long dof = spec.dof();
        long s = spec.sampleSteps().length;
        long floats = s * n * (2 * dof + 1) + n * 2 * dof + n + 4 * n;
        if (spec.keepPaths()) {
            floats += s * n * 2 * dof;
        }
        return floats * Float.BYTES;
    }

    /** Heap this JVM can still allocate: the maximum less what is in use now. */
    public static long availableHeap() {
        Runtime rt = Runtime.getRuntime();
        return rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
    }

    static String gib(long bytes) {
        return bytes >= 1L << 30 ? String.format("%.2f GiB", bytes / (double) (1L << 30))
                : String.format("%.1f MiB", bytes / (double) (1L << 20));
    }

    /**
     * Records trajectory i at sample s: coordinates q_0..q_{n−1}, p_0..p_{n−1} from {@code state[offset + j·stride]}
     * and the energy. A diverged trajectory records NaN.
     */
    public void sample(int s, int i, float[] state, int offset, int stride, float energy) {
        float[] dst = samples[s];
        int base = i * coords;
        for (int j = 0; j < 2 * n; j++) {
            dst[base + j] = state[offset + j * stride];
        }
        dst[base + 2 * n] = energy;
    }

    /**
     * Records trajectories {@code [first, first + count)} at sample s from {@code values[offset …]}: per trajectory
     * q_0..q_{n−1}, p_0..p_{n−1} and the energy (2n + 1 floats, NaN for a diverged trajectory), the layout the native
     * kernels write.
     */
    public void sampleRange(int s, int first, int count, float[] values, int offset) {
        System.arraycopy(values, offset, samples[s], first * coords, count * coords);
    }

    /** Marks trajectory i as diverged from sample s on (its later samples are NaN). */
    public void markDiverged(int i, int step) {
        diverged[i] = step;
    }

    /** Records the final state of trajectory i. */
    public void finish(int i, float[] state, int offset, int stride) {
        for (int j = 0; j < 2 * n; j++) {
            finalStates[i * 2 * n + j] = state[offset + j * stride];
        }
        long done = finished.incrementAndGet();
        if (done % reportEvery == 0 || done == count) {
            progress.accept(done);
        }
    }

    /** Fills the NaN placeholders of trajectory i for every sample after {@code lastGood}. */
    public void blankAfter(int i, int lastGood) {
        for (int s = lastGood + 1; s < samples.length; s++) {
            Arrays.fill(samples[s], i * coords, (i + 1) * coords, Float.NaN);
        }
    }

    public EnsembleResult result() {
        int sCount = samples.length;
        double[] levels = spec.quantiles();
        float[] q = new float[sCount * coords * levels.length];
        float[] column = new float[count];
        for (int s = 0; s < sCount; s++) {
            for (int c = 0; c < coords; c++) {
                int m = 0;
                for (int i = 0; i < count; i++) {
                    float v = samples[s][i * coords + c];
                    if (!Float.isNaN(v)) {
                        column[m++] = v;
                    }
                }
                Arrays.sort(column, 0, m);
                for (int l = 0; l < levels.length; l++) {
                    q[(s * coords + c) * levels.length + l] = quantile(column, m, levels[l]);
                }
            }
        }
        float[] e0 = new float[count];
        float[] e1 = new float[count];
        int divergedCount = 0;
        for (int i = 0; i < count; i++) {
            e0[i] = samples[0][i * coords + 2 * n];
            e1[i] = samples[sCount - 1][i * coords + 2 * n];
            if (diverged[i] >= 0) {
                divergedCount++;
            }
        }
        float[] paths = null;
        if (spec.keepPaths()) {
            paths = new float[sCount * count * 2 * n];
            for (int s = 0; s < sCount; s++) {
                for (int i = 0; i < count; i++) {
                    System.arraycopy(samples[s], i * coords, paths, (s * count + i) * 2 * n, 2 * n);
                }
            }
        }
        return new EnsembleResult(count, n, spec.sampleSteps(), spec.dt(), finalStates, e0, e1, diverged.clone(),
                divergedCount, levels, q, paths);
    }

    /** Linear interpolation between order statistics (NumPy's default, Hyndman–Fan type 7). */
    static float quantile(float[] sorted, int m, double level) {
        if (m == 0) {
            return Float.NaN;
        }
        double pos = level * (m - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, m - 1);
        double frac = pos - lo;
        return (float) (sorted[lo] + frac * (sorted[hi] - sorted[lo]));
    }
}
