package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.hnn.AnalyticHamiltonians;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EnsembleStabilityTest {
    @TempDir
    Path dir;

    @Test
    void spectralRadiusOfKnownMatrices() {
        assertEquals(2, EnsembleStability.spectralRadius(new double[][] {{0, 2}, {-2, 0}}), 1e-9); // rotation, ω = 2
        assertEquals(3, EnsembleStability.spectralRadius(new double[][] {{3, 0}, {0, -1}}), 1e-9);
        assertEquals(0, EnsembleStability.spectralRadius(new double[][] {{0, 1}, {0, 0}}), 0);   // free particle
        // A Jordan block converges slowly (‖A^k‖ ~ k·ρ^k): within 0.1% after 2^40 squarings' worth
        assertEquals(0.5, EnsembleStability.spectralRadius(new double[][] {{0.5, 1}, {0, 0.5}}), 5e-4);
    }

    @Test
    void theOscillatorMlpHasUnitFrequencyAndUnitMomentumCurvature() {
        // quadraticMlp equals (q² + p²)/2 to O(ε²): ∇H = (q, p), ∇²H = I, ω = 1
        MlpWeights h = AnalyticHamiltonians.quadraticMlp(0.05);
        double[] g = EnsembleStability.gradient(h, new double[] {1, -0.5});
        assertEquals(1, g[0], 1e-2);
        assertEquals(-0.5, g[1], 1e-2);
        var s = new EnsembleStability(h, new float[] {1}, new float[] {0}, 0.01f, EnsembleSpec.Scheme.LEAPFROG);
        assertEquals(1, s.rho, 1e-2);
        assertEquals(1, s.tracePp, 1e-2);
        assertEquals(2, s.limit, 0);
        assertTrue(s.stepStable());
        assertFalse(new EnsembleStability(h, new float[] {1}, new float[] {0}, 2.5f, EnsembleSpec.Scheme.LEAPFROG).stepStable());
        assertTrue(new EnsembleStability(h, new float[] {1}, new float[] {0}, 2.5f, EnsembleSpec.Scheme.RK4).stepStable());
        assertEquals(0.5 * 0.04 * 30 * s.tracePp, s.noiseEnergy(0.2, 30), 1e-12);
    }

    private JsonNode ensemble(String... args) throws Exception {
        String[] all = new String[args.length + 5];
        all[0] = "ensemble";
        System.arraycopy(args, 0, all, 1, args.length);
        all[args.length + 1] = "--backend";
        all[args.length + 2] = "cpu";
        all[args.length + 3] = "--out";
        all[args.length + 4] = dir.toString();
        assertEquals(0, EngramCli.commandLine().execute(all));
        return new ObjectMapper().readTree(dir.resolve("ensemble.json").toFile());
    }

    @Test
    void aHugeStepCountsEveryTrajectoryAsDivergedAndFailsTheStepCheck() throws Exception {
        JsonNode r = ensemble("--dt", "1e9", "--trajectories", "200", "--steps", "50", "--samples", "5");
        assertFalse(r.get("step_check").get("stable").asBoolean());
        assertEquals(1e9, r.get("step_check").get("h_rho").asDouble(), 2e7);
        assertEquals(200, r.get("diverged_energy").asInt());
        assertEquals(200, r.get("diverged").asInt());
        assertEquals(0, r.get("energy_divergence").get("noise_energy").asDouble(), 0, "no noise credit when unstable");
    }

    @Test
    void aStableStepWithStrongNoiseIsNotCountedForTheEnergyTheNoiseAdds() throws Exception {
        // σ = 1 for T = 30: the noise adds ½σ²T = 15 to H ≈ 0.5 on average, 30× the initial energy; a stable step.
        JsonNode r = ensemble("--dt", "0.01", "--trajectories", "200", "--steps", "3000", "--samples", "5",
                "--noise", "1");
        assertTrue(r.get("step_check").get("stable").asBoolean());
        assertTrue(r.get("mean_relative_energy_change").asDouble() > 10, "the energy really changed: " + r);
        assertEquals(15, r.get("energy_divergence").get("noise_energy").asDouble(), 0.2);
        assertEquals(0, r.get("diverged").asInt());
    }

    @Test
    void theDefaultRunIsStableAndNothingDiverges() throws Exception {
        JsonNode r = ensemble("--trajectories", "200", "--steps", "300", "--samples", "5");
        assertTrue(r.get("step_check").get("stable").asBoolean());
        assertEquals(0.01, r.get("step_check").get("h_rho").asDouble(), 2e-4);
        assertEquals(0, r.get("diverged").asInt());
        assertEquals(0, r.get("diverged_energy").asInt());
        assertTrue(r.get("energy_divergence").get("rule").asText().startsWith("|H(T) - H(0)| > 10.0 * (max(|H(0)|, 1e-6) + "));
    }

    @Test
    void theToleranceIsAnOption() throws Exception {
        // a step just past leapfrog's limit (h·ω = 2.2) grows the energy; a large enough tolerance counts none
        JsonNode r = ensemble("--dt", "2.2", "--trajectories", "100", "--steps", "200", "--samples", "5", "--noise", "0",
                "--max-energy-change", "Infinity");
        assertFalse(r.get("step_check").get("stable").asBoolean());
        assertEquals(0, r.get("diverged_energy").asInt());
        assertEquals(2, EngramCli.commandLine().execute("ensemble", "--max-energy-change", "0", "--out", dir.toString()));
    }
}
