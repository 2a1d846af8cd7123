package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.hnn.DerivativeNetwork;
import dev.engram.hnn.HamiltonianNetwork;
import dev.engram.hnn.LearnedField;
import dev.engram.hnn.ModelFile;
import dev.engram.hnn.train.DerivativeLoss;
import dev.engram.hnn.train.PhysicsExperiment;
import dev.engram.hnn.train.PhysicsTask;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.concurrent.ForkJoinPool;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PhysicsCommandTest {
    @TempDir
    Path out;

    /**
     * The spring at 2×32 tanh and 400 steps (the size PhysicsExperimentTest uses): the HNN's rollout energy MSE is
     * below a tenth of the baseline's, and every figure in the JSON is what the saved models give on the recipe's test
     * data (recomputed here from the files, float64 weights, so to 1e-12).
     */
    @Test
    void writesTheFiguresOfTheSavedModelsAndTheHnnConservesEnergy() throws Exception {
        int rc = EngramCli.commandLine().execute("physics", "--system", "spring", "--hidden", "32", "--steps", "400",
                "--seed", "3", "--out", out.toString());
        assertEquals(0, rc);
        JsonNode j = new ObjectMapper().readTree(out.resolve("physics-spring.json").toFile());
        assertEquals("spring", j.get("system").asText());
        assertEquals(400, j.get("steps").asInt());
        assertEquals(32, j.get("hidden").asInt());
        PhysicsExperiment.Settings paper = PhysicsExperiment.Settings.paper(PhysicsTask.SPRING, 3);
        assertEquals(paper.trajectories(), j.get("trajectories").asInt());
        assertEquals(paper.noise(), j.get("noise").asDouble());

        double hnnMse = j.get("hnn").get("energy_mse").asDouble();
        double baseMse = j.get("baseline").get("energy_mse").asDouble();
        assertTrue(hnnMse * 10 < baseMse, "HNN energy MSE " + hnnMse + " should be below baseline " + baseMse + "/10");
        assertEquals(baseMse / hnnMse, j.get("energy_mse_ratio_baseline_over_hnn").asDouble(), 1e-9 * baseMse / hnnMse);

        PhysicsExperiment.Dataset data = PhysicsExperiment.dataset(PhysicsTask.SPRING, paper.trajectories(),
                paper.noise(), 3);
        HamiltonianNetwork hnn = ModelFile.load(out.resolve("hnn-spring.safetensors"), HamiltonianNetwork.class);
        DerivativeNetwork baseline = ModelFile.load(out.resolve("baseline-spring.safetensors"), DerivativeNetwork.class);
        ForkJoinPool pool = new ForkJoinPool(2);
        try {
            for (var model : new Object[][] {{"hnn", hnn}, {"baseline", baseline}}) {
                LearnedField f = (LearnedField) model[1];
                JsonNode score = j.get((String) model[0]);
                assertEquals(f.parameters().length, score.get("parameters").asInt(), model[0] + " parameters");
                assertClose(DerivativeLoss.loss(f, data.test(), pool), score.get("test_loss").asDouble(),
                        model[0] + " test loss");
                assertClose(DerivativeLoss.loss(f, data.train(), pool), score.get("train_loss").asDouble(),
                        model[0] + " train loss");
                assertClose(PhysicsExperiment.energyMse(PhysicsTask.SPRING, f.field(), data.testInitialStates(),
                        j.get("rollout_time").asDouble(), j.get("rollout_step").asDouble(), pool),
                        score.get("energy_mse").asDouble(), model[0] + " energy MSE");
            }
        } finally {
            pool.shutdown();
        }
        BufferedImage chart = ImageIO.read(out.resolve("physics-spring-energy.png").toFile());
        assertNotNull(chart, "physics-spring-energy.png is not a PNG");
        assertEquals(900, chart.getWidth(), "chart width");
        assertEquals(500, chart.getHeight(), "chart height");
    }

    private static void assertClose(double expected, double actual, String what) {
        assertTrue(expected > 0 && Double.isFinite(expected), what + " recomputed " + expected);
        assertEquals(expected, actual, 1e-12 * expected, what);
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
