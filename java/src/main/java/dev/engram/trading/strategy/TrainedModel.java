package dev.engram.trading.strategy;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.engine.Backend;
import dev.engram.hnn.ModelFile;
import dev.engram.hnn.ModelFormatException;
import dev.engram.hopfield.DenseAssociativeMemory;
import dev.engram.tensor.AtomicFiles;
import dev.engram.trading.backtest.MarketData;
import dev.engram.trading.backtest.MarketFeatures;
import dev.engram.trading.backtest.Strategy;
import dev.engram.trading.backtest.TrainingSet;
import dev.engram.trading.backtest.WalkForward;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.Interval;
import dev.engram.trading.data.TimedValues;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * A strategy fitted once on a window of bars, with everything needed to decide later bars exactly as it would have
 * in a walk-forward test window that starts right after the training window: the strategy's learned state, its
 * settings, the feature configuration, and the data range it saw. {@code engram train} writes one, {@code engram
 * forecast} and {@code engram watch} read it.
 * <p>
 * <b>File format</b>, version {@value #VERSION}, little-endian:
 * <pre>
 *   magic    8 bytes  "ENGRAMTM"
 *   version  int32    1
 *   N        int32    length of the header
 *   header   N bytes  UTF-8 JSON: kind, settings, features {lookback, z_window, dim, bars_per_year}, data {symbol,
 *                     interval, symbols, first_bar, last_bar, bars, patterns, horizon, embargo}, state (scalars) and
 *                     blobs {name: {dtype, shape, offset, length}} (offsets relative to the end of the header)
 *   blobs    the arrays, back to back (F32, F64, I64, I32 little-endian; U8: an embedded file)
 *   crc32    int64    CRC-32 of every byte before it
 * </pre>
 * The blobs per kind: memory: patterns F32 [M, d], outcomes F64 [M], times I64 [M], symbols I32 [M]; store: the
 * pattern store file (U8, its own versioned format); dense: the model's parameter blocks param.0 … param.8 (F64);
 * hnn: the model in the safetensors format of {@link ModelFile} (U8). The file length must equal what the header
 * implies, so truncation is named as such before the checksum is checked; a version other than 1 is refused with
 * a one-line message. Files are written to a temporary file beside the target and moved into place.
 */
public final class TrainedModel implements AutoCloseable {
    /** The format version this build writes and reads. */
    public static final int VERSION = 1;
    static final byte[] MAGIC = "ENGRAMTM".getBytes(StandardCharsets.US_ASCII);
    private static final int PREFIX = 8 + 4 + 4;
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * The data a model was trained on.
     *
     * @param symbol     the traded symbol
     * @param interval   bar interval
     * @param symbols    every symbol whose patterns the model learned from (the traded one first)
     * @param firstBarMs start of the training window's first bar (UTC ms)
     * @param lastBarMs  start of the last bar whose close the training saw: the model may decide bars from this one on
     * @param bars       bars of the traded symbol in the training window
     * @param patterns   labelled patterns learned from
     * @param horizon    outcome horizon h in bars
     * @param embargo    bars dropped after the purge
     */
    public record DataRange(String symbol, Interval interval, List<String> symbols, long firstBarMs, long lastBarMs,
                            int bars, int patterns, int horizon, int embargo) {
    }

    /**
     * The feature configuration the model was trained with ({@link MarketFeatures}).
     *
     * @param barsPerYear annualisation of the volatility feature
     */
    public record Features(int lookback, int zWindow, int dim, double barsPerYear) {
        /** The features of {@code series} under this configuration. */
        public MarketData of(BarSeries series) {
            return new MarketData(series, MarketFeatures.of(series, lookback, zWindow, barsPerYear));
        }
    }

    private final String kind;
    private final HnnStrategy.Kind hnnKind;
    private final List<String> inputNames;
    private final Strategies.Settings settings;
    private final Features features;
    private final DataRange data;
    private final Strategy strategy;

    private TrainedModel(String kind, HnnStrategy.Kind hnnKind, List<String> inputNames, Strategies.Settings settings,
                         Features features, DataRange data, Strategy strategy) {
        this.kind = kind;
        this.hnnKind = hnnKind;
        this.inputNames = List.copyOf(inputNames);
        this.settings = settings;
        this.features = features;
        this.data = data;
        this.strategy = strategy;
    }

    /**
     * Fits strategy {@code kind} on the bars [trainFrom, testFrom) of {@code traded} (labels purged as a walk-forward
     * fold whose first decision bar is testFrom, which may be one past the last bar) and the same period of the other
     * symbols of {@code universe}.
     */
    public static TrainedModel train(String kind, Strategies.Settings settings, HnnStrategy.Kind hnnKind,
                                     List<TimedValues> inputs, Features features, MarketData traded,
                                     List<MarketData> universe, int trainFrom, int testFrom, int horizon, int embargo) {
        return train(kind, settings, hnnKind, inputs, features, traded, universe, trainFrom, testFrom, horizon, embargo,
                dev.engram.trading.backtest.FitProgress.NONE);
    }

    /** {@link #train} reporting the progress of the fit's long phase to {@code progress}. */
    public static TrainedModel train(String kind, Strategies.Settings settings, HnnStrategy.Kind hnnKind,
                                     List<TimedValues> inputs, Features features, MarketData traded,
                                     List<MarketData> universe, int trainFrom, int testFrom, int horizon, int embargo,
                                     dev.engram.trading.backtest.FitProgress progress) {
        if (testFrom < 1 || testFrom > traded.size() || trainFrom < traded.features().first() || trainFrom >= testFrom) {
            throw new IllegalArgumentException("training window [" + trainFrom + ", " + testFrom + ") is outside the "
                    + traded.size() + " bars of " + traded.symbol() + " with features from bar "
                    + traded.features().first());
        }
        WalkForward wf = new WalkForward(Math.max(testFrom - trainFrom, horizon + embargo + 2), 1, horizon, embargo,
                true);
        List<MarketData> all = new ArrayList<>(universe);
        if (all.stream().noneMatch(m -> m == traded)) {
            all.addFirst(traded);
        }
        TrainingSet ts = TrainingSet.of(traded, all, new WalkForward.Fold(0, trainFrom, testFrom, testFrom + 1), wf);
        Strategy s = Strategies.create(kind, settings, hnnKind, inputs);
        try {
            s.setProgress(progress);
            s.fit(ts);
            s.setProgress(dev.engram.trading.backtest.FitProgress.NONE);
        } catch (RuntimeException e) {
            s.close();
            throw e;
        }
        DataRange range = new DataRange(traded.symbol(), traded.series().interval(), ts.symbolNames(),
                traded.series().startMs(trainFrom), traded.series().startMs(testFrom - 1), testFrom - trainFrom,
                ts.size(), horizon, embargo);
        return new TrainedModel(kind, hnnKind, inputs.stream().map(TimedValues::name).toList(), settings, features,
                range, s);
    }

    /** memory, store, dense or hnn. */
    public String kind() {
        return kind;
    }

    /** The hnn strategy's model kind (HNN for the other strategies). */
    public HnnStrategy.Kind hnnKind() {
        return hnnKind;
    }

    /** Names of the port model's input series, in order (empty for the other models). */
    public List<String> inputNames() {
        return inputNames;
    }

    public Strategies.Settings settings() {
        return settings;
    }

    public Features features() {
        return features;
    }

    public DataRange data() {
        return data;
    }

    /** The fitted strategy; decides without being fitted again. Owned by this object. */
    public Strategy strategy() {
        return strategy;
    }

    /** Per-fit facts for outputs ({@link Strategies#describe}). */
    public Map<String, Object> fit() {
        List<?> folds = (List<?>) Strategies.describe(strategy).get("folds");
        @SuppressWarnings("unchecked")
        Map<String, Object> m = folds.isEmpty() ? new LinkedHashMap<>() : (Map<String, Object>) folds.getFirst();
        return m;
    }

    /**
     * The features of {@code series} as this model needs them; refuses a series of another interval.
     *
     * @param what how to name the series in messages (e.g. the file)
     */
    public MarketData marketData(BarSeries series, String what) {
        if (series.interval() != data.interval()) {
            throw new IllegalArgumentException(what + " has " + series.interval() + " bars but the model was trained on "
                    + data.interval() + " bars; use bars of the model's interval");
        }
        return features.of(series);
    }

    /**
     * Refuses a decision at a bar that starts before the last bar the training saw: the model would know what came
     * after it.
     */
    public void checkDecisionTime(long barStartMs, String what) {
        if (barStartMs < data.lastBarMs()) {
            throw new IllegalArgumentException(what + " " + Instant.ofEpochMilli(barStartMs) + " is before the end of the "
                    + "model's training data (" + Instant.ofEpochMilli(data.lastBarMs()) + "): the model has seen what "
                    + "followed it; choose a later bar or train on data that ends before it");
        }
    }

    // ------------------------------------------------------------------------------------------------ writing

    /** Writes the model to {@code file} atomically. */
    public void save(Path file) throws IOException {
        Blobs blobs = new Blobs();
        ObjectNode header = JSON.createObjectNode();
        header.put("format", "engram-trained-model").put("version", VERSION).put("kind", kind);
        header.put("created", Instant.now().toString());
        ObjectNode st = header.putObject("settings");
        SignalRule rule = settings.signal();
        RiskRules risk = settings.risk();
        putDouble(st, "beta", settings.beta());
        st.put("target_confidence", settings.targetConfidence()).put("k", settings.k())
                .put("threshold", rule.threshold()).put("min_confidence", rule.minConfidence())
                .put("scale", rule.scale()).put("max_position", rule.maxPosition())
                .put("min_similarity", risk.minSimilarity()).put("min_consensus", risk.minConsensus())
                .put("volatility_scaling", risk.volatilityScaling()).put("seed", settings.seed())
                .put("hnn_kind", hnnKind.label());
        ArrayNode in = st.putArray("inputs");
        inputNames.forEach(in::add);
        header.putObject("features").put("lookback", features.lookback()).put("z_window", features.zWindow())
                .put("dim", features.dim()).put("bars_per_year", features.barsPerYear());
        ObjectNode d = header.putObject("data");
        d.put("symbol", data.symbol()).put("interval", data.interval().toString());
        ArrayNode syms = d.putArray("symbols");
        data.symbols().forEach(syms::add);
        d.put("first_bar", Instant.ofEpochMilli(data.firstBarMs()).toString()).put("first_bar_ms", data.firstBarMs())
                .put("last_bar", Instant.ofEpochMilli(data.lastBarMs()).toString()).put("last_bar_ms", data.lastBarMs())
                .put("bars", data.bars()).put("patterns", data.patterns()).put("horizon", data.horizon())
                .put("embargo", data.embargo());
        ObjectNode state = header.putObject("state");
        switch (strategy) {
            case MemoryStrategy ms -> {
                MemoryStrategy.State s = ms.state();
                int m = s.outcomes().length;
                state.put("beta", (double) s.beta()).put("outcome_std", s.outcomeStd());
                ArrayNode names = state.putArray("symbols");
                s.symbolNames().forEach(names::add);
                blobs.f32("patterns", new long[] {m, s.dim()}, s.patterns());
                blobs.f64("outcomes", new long[] {m}, s.outcomes());
                blobs.i64("times", new long[] {m}, s.times());
                blobs.i32("symbols", new long[] {m}, s.symbols());
            }
            case StoreStrategy ss -> {
                StoreStrategy.State s = ss.state();
                state.put("beta", (double) s.beta()).put("outcome_std", s.outcomeStd())
                        .put("last_inserted_ms", s.lastInsertedMs());
                putDouble(state, "calibration_confidence", s.calibrationConfidence());
                Path tmp = AtomicFiles.newTempFile(file);
                try {
                    ss.saveStore(tmp);
                    blobs.u8("store", Files.readAllBytes(tmp));
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            case DenseMemoryStrategy ds -> {
                DenseMemoryStrategy.State s = ds.state();
                DenseAssociativeMemory.Config c = s.model();
                state.put("outcome_std", s.outcomeStd()).put("input_dim", c.inputDim()).put("value_dim", c.valueDim())
                        .put("memory_size", c.memorySize()).put("heads", c.heads()).put("head_dim", c.headDim())
                        .put("model_dim", c.modelDim()).put("initial_beta", c.beta())
                        .put("learn_beta", c.learnBeta()).put("blocks", s.parameters().length);
                for (int i = 0; i < s.parameters().length; i++) {
                    blobs.f64("param." + i, new long[] {s.parameters()[i].length}, s.parameters()[i]);
                }
            }
            case HnnStrategy hs -> {
                HnnStrategy.State s = hs.state();
                state.put("q_scale", s.qScale()).put("p_scale", s.pScale()).put("noise", s.noise())
                        .put("horizon", s.horizon()).put("fit_index", s.fitIndex());
                ArrayNode um = state.putArray("u_mean");
                Arrays.stream(s.uMean()).forEach(um::add);
                ArrayNode us = state.putArray("u_std");
                Arrays.stream(s.uStd()).forEach(us::add);
                blobs.u8("model", ModelFile.toBytes(s.model(), ModelFile.Precision.F64));
            }
            default -> throw new IllegalStateException("no file format for strategy " + strategy.name());
        }
        header.set("blobs", blobs.index);
        byte[] json = JSON.writeValueAsBytes(header);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(MAGIC);
        out.write(le(4).putInt(VERSION).array());
        out.write(le(4).putInt(json.length).array());
        out.write(json);
        out.write(blobs.bytes.toByteArray());
        CRC32 crc = new CRC32();
        byte[] body = out.toByteArray();
        crc.update(body);
        byte[] all = Arrays.copyOf(body, body.length + 8);
        le(8).putLong(crc.getValue()).flip().get(all, body.length, 8);
        AtomicFiles.write(file, tmp -> Files.write(tmp, all));
    }

    // ------------------------------------------------------------------------------------------------ reading

    /**
     * Reads a model written by {@link #save}.
     *
     * @param engine the engine its strategy will run on
     * @param inputs the port model's input series (the names the model lists, in order); empty for other models
     * @throws ModelFormatException naming the file and the problem (one line)
     */
    public static TrainedModel load(Path file, Backend engine, List<TimedValues> inputs) throws IOException {
        byte[] b = Files.readAllBytes(file);
        if (b.length < PREFIX + 8) {
            throw new ModelFormatException(file, "truncated: " + b.length + " bytes, shorter than the "
                    + (PREFIX + 8) + " bytes of an empty model file");
        }
        if (!Arrays.equals(Arrays.copyOf(b, 8), MAGIC)) {
            throw new ModelFormatException(file, "not an Engram trained model (it does not start with ENGRAMTM); "
                    + "write one with engram train");
        }
        int version = ByteBuffer.wrap(b, 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (version > VERSION) {
            throw new ModelFormatException(file, "written in model format version " + version + " by a newer Engram; "
                    + "this build reads version " + VERSION + ": update Engram or train the model again with this build");
        }
        if (version != VERSION) {
            throw new ModelFormatException(file, "model format version " + version + " is not one this build reads ("
                    + VERSION + "); train the model again");
        }
        int n = ByteBuffer.wrap(b, 12, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        if (n < 2 || (long) PREFIX + n + 8 > b.length) {
            throw new ModelFormatException(file, "truncated: the header needs " + n + " bytes but the file has "
                    + b.length + " bytes in all");
        }
        JsonNode h;
        try {
            h = JSON.readTree(new String(b, PREFIX, n, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file, "the header is not valid JSON (" + e.getOriginalMessage()
                    + "); the file is corrupted");
        }
        JsonNode blobs = h.path("blobs");
        long payload = 0;
        for (JsonNode e : blobs) {
            payload = Math.max(payload, e.path("offset").asLong(-1) + e.path("length").asLong(-1));
        }
        long expected = (long) PREFIX + n + payload + 8;
        if (b.length < expected) {
            throw new ModelFormatException(file, "truncated: " + b.length + " bytes, the header implies " + expected);
        }
        if (b.length > expected) {
            throw new ModelFormatException(file, (b.length - expected) + " bytes after the end the header implies ("
                    + expected + "); the file is corrupted");
        }
        CRC32 crc = new CRC32();
        crc.update(b, 0, b.length - 8);
        long stored = ByteBuffer.wrap(b, b.length - 8, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (stored != crc.getValue()) {
            throw new ModelFormatException(file, "checksum mismatch (CRC-32 " + Long.toHexString(crc.getValue())
                    + ", stored " + Long.toHexString(stored) + "): the file is corrupted; train the model again");
        }
        int trainedInputs = h.path("settings").path("inputs").size();
        if (trainedInputs != inputs.size()) { // the user's mistake, not the file's
            throw new IllegalArgumentException(file + " was trained with " + trainedInputs + " input series "
                    + h.path("settings").path("inputs") + ", " + inputs.size() + " given: give the same --funding / "
                    + "--open-interest files as to train");
        }
        try {
            return decode(file, h, new Reader(file, b, PREFIX + n, blobs), engine, inputs);
        } catch (IllegalArgumentException | NullPointerException | IllegalStateException e) {
            throw new ModelFormatException(file, "inconsistent contents: " + e.getMessage());
        }
    }

    private static TrainedModel decode(Path file, JsonNode h, Reader r, Backend engine, List<TimedValues> inputs)
            throws IOException {
        String kind = text(file, h, "kind");
        JsonNode st = h.path("settings");
        HnnStrategy.Kind hnnKind = HnnStrategy.Kind.parse(text(file, st, "hnn_kind"));
        List<String> names = new ArrayList<>();
        st.path("inputs").forEach(x -> names.add(x.asText()));
        Strategies.Settings settings = new Strategies.Settings(engine, num(file, st, "beta", true),
                num(file, st, "target_confidence", false), (int) num(file, st, "k", false),
                new SignalRule(num(file, st, "threshold", false), num(file, st, "min_confidence", false),
                        num(file, st, "scale", false), num(file, st, "max_position", false)),
                new RiskRules(num(file, st, "min_similarity", false), num(file, st, "min_consensus", false),
                        st.path("volatility_scaling").asBoolean()), st.path("seed").asLong());
        JsonNode f = h.path("features");
        Features features = new Features((int) num(file, f, "lookback", false), (int) num(file, f, "z_window", false),
                (int) num(file, f, "dim", false), num(file, f, "bars_per_year", false));
        JsonNode d = h.path("data");
        List<String> symbols = new ArrayList<>();
        d.path("symbols").forEach(x -> symbols.add(x.asText()));
        DataRange range = new DataRange(text(file, d, "symbol"), Interval.parse(text(file, d, "interval")), symbols,
                d.path("first_bar_ms").asLong(), d.path("last_bar_ms").asLong(), d.path("bars").asInt(),
                d.path("patterns").asInt(), d.path("horizon").asInt(), d.path("embargo").asInt());
        JsonNode s = h.path("state");
        MemoryStrategy.Config mc = settings.memory();
        Strategy strategy = switch (kind) {
            case "memory" -> {
                long[] shape = r.shape("patterns");
                List<String> sn = new ArrayList<>();
                s.path("symbols").forEach(x -> sn.add(x.asText()));
                yield MemoryStrategy.restore(mc, new MemoryStrategy.State((int) shape[1], r.f32("patterns"),
                        r.f64("outcomes"), r.i64("times"), r.i32("symbols"), sn, (float) num(file, s, "beta", false),
                        num(file, s, "outcome_std", false)));
            }
            case "store" -> {
                Path tmp = AtomicFiles.newTempFile(file);
                try {
                    Files.write(tmp, r.u8("store"));
                    yield StoreStrategy.restore(new StoreStrategy.Config(mc, Strategies.STORE_CAPACITY),
                            new StoreStrategy.State((float) num(file, s, "beta", false), num(file, s, "outcome_std", false),
                                    num(file, s, "calibration_confidence", true), s.path("last_inserted_ms").asLong()),
                            tmp);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            case "dense" -> {
                DenseAssociativeMemory.Config c = new DenseAssociativeMemory.Config(s.path("input_dim").asInt(),
                        s.path("value_dim").asInt(), s.path("memory_size").asInt(), s.path("heads").asInt(),
                        s.path("head_dim").asInt(), s.path("model_dim").asInt(), num(file, s, "initial_beta", false),
                        s.path("learn_beta").asBoolean());
                double[][] p = new double[s.path("blocks").asInt()][];
                for (int i = 0; i < p.length; i++) {
                    p[i] = r.f64("param." + i);
                }
                yield DenseMemoryStrategy.restore(DenseMemoryStrategy.Config.defaults(mc, settings.seed()),
                        new DenseMemoryStrategy.State(c, p, num(file, s, "outcome_std", false)));
            }
            case "hnn" -> {
                var model = ModelFile.fromBytes(file, r.u8("model"));
                double[] um = doubles(s.path("u_mean"));
                double[] us = doubles(s.path("u_std"));
                yield HnnStrategy.restore(HnnStrategy.Config.defaults(engine, settings.signal(), settings.seed()),
                        hnnKind, inputs, new HnnStrategy.State(model, num(file, s, "q_scale", false),
                                num(file, s, "p_scale", false), num(file, s, "noise", false), s.path("horizon").asInt(),
                                um, us, s.path("fit_index").asInt()));
            }
            default -> throw new ModelFormatException(file, "unknown model kind '" + kind + "' (this build knows "
                    + Strategies.NAMES + ")");
        };
        return new TrainedModel(kind, hnnKind, names, settings, features, range, strategy);
    }

    @Override
    public void close() {
        strategy.close();
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static ByteBuffer le(int n) {
        return ByteBuffer.allocate(n).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static void putDouble(ObjectNode o, String name, double v) {
        if (Double.isFinite(v)) {
            o.put(name, v);
        } else {
            o.putNull(name);
        }
    }

    private static String text(Path file, JsonNode o, String name) throws ModelFormatException {
        JsonNode v = o.get(name);
        if (v == null || !v.isTextual()) {
            throw new ModelFormatException(file, "header field " + name + " is missing; the file is not a complete "
                    + "trained model");
        }
        return v.asText();
    }

    /** A number field; null gives NaN when {@code nullable}. */
    private static double num(Path file, JsonNode o, String name, boolean nullable) throws ModelFormatException {
        JsonNode v = o.get(name);
        if (v != null && v.isNull() && nullable) {
            return Double.NaN;
        }
        if (v == null || !v.isNumber()) {
            throw new ModelFormatException(file, "header field " + name + " is missing or not a number");
        }
        return v.asDouble();
    }

    private static double[] doubles(JsonNode a) {
        double[] v = new double[a.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = a.get(i).asDouble();
        }
        return v;
    }

    /** Blobs being written: the bytes and their index for the header. */
    private static final class Blobs {
        final ObjectNode index = JSON.createObjectNode();
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        private ByteBuffer add(String name, String dtype, long[] shape, int length) {
            ObjectNode e = index.putObject(name);
            e.put("dtype", dtype);
            ArrayNode s = e.putArray("shape");
            for (long x : shape) {
                s.add(x);
            }
            e.put("offset", bytes.size()).put("length", length);
            return le(length);
        }

        void f32(String name, long[] shape, float[] v) {
            ByteBuffer b = add(name, "F32", shape, v.length * 4);
            for (float x : v) {
                b.putFloat(x);
            }
            bytes.writeBytes(b.array());
        }

        void f64(String name, long[] shape, double[] v) {
            ByteBuffer b = add(name, "F64", shape, v.length * 8);
            for (double x : v) {
                b.putDouble(x);
            }
            bytes.writeBytes(b.array());
        }

        void i64(String name, long[] shape, long[] v) {
            ByteBuffer b = add(name, "I64", shape, v.length * 8);
            for (long x : v) {
                b.putLong(x);
            }
            bytes.writeBytes(b.array());
        }

        void i32(String name, long[] shape, int[] v) {
            ByteBuffer b = add(name, "I32", shape, v.length * 4);
            for (int x : v) {
                b.putInt(x);
            }
            bytes.writeBytes(b.array());
        }

        void u8(String name, byte[] v) {
            add(name, "U8", new long[] {v.length}, v.length);
            bytes.writeBytes(v);
        }
    }

    /** Blobs being read, checked against their index entry. */
    private record Reader(Path file, byte[] b, int start, JsonNode index) {
        long[] shape(String name) throws ModelFormatException {
            JsonNode s = entry(name).path("shape");
            long[] v = new long[s.size()];
            for (int i = 0; i < v.length; i++) {
                v[i] = s.get(i).asLong();
            }
            return v;
        }

        private JsonNode entry(String name) throws ModelFormatException {
            JsonNode e = index.get(name);
            if (e == null) {
                throw new ModelFormatException(file, "blob " + name + " is missing");
            }
            return e;
        }

        private ByteBuffer bytes(String name, String dtype, int size) throws ModelFormatException {
            JsonNode e = entry(name);
            if (!dtype.equals(e.path("dtype").asText())) {
                throw new ModelFormatException(file, "blob " + name + " has dtype " + e.path("dtype").asText()
                        + ", expected " + dtype);
            }
            long count = 1;
            for (long x : shape(name)) {
                count *= x;
            }
            long off = e.path("offset").asLong();
            long len = e.path("length").asLong();
            if (len != count * size || off < 0 || start + off + len > b.length - 8) {
                throw new ModelFormatException(file, "blob " + name + " has " + len + " bytes at offset " + off
                        + ", its shape needs " + count * size);
            }
            return ByteBuffer.wrap(b, (int) (start + off), (int) len).order(ByteOrder.LITTLE_ENDIAN);
        }

        float[] f32(String name) throws ModelFormatException {
            ByteBuffer bb = bytes(name, "F32", 4);
            float[] v = new float[bb.remaining() / 4];
            bb.asFloatBuffer().get(v);
            for (float x : v) {
                if (!Float.isFinite(x)) {
                    throw new ModelFormatException(file, "blob " + name + " holds " + x);
                }
            }
            return v;
        }

        double[] f64(String name) throws ModelFormatException {
            ByteBuffer bb = bytes(name, "F64", 8);
            double[] v = new double[bb.remaining() / 8];
            bb.asDoubleBuffer().get(v);
            for (double x : v) {
                if (!Double.isFinite(x)) {
                    throw new ModelFormatException(file, "blob " + name + " holds " + x);
                }
            }
            return v;
        }

        long[] i64(String name) throws ModelFormatException {
            ByteBuffer bb = bytes(name, "I64", 8);
            long[] v = new long[bb.remaining() / 8];
            bb.asLongBuffer().get(v);
            return v;
        }

        int[] i32(String name) throws ModelFormatException {
            ByteBuffer bb = bytes(name, "I32", 4);
            int[] v = new int[bb.remaining() / 4];
            bb.asIntBuffer().get(v);
            return v;
        }

        byte[] u8(String name) throws ModelFormatException {
            ByteBuffer bb = bytes(name, "U8", 1);
            byte[] v = new byte[bb.remaining()];
            bb.get(v);
            return v;
        }
    }
}
