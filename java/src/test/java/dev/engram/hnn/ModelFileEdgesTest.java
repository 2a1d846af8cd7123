package dev.engram.hnn;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Each check of {@link ModelFile#load} on its own, with the exact reason it gives, and the edges of the layout. */
class ModelFileEdgesTest {
    @TempDir
    Path dir;

    private Path saved(String name) throws IOException {
        Path f = dir.resolve(name);
        ModelFile.save(HamiltonianNetwork.create(1, new int[] {4}, 7), f);
        return f;
    }

    private static long headerLength(byte[] b) {
        return ByteBuffer.wrap(b, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    /** Rewrites the JSON header of a saved [2, 4, 1] "hnn" model. */
    private Path edit(String name, Consumer<ObjectNode> change) throws IOException {
        Path f = saved(name);
        byte[] b = Files.readAllBytes(f);
        int n = (int) headerLength(b);
        ObjectNode header = (ObjectNode) new ObjectMapper().readTree(new String(b, 8, n, StandardCharsets.UTF_8));
        change.accept(header);
        byte[] json = new ObjectMapper().writeValueAsBytes(header);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + b.length - 8 - n).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(b, 8 + n, b.length - 8 - n);
        Files.write(f, out.array());
        return f;
    }

    private static Consumer<ObjectNode> meta(String key, String value) {
        return h -> ((ObjectNode) h.get("__metadata__")).put(key, value);
    }

    private static void fails(Path f, String message) {
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelFile.load(f));
        assertTrue(e.getMessage().contains(message), "'" + e.getMessage() + "' should contain '" + message + "'");
        assertEquals(f, e.file());
    }

    @Test
    void aModelWithANonFiniteParameterIsNotSaved() {
        HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {4}, 7);
        m.parameters()[3] = Double.NaN;
        Path f = dir.resolve("nan.safetensors");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ModelFile.save(m, f));
        assertEquals("model parameter 3 is NaN; not saved", e.getMessage());
        assertFalse(Files.exists(f));
    }

    @Test
    void theHeaderIsPaddedWithSpacesToAMultipleOfEightBytes() throws IOException {
        byte[] b = Files.readAllBytes(saved("pad.safetensors"));
        int n = (int) headerLength(b);
        String header = new String(b, 8, n, StandardCharsets.UTF_8);
        int end = header.lastIndexOf('}') + 1;
        assertTrue(n - end < 8, "at most 7 bytes of padding");
        assertEquals(" ".repeat(n - end), header.substring(end));
        // H: [2, 4, 1] has 4·2 + 4 + 1·4 + 1 = 17 float64 after the header
        assertEquals(8 + n + 17 * 8, b.length);
    }

    @Test
    void theHeaderLengthMustFitTheFile() throws IOException {
        Path f = saved("len.safetensors");
        byte[] b = Files.readAllBytes(f);
        Files.write(f, new byte[7]);
        fails(f, "truncated: 7 bytes, not even the 8-byte header length");
        Files.write(f, new byte[8]);
        fails(f, "header length 0 but the file has 8 bytes");
        byte[] one = b.clone();
        ByteBuffer.wrap(one).order(ByteOrder.LITTLE_ENDIAN).putLong(0, 1);
        Files.write(f, one);
        fails(f, "header length 1 but");
        byte[] over = b.clone();
        ByteBuffer.wrap(over).order(ByteOrder.LITTLE_ENDIAN).putLong(0, b.length - 7);
        Files.write(f, over);
        fails(f, "header length " + (b.length - 7) + " but the file has " + b.length + " bytes");
    }

    @Test
    void eachMetadataProblemIsNamed() throws IOException {
        fails(edit("nometa.safetensors", h -> h.remove("__metadata__")), "(__metadata__.format is missing)");
        fails(edit("pt.safetensors", meta("format", "pt")), "(__metadata__.format is 'pt')");
        fails(edit("dof.safetensors", meta("dof", "one")), "metadata dof is not an integer: 'one'");
        fails(edit("in.safetensors", meta("inputs", "")), "metadata inputs is not an integer: ''");
        fails(edit("nowidth.safetensors", h -> ((ObjectNode) h.get("__metadata__")).remove("widths.H")),
                "metadata widths.H is missing");
        fails(edit("badwidth.safetensors", meta("widths.H", "2,four,1")),
                "metadata widths.H is not a list of integers: '2,four,1'");
        fails(edit("nets.safetensors", h -> {
            meta("networks", "H,D").accept(h);
            meta("widths.D", "2,1").accept(h);
        }), "a 'hnn' model has networks H, the file lists H,D");
        fails(edit("inputs.safetensors", meta("inputs", "1")), "a 'hnn' model takes no inputs, the file says inputs = 1");
        fails(edit("zero.safetensors", meta("widths.H", "2,0,1")), "widths.H [2, 0, 1] has a width < 1");
        Path sep = edit("sepinputs.safetensors", h -> {
            meta("kind", "separable").accept(h);
            meta("inputs", "2").accept(h);
            meta("networks", "T,V").accept(h);
            meta("widths.T", "1,1").accept(h);
            meta("widths.V", "1,1").accept(h);
        });
        fails(sep, "a 'separable' model takes no inputs");
        Path diss = edit("dissinputs.safetensors", h -> {
            meta("kind", "dissipative").accept(h);
            meta("inputs", "2").accept(h);
            meta("networks", "H,D").accept(h);
            meta("widths.D", "2,1").accept(h);
        });
        fails(diss, "a 'dissipative' model takes no inputs");
    }

    @Test
    void eachTensorProblemIsNamed() throws IOException {
        fails(edit("dtype.safetensors", h -> ((ObjectNode) h.get("H.0.weight")).put("dtype", "F16")),
                "tensor H.0.weight has dtype 'F16', expected F64 or F32");
        fails(edit("off.safetensors", h -> ((ObjectNode) h.get("H.0.weight")).putArray("data_offsets").add(0).add(56)),
                "tensor H.0.weight has data_offsets [0, 56], expected 64 bytes");
        fails(edit("neg.safetensors", h -> ((ObjectNode) h.get("H.0.weight")).putArray("data_offsets").add(-8).add(56)),
                "has data_offsets [-8, 56]");
        // the last tensor moved one float64 past the end of the data (17 values = 136 bytes)
        fails(edit("end.safetensors", h -> ((ObjectNode) h.get("H.1.bias")).putArray("data_offsets").add(136).add(144)),
                "truncated: tensor H.1.bias ends at byte ");
        Path f = saved("nan.safetensors");
        byte[] b = Files.readAllBytes(f);
        int start = 8 + (int) headerLength(b);
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).putDouble(start + 8 * 2, Double.NEGATIVE_INFINITY);
        Files.write(f, b);
        fails(f, "tensor H.0.weight element 2 is -Infinity");
    }

    /** The last tensor may end exactly at the end of the file; the data of each tensor is read from its own offsets. */
    @Test
    void tensorsAreReadFromTheirOwnOffsets() throws IOException {
        HamiltonianNetwork m = HamiltonianNetwork.create(1, new int[] {4}, 7);
        // swap the byte ranges of H.0.bias (64..96) and H.1.weight (96..128) in the header only: both have 4 values
        Path f = edit("swap.safetensors", h -> {
            ((ObjectNode) h.get("H.0.bias")).putArray("data_offsets").add(96).add(128);
            ((ObjectNode) h.get("H.1.weight")).putArray("data_offsets").add(64).add(96);
            ((ObjectNode) h.get("H.1.weight")).putArray("shape").add(1).add(4);
        });
        LearnedField loaded = ModelFile.load(f);
        double[] t = m.parameters();
        double[] expected = t.clone();
        System.arraycopy(t, 12, expected, 8, 4);
        System.arraycopy(t, 8, expected, 12, 4);
        assertArrayEquals(expected, loaded.parameters(), 0);
    }
}
