package dev.engram.hnn;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.engram.tensor.AtomicFiles;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Trained models in the <a href="https://huggingface.co/docs/safetensors">safetensors</a> format, readable by any
 * safetensors reader:
 * <pre>
 *   u64 little-endian N | N bytes of JSON header (UTF-8, space-padded to a multiple of 8) | raw little-endian data
 * </pre>
 * Header: {@code "__metadata__"} (string values) {@code format = "engram-hnn"}, {@code version = "1"},
 * {@code kind} ({@link LearnedField#kind()}), {@code dof}, {@code inputs}, {@code networks} (comma-separated names in
 * θ order) and {@code widths.<net>} (comma-separated, e.g. {@code "2,200,200,1"}); then one entry per tensor
 * {@code "<net>.<k>.weight"} (shape [widths[k+1], widths[k]], row-major) and {@code "<net>.<k>.bias"}
 * (shape [widths[k+1]]), each {@code {"dtype": "F64"|"F32", "shape": [...], "data_offsets": [begin, end]}}
 * relative to the start of the data. Files are written to a temporary file and moved into place.
 */
public final class ModelFile {
    /** The value of {@code __metadata__.format}. */
    public static final String FORMAT = "engram-hnn";
    /** The version this build writes and reads. */
    public static final int VERSION = 1;

    /** Storage precision of the tensors: F64 round-trips θ exactly; F32 halves the file (engines run float32). */
    public enum Precision { F32, F64 }

    private static final ObjectMapper JSON = new ObjectMapper();

    private ModelFile() {
    }

    /** Saves θ in float64 (exact). */
    public static void save(LearnedField model, Path file) throws IOException {
        save(model, file, Precision.F64);
    }

    /** Saves the model's networks and metadata to {@code file}, atomically. */
    public static void save(LearnedField model, Path file, Precision precision) throws IOException {
        byte[] bytes = toBytes(model, precision);
        AtomicFiles.write(file, tmp -> Files.write(tmp, bytes));
    }

    /** The bytes {@link #save} writes (for containers that embed a model, such as the trading model file). */
    public static byte[] toBytes(LearnedField model, Precision precision) throws IOException {
        double[] theta = model.parameters();
        for (int i = 0; i < theta.length; i++) {
            if (!Double.isFinite(theta[i])) {
                throw new IllegalArgumentException("model parameter " + i + " is " + theta[i] + "; not saved");
            }
        }
        int size = precision == Precision.F64 ? 8 : 4;
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        meta.put("format", FORMAT).put("version", Integer.toString(VERSION)).put("kind", model.kind())
                .put("dof", Integer.toString(model.dof())).put("inputs", Integer.toString(model.inputCount()))
                .put("networks", String.join(",", model.networks().keySet()));
        List<double[]> chunks = new ArrayList<>();
        long offset = 0;
        for (Map.Entry<String, Mlp> e : model.networks().entrySet()) {
            Mlp net = e.getValue();
            int[] w = net.widths();
            meta.put("widths." + e.getKey(), join(w));
            for (int k = 0; k < net.layers(); k++) {
                int rows = w[k + 1];
                int cols = w[k];
                double[] weight = Arrays.copyOfRange(theta, net.weightOffset(k), net.weightOffset(k) + rows * cols);
                double[] bias = Arrays.copyOfRange(theta, net.biasOffset(k), net.biasOffset(k) + rows);
                offset = tensor(header, e.getKey() + "." + k + ".weight", precision, new int[] {rows, cols}, offset,
                        weight.length * (long) size);
                chunks.add(weight);
                offset = tensor(header, e.getKey() + "." + k + ".bias", precision, new int[] {rows}, offset,
                        bias.length * (long) size);
                chunks.add(bias);
            }
        }
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] headerBytes = Arrays.copyOf(json, padded);
        Arrays.fill(headerBytes, json.length, padded, (byte) ' ');

        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded);
        out.write(len.array());
        out.write(headerBytes);
        for (double[] c : chunks) {
            ByteBuffer b = ByteBuffer.allocate(c.length * size).order(ByteOrder.LITTLE_ENDIAN);
            for (double v : c) {
                if (precision == Precision.F64) {
                    b.putDouble(v);
                } else {
                    b.putFloat((float) v);
                }
            }
            out.write(b.array());
        }
        return out.toByteArray();
    }

    /**
     * Loads a model saved by {@link #save}. Checks format, version, kind, the widths against dof and inputs, every
     * tensor's presence, dtype, shape and byte range, and that every value is finite.
     *
     * @throws ModelFormatException naming the file and the problem
     */
    public static LearnedField load(Path file) throws IOException {
        return fromBytes(file, Files.readAllBytes(file));
    }

    /**
     * Reads a model from the bytes of a model file ({@link #toBytes}); {@code file} only names the source in
     * messages.
     *
     * @throws ModelFormatException naming the file and the problem
     */
    public static LearnedField fromBytes(Path file, byte[] bytes) throws IOException {
        if (bytes.length < 8) {
            throw new ModelFormatException(file, "truncated: " + bytes.length + " bytes, not even the 8-byte header length");
        }
        long n = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        if (n < 2 || n > bytes.length - 8L) {
            throw new ModelFormatException(file, "truncated or not safetensors: header length " + n + " but the file has "
                    + bytes.length + " bytes");
        }
        JsonNode header;
        try {
            header = JSON.readTree(new String(bytes, 8, (int) n, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file, "header is not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode meta = header.get("__metadata__");
        if (meta == null || !FORMAT.equals(meta.path("format").asText())) {
            throw new ModelFormatException(file, "not an " + FORMAT + " model (__metadata__.format is "
                    + (meta == null ? "missing" : "'" + meta.path("format").asText() + "'") + ")");
        }
        String version = meta.path("version").asText();
        if (!Integer.toString(VERSION).equals(version)) {
            throw new ModelFormatException(file, "model file version '" + version + "', this build reads version "
                    + VERSION);
        }
        String kind = meta.path("kind").asText();
        int dof = intField(file, meta, "dof");
        int inputs = intField(file, meta, "inputs");
        String[] names = meta.path("networks").asText().split(",");
        Map<String, int[]> widths = new LinkedHashMap<>();
        for (String name : names) {
            String w = meta.path("widths." + name).asText(null);
            if (w == null) {
                throw new ModelFormatException(file, "metadata widths." + name + " is missing");
            }
            try {
                widths.put(name, Arrays.stream(w.split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray());
            } catch (NumberFormatException e) {
                throw new ModelFormatException(file, "metadata widths." + name + " is not a list of integers: '" + w + "'");
            }
        }
        LearnedField model;
        try {
            model = assemble(kind, dof, inputs, names, widths);
        } catch (IllegalArgumentException e) {
            throw new ModelFormatException(file, e.getMessage());
        }
        double[] theta = model.parameters();
        long dataStart = 8 + n;
        for (Map.Entry<String, Mlp> e : model.networks().entrySet()) {
            Mlp net = e.getValue();
            int[] w = net.widths();
            for (int k = 0; k < net.layers(); k++) {
                read(file, bytes, dataStart, header, e.getKey() + "." + k + ".weight", new int[] {w[k + 1], w[k]},
                        theta, net.weightOffset(k));
                read(file, bytes, dataStart, header, e.getKey() + "." + k + ".bias", new int[] {w[k + 1]}, theta,
                        net.biasOffset(k));
            }
        }
        return model;
    }

    /** {@link #load(Path)} and a check that the model is of the expected class. */
    public static <T extends LearnedField> T load(Path file, Class<T> type) throws IOException {
        LearnedField m = load(file);
        if (!type.isInstance(m)) {
            throw new ModelFormatException(file, "holds a '" + m.kind() + "' model, expected " + type.getSimpleName());
        }
        return type.cast(m);
    }

    private static LearnedField assemble(String kind, int dof, int inputs, String[] names, Map<String, int[]> widths) {
        String[] expected = switch (kind) {
            case HamiltonianNetwork.KIND -> new String[] {"H"};
            case SeparableHamiltonianNetwork.KIND -> new String[] {"T", "V"};
            case DissipativeHamiltonianNetwork.KIND -> new String[] {"H", "D"};
            case PortHamiltonianNetwork.KIND -> new String[] {"H", "D", "G"};
            case DerivativeNetwork.KIND -> new String[] {"F"};
            default -> throw new IllegalArgumentException("unknown model kind '" + kind + "'");
        };
        if (!Arrays.equals(expected, names)) {
            throw new IllegalArgumentException("a '" + kind + "' model has networks " + String.join(",", expected)
                    + ", the file lists " + String.join(",", names));
        }
        if (inputs != 0 && !kind.equals(PortHamiltonianNetwork.KIND) && !kind.equals(DerivativeNetwork.KIND)) {
            throw new IllegalArgumentException("a '" + kind + "' model takes no inputs, the file says inputs = " + inputs);
        }
        int[][] ws = new int[expected.length][];
        for (int i = 0; i < expected.length; i++) {
            ws[i] = widths.get(expected[i]);
            for (int v : ws[i]) {
                if (v < 1) {
                    throw new IllegalArgumentException("widths." + expected[i] + " " + Arrays.toString(ws[i])
                            + " has a width < 1");
                }
            }
        }
        double[] theta = new double[Networks.count(ws)];
        return switch (kind) {
            case HamiltonianNetwork.KIND -> new HamiltonianNetwork(dof, widths, theta);
            case SeparableHamiltonianNetwork.KIND -> new SeparableHamiltonianNetwork(dof, widths, theta);
            case DissipativeHamiltonianNetwork.KIND -> new DissipativeHamiltonianNetwork(dof, widths, theta);
            case PortHamiltonianNetwork.KIND -> new PortHamiltonianNetwork(dof, inputs, widths, theta);
            default -> new DerivativeNetwork(dof, inputs, widths, theta);
        };
    }

    private static void read(Path file, byte[] bytes, long dataStart, JsonNode header, String name, int[] shape,
                             double[] theta, int at) throws ModelFormatException {
        JsonNode t = header.get(name);
        if (t == null) {
            throw new ModelFormatException(file, "missing tensor " + name);
        }
        String dtype = t.path("dtype").asText();
        int size = switch (dtype) {
            case "F64" -> 8;
            case "F32" -> 4;
            default -> throw new ModelFormatException(file, "tensor " + name + " has dtype '" + dtype
                    + "', expected F64 or F32");
        };
        JsonNode s = t.path("shape");
        int[] got = new int[s.size()];
        for (int i = 0; i < got.length; i++) {
            got[i] = s.get(i).asInt();
        }
        if (!Arrays.equals(got, shape)) {
            throw new ModelFormatException(file, "width mismatch: tensor " + name + " has shape " + Arrays.toString(got)
                    + ", the metadata widths need " + Arrays.toString(shape));
        }
        JsonNode off = t.path("data_offsets");
        long begin = off.path(0).asLong(-1);
        long end = off.path(1).asLong(-1);
        long count = shape.length == 2 ? (long) shape[0] * shape[1] : shape[0];
        if (begin < 0 || end - begin != count * size) {
            throw new ModelFormatException(file, "tensor " + name + " has data_offsets [" + begin + ", " + end
                    + "], expected " + count * size + " bytes");
        }
        if (dataStart + end > bytes.length) {
            throw new ModelFormatException(file, "truncated: tensor " + name + " ends at byte " + (dataStart + end)
                    + " but the file has " + bytes.length);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes, (int) (dataStart + begin), (int) (end - begin))
                .order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < count; i++) {
            double v = size == 8 ? b.getDouble() : b.getFloat();
            if (!Double.isFinite(v)) {
                throw new ModelFormatException(file, "tensor " + name + " element " + i + " is " + v);
            }
            theta[at + i] = v;
        }
    }

    private static long tensor(ObjectNode header, String name, Precision precision, int[] shape, long offset,
                               long bytes) {
        ObjectNode t = header.putObject(name);
        t.put("dtype", precision.name());
        ArrayNode s = t.putArray("shape");
        for (int d : shape) {
            s.add(d);
        }
        t.putArray("data_offsets").add(offset).add(offset + bytes);
        return offset + bytes;
    }

    private static int intField(Path file, JsonNode meta, String name) throws ModelFormatException {
        String v = meta.path(name).asText();
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new ModelFormatException(file, "metadata " + name + " is not an integer: '" + v + "'");
        }
    }

    private static String join(int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < w.length; i++) {
            sb.append(i == 0 ? "" : ",").append(w[i]);
        }
        return sb.toString();
    }
}
