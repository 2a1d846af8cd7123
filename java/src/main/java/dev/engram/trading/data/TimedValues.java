package dev.engram.trading.data;

import dev.engram.tensor.AtomicFiles;
import de.siegmar.fastcsv.reader.CsvParseException;
import de.siegmar.fastcsv.reader.CsvReader;
import de.siegmar.fastcsv.reader.CsvRecord;
import de.siegmar.fastcsv.writer.CsvWriter;
import de.siegmar.fastcsv.writer.LineDelimiter;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.Objects;

/**
 * A value series stamped with publication times: funding rates, open interest and other external inputs u(t). Value
 * {@code values[k]} became known at {@code times[k]} (UTC ms); times strictly increase, values are finite.
 * <p>
 * CSV form: header {@code timestamp,<name>}, epoch-ms times, shortest exact doubles, LF line ends (lossless).
 */
public record TimedValues(String name, long[] times, double[] values) {
    public TimedValues {
        Objects.requireNonNull(name, "name");
        if (times.length != values.length) {
            throw new IllegalArgumentException(name + ": " + times.length + " times but " + values.length + " values");
        }
        for (int k = 0; k < times.length; k++) {
            if (k > 0 && times[k] <= times[k - 1]) {
                throw new IllegalArgumentException(name + ": time " + times[k] + " at index " + k
                        + " does not follow " + times[k - 1] + "; times must strictly increase");
            }
            if (!Double.isFinite(values[k])) {
                throw new IllegalArgumentException(name + ": value at " + times[k] + " is " + values[k]);
            }
        }
        times = times.clone();
        values = values.clone();
    }

    public int size() {
        return times.length;
    }

    @Override
    public long[] times() {
        return times.clone();
    }

    @Override
    public double[] values() {
        return values.clone();
    }

    public long time(int k) {
        return times[k];
    }

    public double value(int k) {
        return values[k];
    }

    /** Entries with time in [fromMs, toMs). */
    public TimedValues between(long fromMs, long toMs) {
        int a = lowerBound(fromMs);
        int b = Math.max(a, lowerBound(toMs));
        return new TimedValues(name, Arrays.copyOfRange(times, a, b), Arrays.copyOfRange(values, a, b));
    }

    /**
     * Relative changes v_k / v_{k−1} − 1, published at times[k] (k ≥ 1; a zero previous value gives 0). For open
     * interest this is the positioning flow input.
     */
    public TimedValues relativeChange(String newName) {
        int n = Math.max(0, size() - 1);
        long[] t = new long[n];
        double[] v = new double[n];
        for (int k = 1; k < size(); k++) {
            t[k - 1] = times[k];
            v[k - 1] = values[k - 1] != 0 ? values[k] / values[k - 1] - 1 : 0;
        }
        return new TimedValues(newName, t, v);
    }

    /** The union with {@code newer}; at equal times the newer value is kept. */
    public TimedValues merge(TimedValues newer) {
        long[] t = new long[size() + newer.size()];
        double[] v = new double[t.length];
        int i = 0;
        int j = 0;
        int n = 0;
        while (i < size() || j < newer.size()) {
            if (j >= newer.size() || i < size() && times[i] < newer.times[j]) {
                t[n] = times[i];
                v[n++] = values[i++];
            } else {
                if (i < size() && times[i] == newer.times[j]) {
                    i++;
                }
                t[n] = newer.times[j];
                v[n++] = newer.values[j++];
            }
        }
        return new TimedValues(name, Arrays.copyOf(t, n), Arrays.copyOf(v, n));
    }

    private int lowerBound(long ms) {
        int i = Arrays.binarySearch(times, ms);
        return i >= 0 ? i : -i - 1;
    }

    /** Writes {@code timestamp,<name>} CSV, replacing the file atomically. */
    public void write(Path file) throws IOException {
        AtomicFiles.writeStream(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            CsvWriter csv = CsvWriter.builder().lineDelimiter(LineDelimiter.LF).build(w);
            csv.writeRecord("timestamp", name);
            for (int k = 0; k < size(); k++) {
                csv.writeRecord(Long.toString(times[k]), Double.toString(values[k]));
            }
            csv.flush();
            w.flush();
        });
    }

    /**
     * Reads a two-column CSV written by {@link #write} (or any file whose first column is a time, as
     * {@link CsvBars} reads times, and whose second is a number); rows in increasing time order.
     */
    public static TimedValues read(Path file) throws IOException {
        String src = file.toString();
        String name = null;
        long[] t = new long[256];
        double[] v = new double[256];
        int n = 0;
        try (CsvReader<CsvRecord> csv = CsvReader.builder().skipEmptyLines(true).ofCsvRecord(file)) {
            for (CsvRecord rec : csv) {
                if (rec.getFieldCount() < 2) {
                    throw new BarFileException(src, rec.getStartingLineNumber(), null, null,
                            "has " + rec.getFieldCount() + " field(s); expected time and value");
                }
                if (name == null) {
                    name = rec.getField(1).trim();
                    continue;
                }
                long line = rec.getStartingLineNumber();
                long time = CsvBars.parseTime(src, line, "timestamp", rec.getField(0).trim(), ZoneOffset.UTC);
                double val;
                try {
                    val = Double.parseDouble(rec.getField(1).trim());
                } catch (NumberFormatException e) {
                    throw new BarFileException(src, line, name, rec.getField(1), "is not a number");
                }
                if (!Double.isFinite(val)) {
                    throw new BarFileException(src, line, name, rec.getField(1), "is not a finite number");
                }
                if (n > 0 && time <= t[n - 1]) {
                    throw new BarFileException(src, line, "timestamp", rec.getField(0),
                            "does not follow the previous row's time; rows must be in increasing time order");
                }
                if (n == t.length) {
                    t = Arrays.copyOf(t, 2 * n);
                    v = Arrays.copyOf(v, 2 * n);
                }
                t[n] = time;
                v[n++] = val;
            }
        } catch (CsvParseException e) {
            throw new IllegalArgumentException(src + ": not valid CSV (" + e.getMessage() + ")");
        }
        if (name == null) {
            throw new BarFileException(src, 1, null, null, "is empty; expected a header timestamp,<name>");
        }
        return new TimedValues(name, Arrays.copyOf(t, n), Arrays.copyOf(v, n));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TimedValues tv && name.equals(tv.name) && Arrays.equals(times, tv.times)
                && Arrays.equals(values, tv.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name, Arrays.hashCode(times), Arrays.hashCode(values));
    }

    @Override
    public String toString() {
        return "TimedValues[" + name + ", " + size() + " values]";
    }
}
