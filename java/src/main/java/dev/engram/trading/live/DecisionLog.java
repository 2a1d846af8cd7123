package dev.engram.trading.live;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The live loop's JSON-lines log: one object per line, {@code "type"} = {@code "start"} (first line: symbol,
 * interval, model, where the history begins), {@code "decision"} (one per decided bar, {@code bar_ms} increasing),
 * {@code "late"} (a bar that arrived after a later one was accepted, ignored), {@code "revised"} (the first version
 * of a bar the source sent again with other values; the first version stands) or {@code "learned"} (a pattern added
 * to the pattern store with {@code --store}: its bar, outcome, the bar whose close realised it, what the store did;
 * written after the store file, so a crash between the two leaves a line out, never in twice) or {@code "skipped"}
 * (a pattern not learned because its features or outcome are not finite: its bar and why). Each line is appended
 * with one write and forced to disk; a last line without its newline (the loop stopped while writing it) is cut off
 * when the log is opened again, so its bar is decided again rather than skipped.
 */
public final class DecisionLog {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path file;
    private ObjectNode start;
    private long lastDecisionMs = Long.MIN_VALUE;
    private int decisions;
    private final Set<Long> late = new HashSet<>();
    private final java.util.Map<Long, dev.engram.trading.data.Bar> originals = new java.util.HashMap<>();
    private final boolean repaired;
    private int learned;
    private long maxKnownAtMs = Long.MIN_VALUE;

    private DecisionLog(Path file, boolean repaired) {
        this.file = file;
        this.repaired = repaired;
    }

    /** Opens {@code file}, reading what an earlier run wrote (created on the first append when missing). */
    public static DecisionLog open(Path file) throws IOException {
        if (!Files.exists(file)) {
            return new DecisionLog(file, false);
        }
        byte[] b = Files.readAllBytes(file);
        int end = b.length;
        while (end > 0 && b[end - 1] != '\n') {
            end--;
        }
        boolean repaired = end < b.length;
        if (repaired) {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                ch.truncate(end);
                ch.force(true);
            }
        }
        DecisionLog log = new DecisionLog(file, repaired);
        String[] lines = new String(b, 0, end, StandardCharsets.UTF_8).split("\n");
        int n = 0;
        for (String line : lines) {
            n++;
            if (line.isBlank()) {
                continue;
            }
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (JsonProcessingException e) {
                throw new IllegalArgumentException(file + " line " + n + " is not JSON (" + e.getOriginalMessage()
                        + "); it is not a watch log: give another --log");
            }
            switch (j.path("type").asText()) {
                case "start" -> {
                    if (log.start == null) {
                        log.start = (ObjectNode) j;
                    }
                }
                case "decision" -> {
                    long t = j.path("bar_ms").asLong();
                    if (t <= log.lastDecisionMs) {
                        throw new IllegalArgumentException(file + " line " + n + " decides bar_ms " + t
                                + " after a decision at " + log.lastDecisionMs + "; the log is damaged");
                    }
                    log.lastDecisionMs = t;
                    log.decisions++;
                }
                case "late" -> log.late.add(j.path("bar_ms").asLong());
                case "skipped" -> {
                }
                case "revised" -> log.originals.put(j.path("bar_ms").asLong(), bar(j));
                case "learned" -> {
                    log.learned++;
                    log.maxKnownAtMs = Math.max(log.maxKnownAtMs, j.path("known_at_ms").asLong(Long.MIN_VALUE));
                }
                default -> throw new IllegalArgumentException(file + " line " + n + " has type '"
                        + j.path("type").asText() + "'; it is not a watch log: give another --log");
            }
        }
        if (log.start == null && log.decisions > 0) {
            throw new IllegalArgumentException(file + " has decisions but no start line; it is not a watch log");
        }
        return log;
    }

    public Path file() {
        return file;
    }

    /** The start line of an earlier run. */
    public Optional<ObjectNode> start() {
        return Optional.ofNullable(start);
    }

    /** Bar start of the last decision logged, {@code Long.MIN_VALUE} when none. */
    public long lastDecisionMs() {
        return lastDecisionMs;
    }

    /** Decisions logged (by earlier runs and this one). */
    public int decisions() {
        return decisions;
    }

    /** Patterns logged as learned into the pattern store (by earlier runs and this one). */
    public int learned() {
        return learned;
    }

    /** The newest {@code known_at_ms} of the learned lines ({@code Long.MIN_VALUE} when none). */
    public long maxKnownAtMs() {
        return maxKnownAtMs;
    }

    /** Bar starts logged as late (ignored). */
    public Set<Long> lateBars() {
        return Set.copyOf(late);
    }

    /**
     * The first version of each bar the source later sent again with other values (logged as {@code "revised"}): a
     * restarted loop uses these, so its series is the one the decisions were made from.
     */
    public java.util.Map<Long, dev.engram.trading.data.Bar> originals() {
        return java.util.Map.copyOf(originals);
    }

    /** A {@code "revised"} line holding the first version of a bar. */
    public static ObjectNode revised(dev.engram.trading.data.Bar b) {
        ObjectNode o = JSON.createObjectNode();
        o.put("type", "revised").put("bar", java.time.Instant.ofEpochMilli(b.startMs()).toString())
                .put("bar_ms", b.startMs()).put("open", b.open()).put("high", b.high()).put("low", b.low())
                .put("close", b.close()).put("volume", b.volume());
        if (b.hasTurnover()) {
            o.put("turnover", b.turnover());
        }
        return o;
    }

    private static dev.engram.trading.data.Bar bar(JsonNode j) {
        return new dev.engram.trading.data.Bar(j.path("bar_ms").asLong(), j.path("open").asDouble(),
                j.path("high").asDouble(), j.path("low").asDouble(), j.path("close").asDouble(),
                j.path("volume").asDouble(), j.has("turnover") ? j.path("turnover").asDouble() : Double.NaN);
    }

    /** Whether a partial last line was cut off when the log was opened. */
    public boolean repaired() {
        return repaired;
    }

    /** Appends one line; a decision's {@code bar_ms} must be after the last one. */
    public void append(ObjectNode line) throws IOException {
        String type = line.path("type").asText();
        if (type.equals("decision")) {
            long t = line.path("bar_ms").asLong();
            if (t <= lastDecisionMs) {
                throw new IllegalStateException("decision for bar_ms " + t + " after one for " + lastDecisionMs);
            }
        }
        byte[] bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(false);
        }
        switch (type) {
            case "start" -> start = line;
            case "decision" -> {
                lastDecisionMs = line.path("bar_ms").asLong();
                decisions++;
            }
            case "late" -> late.add(line.path("bar_ms").asLong());
            case "revised" -> originals.put(line.path("bar_ms").asLong(), bar(line));
            case "learned" -> {
                learned++;
                maxKnownAtMs = Math.max(maxKnownAtMs, line.path("known_at_ms").asLong(Long.MIN_VALUE));
            }
            default -> {
            }
        }
    }
}
