package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhysicsCommandTest {
    @TempDir
    Path out;

    @Test
    void writesTheTableAsJsonAndTheEnergyChart() throws Exception {
        int rc = EngramCli.commandLine().execute("physics", "--system", "pendulum", "--hidden", "8", "--steps", "20",
                "--seed", "3", "--out", out.toString());
        assertEquals(0, rc);
        JsonNode j = new ObjectMapper().readTree(out.resolve("physics-pendulum.json").toFile());
        assertEquals("pendulum", j.get("system").asText());
        assertEquals(20, j.get("steps").asInt());
        for (String model : new String[] {"hnn", "baseline"}) {
            assertTrue(j.get(model).get("test_loss").asDouble() > 0, model);
            assertTrue(j.get(model).get("energy_mse").asDouble() > 0, model);
        }
        assertTrue(Files.size(out.resolve("physics-pendulum-energy.png")) > 1000);
        assertTrue(Files.size(out.resolve("hnn-pendulum.safetensors")) > 100);
    }

    @Test
    void unknownSystemIsAClearError() {
        StringWriter err = new StringWriter();
        var cl = EngramCli.commandLine();
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute("physics", "--system", "comet", "--out", out.toString());
        assertEquals(2, rc);
        assertTrue(err.toString().contains("system must be spring or pendulum, got 'comet'"), err.toString());
    }
}
