package dev.engram.spark;

import dev.engram.hopfield.PatternStore;
import dev.engram.tensor.AtomicFiles;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.Npy;

import java.io.IOException;
import java.io.Serial;
import java.io.Serializable;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A pattern memory stored as a folder of {@code .npy} shards, for memories larger than one machine:
 * <pre>
 *   shard-00000.npy          rows₀×d float32 patterns
 *   shard-00000.values.npy   rows₀×dv float32 values (in every shard, or in none: then V = X)
 *   shard-00001.npy          ...
 * </pre>
 * Shards are ordered by number; the global index of row r of a shard is r plus the rows of all earlier shards, so a
 * top-k index names one pattern of the whole memory. Shards may have any sizes, including 0 rows.
 *
 * <p>Changes keep every existing global index: {@link #append} adds rows at the end (filling the newest shard up to
 * a size, then starting new ones), and {@link #compact} re-cuts the shards into equal sizes without reordering.
 *
 * <p>{@link #appendMerging} adds near-duplicate merging with the single-machine {@link PatternStore}'s rule, but
 * compares each appended pattern with the <b>newest shard only</b>: a pattern whose twin sits in an older shard is
 * appended, not merged. That is the trade-off of a sharded store (a global comparison would read the whole memory
 * for every append); it keeps an append's cost at one pass over one shard and leaves older shards untouched.
 *
 * <p>Executors read the shards from the same path, so on a cluster the folder must be on storage every executor
 * mounts at that path (NFS, a parallel file system, or a copy on every node); each executor maps only the row
 * ranges of its partitions.
 */
public final class ShardedMemory {
    private static final Pattern NAME = Pattern.compile("shard-(\\d{5,9})\\.npy");

    /**
     * One shard file (with its values file, or null), the global index of its first row and its row count. Paths
     * are absolute strings so that the shard can be shipped to executors.
     */
    public record Shard(int number, String patterns, String values, long offset, long rows) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;
    }

    private final Path folder;
    private final int dim;
    private final int valueDim;
    private final boolean separateValues;
    private final List<Shard> shards;
    private final long size;

    private ShardedMemory(Path folder, int dim, int valueDim, boolean separateValues, List<Shard> shards) {
        this.folder = folder;
        this.dim = dim;
        this.valueDim = valueDim;
        this.separateValues = separateValues;
        this.shards = List.copyOf(shards);
        this.size = shards.isEmpty() ? 0 : shards.getLast().offset() + shards.getLast().rows();
    }

    /**
     * Reads the shard headers of {@code folder} (not the data).
     *
     * @throws IllegalArgumentException when the folder is missing, holds no shard, or the shards disagree (widths,
     *                                  value files, row counts), naming the file and what to do
     */
    public static ShardedMemory open(Path folder) throws IOException {
        Path dir = folder.toAbsolutePath().normalize();
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("memory folder " + folder + " does not exist or is not a folder; "
                    + "create one with `shard` (see the README's Spark section)");
        }
        List<Integer> numbers = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Matcher m = NAME.matcher(p.getFileName().toString());
                if (m.matches()) {
                    numbers.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        if (numbers.isEmpty()) {
            throw new IllegalArgumentException("memory folder " + folder + " holds no shard-NNNNN.npy file; "
                    + "create shards with `shard` (see the README's Spark section)");
        }
        Collections.sort(numbers);
        List<Shard> shards = new ArrayList<>();
        int dim = -1;
        int valueDim = -1;
        Boolean separate = null;
        long offset = 0;
        for (int n : numbers) {
            Path x = dir.resolve(patternsName(n));
            Path v = dir.resolve(valuesName(n));
            long[] xs = floatShape(x);
            boolean hasValues = Files.exists(v);
            if (separate == null) {
                separate = hasValues;
            } else if (separate != hasValues) {
                throw new IllegalArgumentException("shard " + x + (hasValues ? " has" : " lacks") + " a values file "
                        + "but shard " + dir.resolve(patternsName(numbers.getFirst())) + (separate ? " has one" : " does not")
                        + "; every shard needs values, or none");
            }
            if (dim < 0) {
                dim = (int) xs[1];
            } else if (xs[1] != dim) {
                throw new IllegalArgumentException("shard " + x + " stores d=" + xs[1] + " but earlier shards store d=" + dim
                        + "; every shard must have the same width");
            }
            int dv = dim;
            if (hasValues) {
                long[] vs = floatShape(v);
                if (vs[0] != xs[0]) {
                    throw new IllegalArgumentException("values " + v + " have " + vs[0] + " rows but its patterns " + x
                            + " have " + xs[0] + "; rewrite the shard");
                }
                dv = (int) vs[1];
            }
            if (valueDim < 0) {
                valueDim = dv;
            } else if (dv != valueDim) {
                throw new IllegalArgumentException("values " + v + " store dv=" + dv + " but earlier shards store dv=" + valueDim
                        + "; every shard must have the same value width");
            }
            shards.add(new Shard(n, x.toString(), hasValues ? v.toString() : null, offset, xs[0]));
            offset += xs[0];
        }
        return new ShardedMemory(dir, dim, valueDim, separate, shards);
    }

    private static long[] floatShape(Path file) throws IOException {
        Npy.Header h = Npy.readHeader(file);
        if (!h.descr().equals("<f4") || h.fortranOrder() || h.shape().length != 2) {
            throw new IllegalArgumentException("shard " + file + " must be a 2-D float32 (<f4, C order) array, found "
                    + h.descr() + " of shape " + java.util.Arrays.toString(h.shape()) + (h.fortranOrder() ? " (Fortran order)" : "")
                    + "; rewrite it with `shard`");
        }
        return h.shape();
    }

    static String patternsName(int number) {
        return String.format("shard-%05d.npy", number);
    }

    static String valuesName(int number) {
        return String.format("shard-%05d.values.npy", number);
    }

    /**
     * Writes {@code patterns} (M×d) and {@code values} (M×dv, or null for V = X) into a new folder as shards of
     * {@code rowsPerShard} rows (the last one smaller). The folder must not exist or be empty.
     */
    public static ShardedMemory write(Path folder, FloatMatrix patterns, FloatMatrix values, long rowsPerShard) throws IOException {
        Objects.requireNonNull(patterns, "patterns");
        requireRowsPerShard(rowsPerShard);
        checkValues(patterns, values);
        Path dir = folder.toAbsolutePath().normalize();
        if (Files.exists(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("folder " + folder + " is not empty; write shards into a new folder, "
                            + "or use append to add to an existing memory");
                }
            }
        }
        Files.createDirectories(dir);
        writeShards(dir, 0, patterns, values, rowsPerShard);
        return open(dir);
    }

    private static void requireRowsPerShard(long rowsPerShard) {
        if (rowsPerShard < 1) {
            throw new IllegalArgumentException("rows per shard must be >= 1, got " + rowsPerShard);
        }
    }

    private static void checkValues(FloatMatrix patterns, FloatMatrix values) {
        if (values != null && values.rows() != patterns.rows()) {
            throw new IllegalArgumentException("values have " + values.rows() + " rows but patterns have " + patterns.rows());
        }
    }

    /** Writes rows of {@code patterns}/{@code values} as shards numbered from {@code first}; values before patterns. */
    private static void writeShards(Path dir, int first, FloatMatrix patterns, FloatMatrix values, long rowsPerShard)
            throws IOException {
        int n = first;
        for (long from = 0; from < patterns.rows(); from += rowsPerShard, n++) {
            long to = Math.min(patterns.rows(), from + rowsPerShard);
            // Values first: open() lists shards by their patterns file, so a crash in between leaves no half shard.
            if (values != null) {
                Npy.write(dir.resolve(valuesName(n)), values.rows(from, to));
            }
            Npy.write(dir.resolve(patternsName(n)), patterns.rows(from, to));
        }
    }

    /**
     * Appends n rows at the end of the memory: the newest shard is filled up to {@code rowsPerShard} rows (rewritten
     * through a temporary file), the rest goes into new shards. Existing global indices do not change; the new rows
     * get indices {@code [size(), size() + n)}.
     *
     * @param values n×dv, or null when this memory's values are its patterns
     * @return the memory as it now is
     */
    public ShardedMemory append(FloatMatrix patterns, FloatMatrix values, long rowsPerShard) throws IOException {
        checkAppend(patterns, values, rowsPerShard);
        Shard last = shards.getLast();
        long fill = Math.min(patterns.rows(), Math.max(0, rowsPerShard - last.rows()));
        if (fill > 0) {
            extend(last, patterns.rows(0, fill), values == null ? null : values.rows(0, fill));
        }
        if (fill < patterns.rows()) {
            writeShards(folder, last.number() + 1, patterns.rows(fill, patterns.rows()),
                    values == null ? null : values.rows(fill, values.rows()), rowsPerShard);
        }
        return open(folder);
    }

    private void checkAppend(FloatMatrix patterns, FloatMatrix values, long rowsPerShard) {
        Objects.requireNonNull(patterns, "patterns");
        requireRowsPerShard(rowsPerShard);
        if (patterns.cols() != dim) {
            throw new IllegalArgumentException("patterns have d=" + patterns.cols() + " columns but memory " + folder
                    + " stores d=" + dim);
        }
        if (separateValues != (values != null)) {
            throw new IllegalArgumentException(separateValues
                    ? "memory " + folder + " stores values (dv=" + valueDim + "); append patterns together with their values"
                    : "memory " + folder + " stores no values (V = X); append patterns only");
        }
        checkValues(patterns, values);
        if (values != null && values.cols() != valueDim) {
            throw new IllegalArgumentException("values have dv=" + values.cols() + " columns but memory " + folder
                    + " stores dv=" + valueDim);
        }
        patterns.requireFinite("patterns");
        if (values != null) {
            values.requireFinite("values");
        }
    }

    /**
     * What {@link #appendMerging} did.
     *
     * @param memory the memory as it now is
     * @param merged appended rows merged into an existing row of the newest shard
     * @param added  appended rows stored as new rows
     */
    public record Appended(ShardedMemory memory, long merged, long added) {
    }

    /** Writes a matrix as a whole {@code .npy} file to a (temporary) path; a seam for tests that inject failures. */
    @FunctionalInterface
    interface ShardFileWriter {
        void write(Path file, FloatMatrix m) throws IOException;
    }

    /**
     * Appends n rows, merging near-duplicates into the newest shard. Each appended row x (in order) is compared by
     * cosine similarity {@code cos(x, x_j) = x·x_j / (|x|·|x_j|)} with every row j of the newest shard as it is at that
     * moment (rows appended earlier in the same call included; a zero row is never similar). The rule is the
     * single-machine {@link PatternStore}'s:
     * <ul>
     *   <li>{@code max_j cos(x, x_j) > mergeThreshold}: merge into the most similar row j by an exponential moving
     *       average, {@code x_j ← (1−α)·x_j + α·x}, {@code v_j ← (1−α)·v_j + α·v} (α = {@code mergeRate}); unlike the
     *       pattern store, rows are not renormalised, since a sharded memory stores patterns as given. Row j keeps
     *       its global index.</li>
     *   <li>otherwise: x is added at the end, in the newest shard while it has fewer than {@code rowsPerShard} rows,
     *       else in a new shard, which then is the newest one.</li>
     * </ul>
     * Only the newest shard and new shards are written; older shards, and so the global index of every row other than
     * the added ones, do not change. Each shard file is written to a temporary file first (values and patterns both),
     * then moved into place, values first, so a failure while writing leaves the shard as it was.
     *
     * @param patterns       n×d, finite
     * @param values         n×dv, or null when this memory's values are its patterns
     * @param mergeThreshold cosine threshold in (−1, 1] ({@link PatternStore#DEFAULT_MERGE_SIMILARITY} on one machine)
     * @param mergeRate      EMA weight α of the appended row, in (0, 1] ({@link PatternStore#DEFAULT_MERGE_RATE})
     */
    public Appended appendMerging(FloatMatrix patterns, FloatMatrix values, long rowsPerShard, double mergeThreshold,
                                  double mergeRate) throws IOException {
        return appendMerging(patterns, values, rowsPerShard, mergeThreshold, mergeRate, Npy::write);
    }

    Appended appendMerging(FloatMatrix patterns, FloatMatrix values, long rowsPerShard, double mergeThreshold,
                           double mergeRate, ShardFileWriter writer) throws IOException {
        checkAppend(patterns, values, rowsPerShard);
        if (!(mergeThreshold > -1 && mergeThreshold <= 1)) {
            throw new IllegalArgumentException("merge threshold must be a cosine in (-1, 1], got " + mergeThreshold);
        }
        if (!(mergeRate > 0 && mergeRate <= 1)) {
            throw new IllegalArgumentException("merge rate must be in (0, 1], got " + mergeRate);
        }
        Shard last = shards.getLast();
        if (last.rows() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("newest shard " + last.patterns() + " has " + last.rows()
                    + " rows, too many to merge into; compact the memory into smaller shards first");
        }
        int number = last.number();
        List<float[]> xs = readRows(Path.of(last.patterns()));
        List<float[]> vs = separateValues ? readRows(Path.of(last.values())) : null;
        List<Double> norms = new ArrayList<>(xs.size());
        for (float[] row : xs) {
            norms.add(norm(row));
        }
        boolean dirty = false;
        long merged = 0;
        long added = 0;
        for (long i = 0; i < patterns.rows(); i++) {
            float[] x = patterns.row(i);
            float[] v = values == null ? null : values.row(i);
            double nx = norm(x);
            int best = -1;
            double bestCos = Double.NEGATIVE_INFINITY;
            if (nx > 0) {
                for (int j = 0; j < xs.size(); j++) {
                    if (norms.get(j) > 0) {
                        double c = dot(x, xs.get(j)) / (nx * norms.get(j));
                        if (c > bestCos) {
                            bestCos = c;
                            best = j;
                        }
                    }
                }
            }
            if (best >= 0 && bestCos > mergeThreshold) {
                float[] row = xs.get(best);
                ema(row, x, mergeRate);
                norms.set(best, norm(row));
                if (vs != null) {
                    ema(vs.get(best), v, mergeRate);
                }
                merged++;
            } else {
                if (xs.size() >= rowsPerShard) {
                    if (dirty) {
                        writeShard(folder, number, xs, vs, writer);
                    }
                    number++;
                    xs = new ArrayList<>();
                    vs = separateValues ? new ArrayList<>() : null;
                    norms = new ArrayList<>();
                }
                xs.add(x);
                norms.add(nx);
                if (vs != null) {
                    vs.add(v);
                }
                added++;
            }
            dirty = true;
        }
        if (dirty) {
            writeShard(folder, number, xs, vs, writer);
        }
        return new Appended(open(folder), merged, added);
    }

    private static List<float[]> readRows(Path file) throws IOException {
        try (FloatMatrix m = Npy.readFloat(file)) {
            List<float[]> rows = new ArrayList<>((int) m.rows());
            for (long r = 0; r < m.rows(); r++) {
                rows.add(m.row(r));
            }
            return rows;
        }
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int c = 0; c < a.length; c++) {
            s += (double) a[c] * b[c];
        }
        return s;
    }

    private static double norm(float[] a) {
        return Math.sqrt(dot(a, a));
    }

    /** {@code row ← (1−α)·row + α·x}, as {@link PatternStore} merges. */
    private static void ema(float[] row, float[] x, double a) {
        for (int c = 0; c < row.length; c++) {
            row[c] = (float) ((1 - a) * row[c] + a * x[c]);
        }
    }

    /** Writes shard {@code number} whole: both temporaries first, then the moves, values before patterns. */
    private static void writeShard(Path dir, int number, List<float[]> xs, List<float[]> vs, ShardFileWriter writer)
            throws IOException {
        Path x = dir.resolve(patternsName(number));
        Path v = dir.resolve(valuesName(number));
        Path tmpX = null;
        Path tmpV = null;
        try (FloatMatrix mx = toMatrix(xs, dim(xs, x)); FloatMatrix mv = vs == null ? null : toMatrix(vs, dim(vs, v))) {
            if (mv != null) {
                tmpV = AtomicFiles.newTempFile(v);
                writer.write(tmpV, mv);
            }
            tmpX = AtomicFiles.newTempFile(x);
            writer.write(tmpX, mx);
            if (tmpV != null) {
                AtomicFiles.move(tmpV, v);
            }
            AtomicFiles.move(tmpX, x);
        } finally {
            if (tmpV != null) {
                Files.deleteIfExists(tmpV);
            }
            if (tmpX != null) {
                Files.deleteIfExists(tmpX);
            }
        }
    }

    private static int dim(List<float[]> rows, Path file) throws IOException {
        return rows.isEmpty() ? (int) Npy.readHeader(file).shape()[1] : rows.getFirst().length;
    }

    private static FloatMatrix toMatrix(List<float[]> rows, int cols) {
        FloatMatrix m = FloatMatrix.allocate(rows.size(), cols);
        for (int r = 0; r < rows.size(); r++) {
            float[] row = rows.get(r);
            for (int c = 0; c < cols; c++) {
                m.set(r, c, row[c]);
            }
        }
        return m;
    }

    private static void extend(Shard shard, FloatMatrix patterns, FloatMatrix values) throws IOException {
        if (values != null) {
            rewriteWith(Path.of(shard.values()), values);
        }
        rewriteWith(Path.of(shard.patterns()), patterns);
    }

    private static void rewriteWith(Path file, FloatMatrix more) throws IOException {
        try (FloatMatrix old = Npy.readFloat(file); FloatMatrix both = FloatMatrix.allocate(old.rows() + more.rows(), old.cols())) {
            old.copyInto(both, 0);
            more.copyInto(both, old.rows());
            Npy.write(file, both);
        }
    }

    /**
     * Re-cuts the memory into shards of {@code rowsPerShard} rows (the last one smaller), keeping the order of rows,
     * so every global index still names the same pattern. The new shards are written into a folder beside this one,
     * which then takes this folder's place; the old shards are deleted last.
     *
     * @return the compacted memory
     */
    public ShardedMemory compact(long rowsPerShard) throws IOException {
        requireRowsPerShard(rowsPerShard);
        Path parent = folder.getParent();
        String tag = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
        Path staging = parent.resolve("." + folder.getFileName() + "." + tag + ".compacting");
        Path old = parent.resolve("." + folder.getFileName() + "." + tag + ".old");
        Files.createDirectory(staging);
        try {
            int next = 0;
            long pending = 0;
            FloatMatrix bufX = FloatMatrix.allocate(rowsPerShard, dim);
            FloatMatrix bufV = separateValues ? FloatMatrix.allocate(rowsPerShard, valueDim) : null;
            try (bufX; Arena arena = Arena.ofConfined()) {
                for (Shard s : shards) {
                    if (s.rows() == 0) {
                        continue;
                    }
                    FloatMatrix x = Npy.mapFloat(Path.of(s.patterns()), arena);
                    FloatMatrix v = s.values() == null ? null : Npy.mapFloat(Path.of(s.values()), arena);
                    for (long r = 0; r < s.rows(); ) {
                        long take = Math.min(s.rows() - r, rowsPerShard - pending);
                        x.rows(r, r + take).copyInto(bufX, pending);
                        if (v != null) {
                            v.rows(r, r + take).copyInto(bufV, pending);
                        }
                        pending += take;
                        r += take;
                        if (pending == rowsPerShard) {
                            writeShards(staging, next++, bufX, bufV, rowsPerShard);
                            pending = 0;
                        }
                    }
                }
                if (pending > 0 || next == 0) {
                    writeShards(staging, next, bufX.rows(0, pending), bufV == null ? null : bufV.rows(0, pending), rowsPerShard);
                    if (pending == 0) { // an all-empty memory keeps one empty shard
                        Npy.write(staging.resolve(patternsName(0)), bufX.rows(0, 0));
                        if (bufV != null) {
                            Npy.write(staging.resolve(valuesName(0)), bufV.rows(0, 0));
                        }
                    }
                }
            } finally {
                if (bufV != null) {
                    bufV.close();
                }
            }
            Files.move(folder, old);
            Files.move(staging, folder);
        } finally {
            deleteTree(staging);
        }
        deleteTree(old);
        return open(folder);
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : (Iterable<Path>) s::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (NoSuchFileException | NotDirectoryException e) {
            return;
        }
        Files.deleteIfExists(dir);
    }

    /**
     * Cuts the global rows {@code [0, M)} into {@code partitions} contiguous ranges of nearly equal size (more
     * partitions than rows leaves some empty) and says which slice of which shard each range reads.
     *
     * @return one list of slices per partition, in global order
     */
    public List<List<Slice>> plan(int partitions) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        List<List<Slice>> out = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            long from = size * p / partitions;
            long to = size * (p + 1) / partitions;
            out.add(slices(from, to));
        }
        return out;
    }

    /** One partition per shard (empty shards give empty partitions). */
    public List<List<Slice>> planByShard() {
        List<List<Slice>> out = new ArrayList<>(shards.size());
        for (Shard s : shards) {
            out.add(s.rows() == 0 ? List.of() : List.of(new Slice(s.patterns(), s.values(), 0, s.rows(), s.offset())));
        }
        return out;
    }

    /** The shard slices that hold global rows {@code [from, to)}. */
    private List<Slice> slices(long from, long to) {
        List<Slice> out = new ArrayList<>();
        for (Shard s : shards) {
            long a = Math.max(from, s.offset());
            long b = Math.min(to, s.offset() + s.rows());
            if (a < b) {
                out.add(new Slice(s.patterns(), s.values(), a - s.offset(), b - s.offset(), s.offset()));
            }
        }
        return out;
    }

    /**
     * Rows {@code [from, to)} of one shard file, whose row 0 has global index {@code shardOffset}.
     *
     * @param values the shard's values file, or null for V = X
     */
    public record Slice(String patterns, String values, long from, long to, long shardOffset) implements Serializable {
        @Serial
        private static final long serialVersionUID = 1L;

        public long rows() {
            return to - from;
        }
    }

    public Path folder() {
        return folder;
    }

    /** Total number of patterns M. */
    public long size() {
        return size;
    }

    /** Pattern width d. */
    public int dim() {
        return dim;
    }

    /** Value width dv (= d when V = X). */
    public int valueDim() {
        return valueDim;
    }

    /** True when the shards carry values files (V ≠ X). */
    public boolean separateValues() {
        return separateValues;
    }

    public List<Shard> shards() {
        return shards;
    }

    @Override
    public String toString() {
        return "ShardedMemory[" + folder + ", M=" + size + ", d=" + dim + (separateValues ? ", dv=" + valueDim : ", V=X")
                + ", shards=" + shards.size() + "]";
    }
}
