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

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"separable", "dissipative", "port", "baseline"})
    void runsASavedModelOfEveryKind(String kind) throws Exception {
        dev.engram.hnn.LearnedField net = switch (kind) {
            case "separable" -> dev.engram.hnn.SeparableHamiltonianNetwork.create(1, new int[] {8}, 3);
            case "dissipative" -> dev.engram.hnn.DissipativeHamiltonianNetwork.create(1, new int[] {8}, new int[] {4}, 3);
            case "port" -> dev.engram.hnn.PortHamiltonianNetwork.create(1, 2, new int[] {8}, new int[] {4}, new int[] {4}, 3);
            default -> dev.engram.hnn.DerivativeNetwork.create(1, 0, new int[] {8}, 3);
        };
        Path file = dir.resolve(kind + ".safetensors");
        dev.engram.hnn.ModelFile.save(net, file);
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("ensemble", "--model", file.toString(),
                "--trajectories", "64", "--steps", "20", "--samples", "4", "--noise", "0", "--backend", "cpu",
                "--out", dir.resolve(kind).toString()));
        if (kind.equals("port")) {
            float[] u = new float[20 * 2];
            java.util.Arrays.fill(u, 0.5f);
            dev.engram.tensor.Npy.write(dir.resolve("u.npy"), u, 20, 2);
            args.addAll(java.util.List.of("--inputs", dir.resolve("u.npy").toString()));
        }
        assertEquals(0, EngramCli.commandLine().execute(args.toArray(String[]::new)));
        var root = new ObjectMapper().readTree(dir.resolve(kind + "/ensemble.json").toFile());
        assertTrue(root.get("model").asText().startsWith(kind + " model"), root.get("model").asText());
        assertEquals(dev.engram.engine.EnsembleSpec.Scheme.valueOf(root.get("scheme").asText()),
                net.toEnsembleModel().defaultScheme());
        assertEquals(kind.equals("baseline"), root.get("mean_relative_energy_change").isNull());
        assertEquals(!kind.equals("baseline"), Files.exists(dir.resolve(kind + "/energy.png")));
    }

    @Test
    void inputsMustFitTheModel() throws Exception {
        var port = dev.engram.hnn.PortHamiltonianNetwork.create(1, 2, new int[] {8}, new int[] {4}, new int[] {4}, 3);
        Path file = dir.resolve("port.safetensors");
        dev.engram.hnn.ModelFile.save(port, file);
        dev.engram.tensor.Npy.write(dir.resolve("short.npy"), new float[10 * 2], 10, 2);
        var err = new java.io.StringWriter();
        var cl = EngramCli.commandLine();
        cl.setErr(new java.io.PrintWriter(err));
        assertEquals(2, cl.execute("ensemble", "--model", file.toString(), "--inputs", dir.resolve("short.npy").toString(),
                "--steps", "20", "--trajectories", "8", "--out", dir.resolve("x").toString()));
        assertTrue(err.toString().contains("10×2") && err.toString().contains("20×2"), err.toString());
        // a model without inputs refuses a table; a scheme the kind cannot run is named
        assertEquals(2, EngramCli.commandLine().execute("ensemble", "--inputs", dir.resolve("short.npy").toString(),
                "--out", dir.resolve("y").toString()));
        var err2 = new java.io.StringWriter();
        var cl2 = EngramCli.commandLine();
        cl2.setErr(new java.io.PrintWriter(err2));
        assertEquals(2, cl2.execute("ensemble", "--model", file.toString(), "--scheme", "LEAPFROG", "--steps", "20",
                "--trajectories", "8", "--out", dir.resolve("z").toString()));
        assertTrue(err2.toString().contains("LEAPFROG") && err2.toString().contains("'port'"), err2.toString());
    }

    @Test
    void badArgumentsExitWith2() {
        assertEquals(2, EngramCli.commandLine().execute("ensemble", "--dt", "-1", "--out", dir.toString()));
        assertEquals(2, EngramCli.commandLine().execute("ensemble", "--q0", "1,2", "--p0", "0", "--out", dir.toString()));
    }
}
