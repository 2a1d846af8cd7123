package dev.engram.trading.data;

import dev.engram.tensor.AtomicFiles;
import de.siegmar.fastcsv.reader.CsvParseException;
import de.siegmar.fastcsv.reader.CsvReader;
import de.siegmar.fastcsv.reader.CsvRecord;
import de.siegmar.fastcsv.writer.CsvWriter;
import de.siegmar.fastcsv.writer.LineDelimiter;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Reads and writes bar series as CSV (FastCSV).
 * <p>
 * <b>Import</b> accepts any OHLCV file with a header row:
 * <ul>
 * <li>column names matched case-insensitively, ignoring spaces, underscores and dashes: time from {@code timestamp},
 * {@code time}, {@code date}, {@code datetime}, {@code open_time}; {@code open}, {@code high}, {@code low},
 * {@code close}, {@code volume}; optional {@code turnover}, {@code adj close}, {@code liquidation}
 * ({@code liquidation_volume}); other columns are ignored;</li>
 * <li>timestamps as epoch milliseconds, epoch seconds (integers below 10¹¹ are seconds: 10¹¹ ms is 1973, 10¹¹ s is
 * year 5138; fractional seconds allowed), ISO-8601 dates ({@code 2024-01-31}: the day's start), date-times with a
 * zone or offset ({@code 2024-01-31T10:00:00Z}, {@code +02:00}), or without one ({@code 2024-01-31T10:00},
 * {@code 2024-01-31 10:00:00}), which are read in {@link Options#zone()} — <b>UTC unless told otherwise</b>;</li>
 * <li>comma or semicolon separated (decided from the header line), CRLF or LF line ends, a last line with or without
 * a newline, rows in any time order (sorted on import; two rows with the same time are an error naming both lines);</li>
 * <li>the stock layout (Date, Open, High, Low, Close, Adj Close, Volume) with {@link Prices#RAW} (Adj Close ignored)
 * or {@link Prices#ADJUSTED}: every price of the row is multiplied by adj close / close, so the bar stays valid and
 * comparable across splits and dividends (volume is left as it is).</li>
 * </ul>
 * A bad row gets a {@link BarFileException} naming the file, line, column and value. The interval is taken from
 * {@link Options#interval()} or inferred as the most common step between consecutive bars.
 * <p>
 * <b>Export</b> ({@link #write}) writes {@code timestamp,open,high,low,close,volume[,turnover][,liquidation]} with
 * epoch-millisecond times and each double in its shortest exact decimal form ({@link Double#toString}), LF line ends,
 * so reading the file back gives an equal series. The file is replaced atomically.
 */
public final class CsvBars {
    private CsvBars() {
    }

    /** Raw or split/dividend-adjusted prices for files that have an adj close column. */
    public enum Prices { RAW, ADJUSTED }

    /**
     * Import options.
     *
     * @param symbol   the series' symbol; null: the file name without extension and without a trailing
     *                 "-&lt;interval&gt;" ("BTCUSDT-60.csv" is BTCUSDT)
     * @param interval null: inferred from the most common step
     * @param prices   raw or adjusted (adjusted needs an adj close column)
     * @param zone     zone of date-times without one (and of plain dates)
     */
    public record Options(String symbol, Interval interval, Prices prices, ZoneId zone) {
        public Options {
            Objects.requireNonNull(prices, "prices");
            Objects.requireNonNull(zone, "zone");
        }

        /** File-name symbol, inferred interval, raw prices, UTC. */
        public static Options defaults() {
            return new Options(null, null, Prices.RAW, ZoneOffset.UTC);
        }

        public Options withSymbol(String s) {
            return new Options(s, interval, prices, zone);
        }

        public Options withInterval(Interval i) {
            return new Options(symbol, i, prices, zone);
        }

        public Options withPrices(Prices p) {
            return new Options(symbol, interval, p, zone);
        }

        public Options withZone(ZoneId z) {
            return new Options(symbol, interval, prices, z);
        }
    }

    /** Reads a file with default options (symbol from the file name, interval inferred, raw prices, UTC). */
    public static BarSeries read(Path file) throws IOException {
        return read(file, Options.defaults());
    }

    public static BarSeries read(Path file, Options options) throws IOException {
        String name = file.getFileName().toString();
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new NoSuchFileException(file.toString(), null, "no such file");
        }
        String symbol = options.symbol() != null ? options.symbol() : stem(name);
        return parse(file.toString(), text, options.withSymbol(symbol));
    }

    /**
     * Parses CSV text.
     *
     * @param source the name used in error messages (a file name)
     * @param options {@code symbol} must be set
     */
    public static BarSeries parse(String source, String text, Options options) {
        if (options.symbol() == null || options.symbol().isBlank()) {
            throw new IllegalArgumentException("symbol must be set to parse " + source);
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1);
        }
        char sep = separator(text);
        List<Row> rows = new ArrayList<>();
        Columns cols = null;
        try (Reader reader = new StringReader(text);
             CsvReader<CsvRecord> csv = CsvReader.builder().fieldSeparator(sep).skipEmptyLines(true)
                     .allowMissingFields(true).allowExtraFields(true).ofCsvRecord(reader)) {
            for (CsvRecord rec : csv) {
                if (cols == null) {
                    cols = Columns.of(source, rec, options.prices());
                    continue;
                }
                rows.add(cols.row(source, rec, options.zone(), options.prices()));
            }
        } catch (CsvParseException e) {
            throw new IllegalArgumentException(source + ": not valid CSV (" + e.getMessage() + ")");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (cols == null) {
            throw new BarFileException(source, 1, null, null, "has no header row (expected timestamp, open, high, "
                    + "low, close, volume)");
        }
        rows.sort(Comparator.comparingLong(Row::time));
        for (int i = 1; i < rows.size(); i++) {
            if (rows.get(i).time == rows.get(i - 1).time) {
                Row a = rows.get(i - 1);
                Row b = rows.get(i);
                long first = Math.min(a.line, b.line);
                long second = Math.max(a.line, b.line);
                throw new BarFileException(source, second, cols.timeName, b.timeText,
                        "repeats the time of line " + first + "; remove one of the two rows");
            }
        }
        Interval interval = options.interval() != null ? options.interval() : inferInterval(source, rows);
        BarSeries.Builder b = new BarSeries.Builder(options.symbol(), interval);
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            if (i > 0 && r.time < interval.next(rows.get(i - 1).time)) {
                throw new BarFileException(source, r.line, cols.timeName, r.timeText, "is less than one interval ("
                        + interval + ") after the bar of line " + rows.get(i - 1).line
                        + "; bars must not overlap (wrong --interval?)");
            }
            b.add(new Bar(r.time, r.open, r.high, r.low, r.close, r.volume, r.turnover), r.liquidation);
        }
        return b.build();
    }

    /** Writes a series as CSV (see the class comment), replacing {@code file} atomically. */
    public static void write(Path file, BarSeries series) throws IOException {
        AtomicFiles.writeStream(file, out -> {
            Writer w = new OutputStreamWriter(out, StandardCharsets.UTF_8);
            CsvWriter csv = CsvWriter.builder().lineDelimiter(LineDelimiter.LF).build(w);
            List<String> header = new ArrayList<>(List.of("timestamp", "open", "high", "low", "close", "volume"));
            if (series.hasTurnover()) {
                header.add("turnover");
            }
            if (series.hasLiquidation()) {
                header.add("liquidation");
            }
            csv.writeRecord(header);
            List<String> row = new ArrayList<>(8);
            for (int i = 0; i < series.size(); i++) {
                row.clear();
                row.add(Long.toString(series.startMs(i)));
                row.add(Double.toString(series.open(i)));
                row.add(Double.toString(series.high(i)));
                row.add(Double.toString(series.low(i)));
                row.add(Double.toString(series.close(i)));
                row.add(Double.toString(series.volume(i)));
                if (series.hasTurnover()) {
                    row.add(Double.toString(series.turnover(i)));
                }
                if (series.hasLiquidation()) {
                    row.add(Double.toString(series.liquidation(i)));
                }
                csv.writeRecord(row);
            }
            csv.flush();
            w.flush();
        });
    }

    /** The interval as the most common step between consecutive (sorted) times. */
    private static Interval inferInterval(String source, List<Row> rows) {
        if (rows.size() < 2) {
            throw new IllegalArgumentException(source + " has " + rows.size()
                    + " bar(s): too few to infer the interval; give it explicitly");
        }
        Map<Long, Integer> counts = new HashMap<>();
        long best = 0;
        int bestCount = 0;
        for (int i = 1; i < rows.size(); i++) {
            long d = rows.get(i).time - rows.get(i - 1).time;
            int c = counts.merge(d, 1, Integer::sum);
            if (c > bestCount || c == bestCount && d < best) {
                best = d;
                bestCount = c;
            }
        }
        Interval i = Interval.ofMillis(best);
        if (i != null) {
            return i;
        }
        if (best >= 28 * 86_400_000L && best <= 31 * 86_400_000L) {
            return Interval.MONTH;
        }
        throw new IllegalArgumentException(source + ": the most common step between bars is " + best
                + " ms, which is no known interval (" + Interval.names() + "); give the interval explicitly");
    }

    private static char separator(String text) {
        int end = text.indexOf('\n');
        String first = end < 0 ? text : text.substring(0, end);
        long semis = first.chars().filter(c -> c == ';').count();
        long commas = first.chars().filter(c -> c == ',').count();
        return semis > commas ? ';' : ',';
    }

    /** The file name without extension, and without a trailing "-&lt;interval&gt;" (BarCache's "BTCUSDT-60.csv"). */
    static String stem(String name) {
        int dot = name.lastIndexOf('.');
        String s = dot > 0 ? name.substring(0, dot) : name;
        int dash = s.lastIndexOf('-');
        if (dash > 0) {
            try {
                Interval.parse(s.substring(dash + 1));
                return s.substring(0, dash);
            } catch (IllegalArgumentException e) {
                return s;
            }
        }
        return s;
    }

    private record Row(long line, long time, String timeText, double open, double high, double low, double close,
                       double volume, double turnover, double liquidation) {
    }

    /** Column positions found in the header. */
    private record Columns(String[] names, int time, int open, int high, int low, int close, int volume, int turnover,
                           int adjClose, int liquidation, String timeName) {

        static Columns of(String source, CsvRecord header, Prices prices) {
            String[] names = header.getFields().toArray(String[]::new);
            Map<String, Integer> idx = new HashMap<>();
            for (int i = 0; i < names.length; i++) {
                idx.putIfAbsent(normal(names[i]), i);
            }
            int time = first(idx, "timestamp", "time", "date", "datetime", "opentime", "starttime", "start");
            int open = first(idx, "open");
            int high = first(idx, "high");
            int low = first(idx, "low");
            int close = first(idx, "close");
            int volume = first(idx, "volume", "vol");
            int turnover = first(idx, "turnover");
            int adj = first(idx, "adjclose", "adjustedclose");
            int liq = first(idx, "liquidation", "liquidationvolume", "liquidations");
            List<String> missing = new ArrayList<>();
            if (time < 0) {
                missing.add("timestamp (or time, date, open_time)");
            }
            if (open < 0) {
                missing.add("open");
            }
            if (high < 0) {
                missing.add("high");
            }
            if (low < 0) {
                missing.add("low");
            }
            if (close < 0) {
                missing.add("close");
            }
            if (volume < 0) {
                missing.add("volume");
            }
            if (!missing.isEmpty()) {
                throw new BarFileException(source, header.getStartingLineNumber(), null, null,
                        "is a header without the column(s) " + String.join(", ", missing) + " (found: "
                                + String.join(", ", names) + ")");
            }
            if (prices == Prices.ADJUSTED && adj < 0) {
                throw new BarFileException(source, header.getStartingLineNumber(), null, null,
                        "has no adj close column, so adjusted prices cannot be computed; import raw prices");
            }
            return new Columns(names, time, open, high, low, close, volume, turnover, adj, liq, names[time]);
        }

        Row row(String source, CsvRecord rec, ZoneId zone, Prices prices) {
            long line = rec.getStartingLineNumber();
            String timeText = field(source, rec, time);
            long t = parseTime(source, line, names[time], timeText, zone);
            double o = number(source, rec, open);
            double h = number(source, rec, high);
            double l = number(source, rec, low);
            double c = number(source, rec, close);
            double v = number(source, rec, volume);
            double to = turnover < 0 ? Double.NaN : number(source, rec, turnover);
            double lq = liquidation < 0 ? Double.NaN : number(source, rec, liquidation);
            Bar.Violation bad = Bar.check(o, h, l, c, v, to);
            if (bad != null) {
                throw new BarFileException(source, line, nameOf(bad.column()), field(source, rec, indexOf(bad.column())),
                        bad.reason());
            }
            if (!Double.isNaN(lq) && !(lq >= 0 && Double.isFinite(lq))) {
                throw new BarFileException(source, line, names[liquidation], field(source, rec, liquidation),
                        "is not a finite number >= 0");
            }
            if (prices == Prices.ADJUSTED) {
                double adj = number(source, rec, adjClose);
                if (!(adj > 0) || !Double.isFinite(adj)) {
                    throw new BarFileException(source, line, names[adjClose], field(source, rec, adjClose),
                            "is not a finite price > 0");
                }
                double f = adj / c;
                o *= f;
                h *= f;
                l *= f;
                c = adj;
                // rounding can push high a hair below max(open, close) or low above min(open, close)
                h = Math.max(h, Math.max(o, c));
                l = Math.min(l, Math.min(o, c));
            }
            return new Row(line, t, timeText, o, h, l, c, v, to, lq);
        }

        private int indexOf(String column) {
            return switch (column) {
                case "open" -> open;
                case "high" -> high;
                case "low" -> low;
                case "close" -> close;
                case "volume" -> volume;
                default -> turnover;
            };
        }

        private String nameOf(String column) {
            return names[indexOf(column)];
        }

        private double number(String source, CsvRecord rec, int col) {
            String s = field(source, rec, col);
            try {
                double d = Double.parseDouble(s);
                if (Double.isFinite(d)) {
                    return d;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new BarFileException(source, rec.getStartingLineNumber(), names[col], s, "is not a finite number");
        }

        private String field(String source, CsvRecord rec, int col) {
            if (col >= rec.getFieldCount()) {
                throw new BarFileException(source, rec.getStartingLineNumber(), names[col], null,
                        "is missing: the row has " + rec.getFieldCount() + " field(s), the header " + names.length);
            }
            return rec.getField(col).trim();
        }

        private static int first(Map<String, Integer> idx, String... keys) {
            for (String k : keys) {
                Integer i = idx.get(k);
                if (i != null) {
                    return i;
                }
            }
            return -1;
        }

        private static String normal(String name) {
            return name.trim().toLowerCase(Locale.ROOT).replace(" ", "").replace("_", "").replace("-", "");
        }
    }

    /** Epoch ms from epoch ms/s or ISO-8601 text; see the class comment. */
    static long parseTime(String source, long line, String column, String s, ZoneId zone) {
        if (!s.isEmpty() && (Character.isDigit(s.charAt(0)) && s.chars().allMatch(ch -> Character.isDigit(ch) || ch == '.'))
                && s.indexOf('-') < 0) {
            try {
                BigDecimal v = new BigDecimal(s);
                if (v.compareTo(BigDecimal.valueOf(100_000_000_000L)) >= 0) {
                    return v.longValueExact();
                }
                return v.movePointRight(3).setScale(0, java.math.RoundingMode.HALF_EVEN).longValueExact();
            } catch (ArithmeticException | NumberFormatException e) {
                throw new BarFileException(source, line, column, s, "is not an epoch time in whole milliseconds");
            }
        }
        try {
            String t = s.replace(' ', 'T');
            if (t.length() == 10) {
                return LocalDate.parse(t).atStartOfDay(zone).toInstant().toEpochMilli();
            }
            if (t.endsWith("Z") || t.matches(".*T.*[+-]\\d\\d:?\\d\\d$")) {
                return OffsetDateTime.parse(normalOffset(t)).toInstant().toEpochMilli();
            }
            if (t.endsWith("]")) {
                return ZonedDateTime.parse(t).toInstant().toEpochMilli();
            }
            return LocalDateTime.parse(t, DateTimeFormatter.ISO_LOCAL_DATE_TIME).atZone(zone).toInstant().toEpochMilli();
        } catch (DateTimeParseException e) {
            throw new BarFileException(source, line, column, s, "is not a time (epoch ms, epoch s, or ISO-8601 such as "
                    + "2024-01-31, 2024-01-31T10:00:00 or 2024-01-31T10:00:00Z)");
        }
    }

    private static String normalOffset(String t) {
        // +0200 -> +02:00 (ISO_OFFSET_DATE_TIME wants the colon)
        if (t.matches(".*[+-]\\d{4}$")) {
            return t.substring(0, t.length() - 2) + ":" + t.substring(t.length() - 2);
        }
        return t;
    }
}
