package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;

import java.util.Objects;

/**
 * M stored patterns X (M×d, float32, row-major, off-heap) with their values V (M×dv; by default V = X, stored once),
 * and the Euclidean norm of every pattern (kept for cosine top-k). Growable by {@link #append}.
 *
 * <p>Patterns and values are always dense (row stride = width), so engines may stream them as one block. A memory
 * made by {@link #wrap} reads the caller's matrices in place (e.g. memory-mapped {@code .npy} files) until the first
 * append, which copies them into owned, growable storage.
 *
 * <p>Appends validate everything before touching storage: a rejected append leaves the memory as it was.
 * Not safe for appends concurrent with retrievals; concurrent retrievals are fine.
 *
 * <p>Engines that keep copies (device uploads, reduced-precision copies) stay current cheaply: every change bumps
 * {@link #version()}, and {@link #replacedSince} lists the rows overwritten in place since the version a copy was
 * made at, so a copy updates those rows and uploads the appended ones ({@code [its size, size())}), never the whole
 * memory. The list reaches back {@value #CHANGE_LOG_CAPACITY} replacements; a copy older than that is told so and
 * rewrites every row.
 */
public final class PatternMemory implements AutoCloseable {
    private final int dim;
    private final int valueDim;
    private final boolean valuesArePatterns;
    private FloatMatrix x;
    private FloatMatrix v;
    private FloatMatrix norms;
    private long size;
    private boolean ownsData;
    private long rewrites;
    private long version;
    /** Replaced rows and the version each replacement made, a ring of at most CHANGE_LOG_CAPACITY entries. */
    private long[] logRows = new long[0];
    private long[] logVersions = new long[0];
    private int logStart;
    private int logCount;
    /** Versions up to this one may have replacements no longer in the log. */
    private long forgottenUpTo;

    /** Replacements the change log keeps; a copy further behind rewrites everything. */
    public static final int CHANGE_LOG_CAPACITY = 4096;

    /**
     * Rows overwritten in place after a given version, for engines bringing a copy up to date.
     *
     * @param rows     ascending, distinct row indices (rows appended after that version are not listed)
     * @param complete false when the change log no longer reaches back that far: then any row may have changed
     */
    public record ReplacedRows(long[] rows, boolean complete) {
    }

    private PatternMemory(int dim, int valueDim, boolean valuesArePatterns) {
        this.dim = dim;
        this.valueDim = valueDim;
        this.valuesArePatterns = valuesArePatterns;
    }

    /** An empty memory of d-dimensional patterns that are their own values (V = X). */
    public static PatternMemory create(int dim) {
        requirePositive("dim", dim);
        PatternMemory m = new PatternMemory(dim, dim, true);
        m.allocate(16);
        return m;
    }

    /** An empty memory of d-dimensional patterns with dv-dimensional values. */
    public static PatternMemory create(int dim, int valueDim) {
        requirePositive("dim", dim);
        requirePositive("valueDim", valueDim);
        PatternMemory m = new PatternMemory(dim, valueDim, false);
        m.allocate(16);
        return m;
    }

    /** A memory holding a copy of {@code patterns} (M×d), values = patterns. */
    public static PatternMemory of(FloatMatrix patterns) {
        PatternMemory m = create(patterns.cols());
        m.append(patterns);
        return m;
    }

    /** A memory holding copies of {@code patterns} (M×d) and {@code values} (M×dv). */
    public static PatternMemory of(FloatMatrix patterns, FloatMatrix values) {
        PatternMemory m = create(patterns.cols(), values.cols());
        m.append(patterns, values);
        return m;
    }

    /**
     * A memory that reads {@code patterns} (and {@code values}, or null for V = X) in place, without copying: the
     * caller keeps them open for the memory's lifetime. Contents are checked (finite) once here.
     */
    public static PatternMemory wrap(FloatMatrix patterns, FloatMatrix values) {
        Objects.requireNonNull(patterns, "patterns");
        if (!patterns.isContiguous() || (values != null && !values.isContiguous())) {
            throw new IllegalArgumentException("wrap needs dense matrices (row stride = width); copy views first");
        }
        if (values != null && values.rows() != patterns.rows()) {
            throw new IllegalArgumentException("values have " + values.rows() + " rows but patterns have " + patterns.rows());
        }
        patterns.requireFinite("patterns");
        if (values != null) {
            values.requireFinite("values");
        }
        PatternMemory m = new PatternMemory(patterns.cols(), values == null ? patterns.cols() : values.cols(), values == null);
        m.x = patterns;
        m.v = values;
        m.size = patterns.rows();
        m.norms = FloatMatrix.allocate(Math.max(16, m.size), 1);
        m.computeNorms(0, m.size);
        m.ownsData = false;
        return m;
    }

    private static void requirePositive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
    }

    private void allocate(long capacity) {
        x = FloatMatrix.allocate(capacity, dim);
        v = valuesArePatterns ? null : FloatMatrix.allocate(capacity, valueDim);
        norms = FloatMatrix.allocate(capacity, 1);
        ownsData = true;
    }

    /** Number of stored patterns M. */
    public long size() {
        return size;
    }

    /** Pattern width d. */
    public int dim() {
        return dim;
    }

    /** Value width dv (= d when values are the patterns). */
    public int valueDim() {
        return valueDim;
    }

    /** True when V = X (one copy stored, streamed once). */
    public boolean valuesArePatterns() {
        return valuesArePatterns;
    }

    /** X: an M×d view of the stored patterns. */
    public FloatMatrix patterns() {
        return x.rows(0, size);
    }

    /** V: an M×dv view of the stored values (the patterns themselves when V = X). */
    public FloatMatrix values() {
        return valuesArePatterns ? patterns() : v.rows(0, size);
    }

    /** ‖x_i‖ for every stored pattern, as an M×1 view. */
    public FloatMatrix norms() {
        return norms.rows(0, size);
    }

    /** Appends patterns that are their own values; only for memories with V = X. */
    public void append(FloatMatrix patterns) {
        if (!valuesArePatterns) {
            throw new IllegalArgumentException("this memory stores separate values (dv=" + valueDim
                    + "); append patterns together with their values");
        }
        append(patterns, null);
    }

    /**
     * Appends n patterns (n×d) and their values (n×dv; null when V = X). Validated first: shape, finiteness.
     */
    public void append(FloatMatrix patterns, FloatMatrix values) {
        Objects.requireNonNull(patterns, "patterns");
        if (patterns.cols() != dim) {
            throw new IllegalArgumentException("patterns have d=" + patterns.cols() + " columns but this memory stores d=" + dim);
        }
        if (!valuesArePatterns) {
            Objects.requireNonNull(values, "values");
            if (values.cols() != valueDim) {
                throw new IllegalArgumentException("values have dv=" + values.cols() + " columns but this memory stores dv=" + valueDim);
            }
            if (values.rows() != patterns.rows()) {
                throw new IllegalArgumentException("values have " + values.rows() + " rows but patterns have " + patterns.rows());
            }
        } else if (values != null) {
            throw new IllegalArgumentException("this memory's values are its patterns (V = X); do not pass values");
        }
        patterns.requireFinite("patterns");
        if (values != null) {
            values.requireFinite("values");
        }
        long n = patterns.rows();
        ensureCapacity(size + n);
        patterns.copyInto(x, size);
        if (values != null) {
            values.copyInto(v, size);
        }
        computeNorms(size, size + n);
        size += n;
        version++;
    }

    /**
     * Overwrites stored pattern {@code row} (and its value; null when V = X) in place, recomputing its norm.
     * Validated first: index, widths, finiteness. Engines that keep copies of the memory (device uploads,
     * reduced-precision copies) update that row alone, through {@link #replacedSince}.
     *
     * @param pattern d floats
     * @param value   dv floats, or null when V = X
     */
    public void replace(long row, float[] pattern, float[] value) {
        if (row < 0 || row >= size) {
            throw new IndexOutOfBoundsException("row " + row + " outside 0.." + size);
        }
        if (pattern == null || pattern.length != dim) {
            throw new IllegalArgumentException("pattern must have d=" + dim + " values, got "
                    + (pattern == null ? "null" : pattern.length));
        }
        if (valuesArePatterns && value != null) {
            throw new IllegalArgumentException("this memory's values are its patterns (V = X); pass value = null");
        }
        if (!valuesArePatterns && (value == null || value.length != valueDim)) {
            throw new IllegalArgumentException("value must have dv=" + valueDim + " values, got "
                    + (value == null ? "null" : value.length));
        }
        requireFinite("pattern", pattern);
        if (value != null) {
            requireFinite("value", value);
        }
        if (!ownsData) {
            ensureCapacity(size + 1); // wrapped (e.g. memory-mapped read-only) storage: copy before writing
        }
        double sq = 0;
        for (int c = 0; c < dim; c++) {
            x.set(row, c, pattern[c]);
            sq += (double) pattern[c] * pattern[c];
        }
        if (value != null) {
            for (int c = 0; c < valueDim; c++) {
                v.set(row, c, value[c]);
            }
        }
        norms.set(row, 0, (float) Math.sqrt(sq));
        rewrites++;
        version++;
        logReplacement(row);
    }

    /** How many in-place {@link #replace} calls this memory has seen (appends do not count: they grow {@link #size()}). */
    public long rewrites() {
        return rewrites;
    }

    /** Number of changes (appends and replacements) so far; a copy made at version v is current while this is v. */
    public long version() {
        return version;
    }

    /**
     * The rows {@link #replace}d after {@code since} (a value of {@link #version()}), ascending and distinct.
     * Incomplete when more than {@value #CHANGE_LOG_CAPACITY} replacements happened since.
     */
    public ReplacedRows replacedSince(long since) {
        if (since < 0 || since > version) {
            throw new IllegalArgumentException("version " + since + " outside 0.." + version);
        }
        if (since < forgottenUpTo) {
            return new ReplacedRows(new long[0], false);
        }
        long[] rows = new long[logCount];
        int n = 0;
        for (int i = logCount - 1; i >= 0; i--) {  // newest first: stop at the first entry not after `since`
            int at = (logStart + i) % logRows.length;
            if (logVersions[at] <= since) {
                break;
            }
            rows[n++] = logRows[at];
        }
        return new ReplacedRows(java.util.Arrays.stream(rows, 0, n).sorted().distinct().toArray(), true);
    }

    private void logReplacement(long row) {
        if (logCount == logRows.length && logRows.length < CHANGE_LOG_CAPACITY) {
            int cap = Math.min(CHANGE_LOG_CAPACITY, Math.max(16, logRows.length * 2));
            long[] r = new long[cap];
            long[] v = new long[cap];
            for (int i = 0; i < logCount; i++) {
                r[i] = logRows[(logStart + i) % logRows.length];
                v[i] = logVersions[(logStart + i) % logRows.length];
            }
            logRows = r;
            logVersions = v;
            logStart = 0;
        }
        if (logCount == logRows.length) {  // full at capacity: forget the oldest
            forgottenUpTo = logVersions[logStart];
            logStart = (logStart + 1) % logRows.length;
            logCount--;
        }
        int at = (logStart + logCount) % logRows.length;
        logRows[at] = row;
        logVersions[at] = version;
        logCount++;
    }

    private static void requireFinite(String what, float[] a) {
        for (int i = 0; i < a.length; i++) {
            if (!Float.isFinite(a[i])) {
                throw new IllegalArgumentException(what + "[" + i + "] must be finite, got " + a[i]);
            }
        }
    }

    private void ensureCapacity(long need) {
        if (ownsData && need <= x.rows()) {
            return;
        }
        long cap = Math.max(need, ownsData ? x.rows() * 2 : need + need / 2);
        cap = Math.max(cap, 16);
        FloatMatrix nx = FloatMatrix.allocate(cap, dim);
        FloatMatrix nv = valuesArePatterns ? null : FloatMatrix.allocate(cap, valueDim);
        FloatMatrix nn = FloatMatrix.allocate(cap, 1);
        x.rows(0, size).copyInto(nx, 0);
        if (nv != null) {
            v.rows(0, size).copyInto(nv, 0);
        }
        norms.rows(0, size).copyInto(nn, 0);
        if (ownsData) {
            x.close();
            if (v != null) {
                v.close();
            }
        }
        norms.close();
        x = nx;
        v = nv;
        norms = nn;
        ownsData = true;
    }

    private void computeNorms(long from, long to) {
        float[] row = new float[dim];
        for (long i = from; i < to; i++) {
            x.copyRow(i, row, 0);
            double s = 0;
            for (float f : row) {
                s += (double) f * f;
            }
            norms.set(i, 0, (float) Math.sqrt(s));
        }
    }

    @Override
    public void close() {
        if (ownsData) {
            x.close();
            if (v != null) {
                v.close();
            }
        }
        norms.close();
    }

    @Override
    public String toString() {
        return "PatternMemory[M=" + size + ", d=" + dim + (valuesArePatterns ? ", V=X" : ", dv=" + valueDim) + "]";
    }
}
