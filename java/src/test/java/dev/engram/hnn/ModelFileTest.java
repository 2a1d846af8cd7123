package dev.engram.hnn;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModelFileTest {
    @TempDir
    Path dir;

    static List<LearnedField> models() {
        return List.of(HamiltonianNetwork.create(2, new int[] {8, 6}, 1),
                SeparableHamiltonianNetwork.create(1, new int[] {5}, 2),
                DissipativeHamiltonianNetwork.create(2, new int[] {7}, new int[] {3}, 3),
                PortHamiltonianNetwork.create(1, 3, new int[] {6}, new int[] {2}, new int[] {4}, 4),
                DerivativeNetwork.create(1, 2, new int[] {9, 9}, 5));
    }

    @ParameterizedTest
    @MethodSource("models")
    void roundTripIsExactInF64AndFloatRoundedInF32(LearnedField model) throws IOException {
        Path f = dir.resolve(model.kind() + ".safetensors");
        ModelFile.save(model, f);
        LearnedField back = ModelFile.load(f);
        assertEquals(model.getClass(), back.getClass());
        assertEquals(model.dof(), back.dof());
        assertEquals(model.inputCount(), back.inputCount());
        assertArrayEquals(model.parameters(), back.parameters(), "F64 is exact");
        assertEquals(model.kind(), back.toEnsembleModel().kind(), "the engines' description keeps the kind");
        for (String net : model.networks().keySet()) {
            assertArrayEquals(model.networks().get(net).widths(), back.networks().get(net).widths());
        }
        ModelFile.save(model, f, ModelFile.Precision.F32);
        LearnedField f32 = ModelFile.load(f);
        for (int i = 0; i < model.parameters().length; i++) {
            assertEquals((float) model.parameters()[i], f32.parameters()[i], 0.0, "F32 stores float(θ)");
        }
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "no temporary file left behind");
        }
    }

    @Test
    void headerIsPlainSafetensors() throws IOException {
        HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {4}, 7);
        Path f = dir.resolve("h.safetensors");
        ModelFile.save(m, f);
        byte[] b = Files.readAllBytes(f);
        long n = ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, n % 8, "header padded to 8 bytes");
        var header = new ObjectMapper().readTree(new String(b, 8, (int) n, StandardCharsets.UTF_8));
        assertEquals("engram-hnn", header.get("__metadata__").get("format").asText());
        assertEquals("1", header.get("__metadata__").get("version").asText());
        assertEquals("2,4,1", header.get("__metadata__").get("widths.H").asText());
        assertEquals("[4,2]", header.get("H.0.weight").get("shape").toString());
        assertEquals("F64", header.get("H.0.weight").get("dtype").asText());
        // the first weight, W_0[0][0], little-endian right after the header
        double w00 = ByteBuffer.wrap(b, 8 + (int) n, 8).order(ByteOrder.LITTLE_ENDIAN).getDouble();
        assertEquals(m.parameters()[0], w00);
        assertEquals(8 + n + 8L * m.parameters().length, b.length);
    }

    /** Rewrites the JSON header of a saved file. */
    private Path edit(String name, java.util.function.Consumer<ObjectNode> change) throws IOException {
        Path f = dir.resolve(name);
        ModelFile.save(HamiltonianNetwork.create(1, new int[] {4}, 7), f);
        byte[] b = Files.readAllBytes(f);
        int n = (int) ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        ObjectNode header = (ObjectNode) new ObjectMapper().readTree(new String(b, 8, n, StandardCharsets.UTF_8));
        change.accept(header);
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + b.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(b, 8 + n, b.length - 8 - n);
        Files.write(f, out.array());
        return f;
    }

    private static void assertLoadFails(Path f, String... parts) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFile.load(f));
        for (String p : parts) {
            assertTrue(e.getMessage().contains(p), "'" + e.getMessage() + "' should mention '" + p + "'");
        }
        assertTrue(e.getMessage().contains(f.getFileName().toString()), "names the file");
    }

    @Test
    void wrongVersionIsRefused() throws IOException {
        Path f = edit("v2.safetensors", h -> ((ObjectNode) h.get("__metadata__")).put("version", "2"));
        assertLoadFails(f, "version '2'", "reads version 1");
    }

    @Test
    void widthMismatchIsRefused() throws IOException {
        Path f = edit("w.safetensors", h -> ((ObjectNode) h.get("__metadata__")).put("widths.H", "2,5,1"));
        assertLoadFails(f, "width mismatch", "H.0.weight", "[4, 2]", "[5, 2]");
        Path g = edit("dof.safetensors", h -> ((ObjectNode) h.get("__metadata__")).put("dof", "2"));
        assertLoadFails(g, "network H", "2n = 4");
    }

    @Test
    void missingTensorTruncationAndForeignFilesAreRefused() throws IOException {
        assertLoadFails(edit("m.safetensors", h -> h.remove("H.1.bias")), "missing tensor H.1.bias");
        assertLoadFails(edit("k.safetensors", h -> ((ObjectNode) h.get("__metadata__")).put("kind", "mystery")),
                "unknown model kind 'mystery'");
        assertLoadFails(edit("fmt.safetensors", h -> ((ObjectNode) h.get("__metadata__")).put("format", "pt")),
                "not an engram-hnn model");
        Path f = dir.resolve("t.safetensors");
        ModelFile.save(HamiltonianNetwork.create(1, new int[] {4}, 7), f);
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, b.length - 3));
        assertLoadFails(f, "truncated", "H.1.bias");
        Files.write(f, Arrays.copyOf(b, 5));
        assertLoadFails(f, "truncated");
        Files.write(f, Arrays.copyOf(b, 40));
        assertLoadFails(f, "truncated");
    }

    @Test
    void typedLoadChecksTheKind() throws IOException {
        Path f = dir.resolve("b.safetensors");
        ModelFile.save(DerivativeNetwork.create(1, 0, new int[] {3}, 1), f);
        assertInstanceOf(DerivativeNetwork.class, ModelFile.load(f, DerivativeNetwork.class));
        assertLoadFailsTyped(f);
    }

    private static void assertLoadFailsTyped(Path f) {
        ModelFormatException e = assertThrows(ModelFormatException.class,
                () -> ModelFile.load(f, HamiltonianNetwork.class));
        assertTrue(e.getMessage().contains("'baseline' model, expected HamiltonianNetwork"), e.getMessage());
    }

    @Test
    void toWeightsGivesTheEngineRecordInFloat() {
        HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {4, 3}, 9);
        var w = m.hamiltonian().toWeights();
        assertArrayEquals(new int[] {2, 4, 3, 1}, w.widths());
        Mlp h = m.hamiltonian();
        assertEquals((float) m.parameters()[h.weightOffset(1) + 2 * 4 + 1], w.weight(1, 2, 1));
        assertEquals((float) m.parameters()[h.biasOffset(2)], w.bias(2, 0));
    }
}
