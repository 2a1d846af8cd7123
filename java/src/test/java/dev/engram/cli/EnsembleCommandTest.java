package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EnsembleCommandTest {
    @TempDir
    Path dir;

    @Test
    void writesQuantilesAndCharts() throws Exception {
        int code = EngramCli.commandLine().execute("ensemble", "--trajectories", "500", "--steps", "100", "--dt", "0.02",
                "--samples", "10", "--backend", "cpu", "--out", dir.toString());
        assertEquals(0, code);
        var root = new ObjectMapper().readTree(dir.resolve("ensemble.json").toFile());
        assertEquals(500, root.get("trajectories").asInt());
        assertEquals(11, root.get("times").size());
        var median = root.get("quantiles").get("q0");
        assertEquals(11, median.size());
        // at t = 0 the median of q is near q0 = 1 (σ_q = 0.05); quantiles ascend
        assertEquals(1.0, median.get(0).get(2).asDouble(), 0.02);
        assertTrue(median.get(5).get(0).asDouble() <= median.get(5).get(4).asDouble());
        assertTrue(Files.size(dir.resolve("fan.png")) > 1000);
        assertTrue(Files.size(dir.resolve("energy.png")) > 1000);
    }

    @Test
    void runsASavedHnnModel() throws Exception {
        var net = dev.engram.hnn.HamiltonianNetwork.create(1, new int[] {8, 8}, 3);
        Path file = dir.resolve("h.safetensors");
        dev.engram.hnn.ModelFile.save(net, file);
        int code = EngramCli.commandLine().execute("ensemble", "--model", file.toString(), "--trajectories", "64",
                "--steps", "20", "--samples", "4", "--sigma-q", "0", "--sigma-p", "0", "--noise", "0", "--backend", "cpu",
                "--out", dir.resolve("m").toString());
        assertEquals(0, code);
        var root = new ObjectMapper().readTree(dir.resolve("m/ensemble.json").toFile());
        assertTrue(root.get("model").asText().contains("h.safetensors"));
        // without perturbation every trajectory starts at (1, 0): the engine's H there is the model's own H
        double expected = net.energy(new double[] {1}, new double[] {0});
        assertEquals(expected, root.get("quantiles").get("H").get(0).get(2).asDouble(), 1e-5 * (1 + Math.abs(expected)));
    }

    @Test
    void badArgumentsExitWith2() {
        assertEquals(2, EngramCli.commandLine().execute("ensemble", "--dt", "-1", "--out", dir.toString()));
        assertEquals(2, EngramCli.commandLine().execute("ensemble", "--q0", "1,2", "--p0", "0", "--out", dir.toString()));
    }
}
