package dev.engram.hnn;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The port model's input-driven field, and the refusal of an input table by models without inputs. */
class ModelFieldsTest {

    @Test
    void thePortFieldAsksTheSignalForUAtTheGivenTime() {
        PortHamiltonianNetwork f = PortHamiltonianNetwork.create(2, 2, new int[] {5}, new int[] {3}, new int[] {3}, 8);
        double[] q = {0.3, -0.2};
        double[] p = {0.5, 0.1};
        PhaseSpaceField field = f.field((t, u) -> {
            u[0] = t;
            u[1] = -2 * t;
        });
        assertEquals(2, field.dof());
        double[] dq = new double[2];
        double[] dp = new double[2];
        field.derivatives(0.75, q, p, dq, dp);
        double[] eq = new double[2];
        double[] ep = new double[2];
        f.predict(q, p, new double[] {0.75, -1.5}, eq, ep);
        assertArrayEquals(eq, dq, 0);
        assertArrayEquals(ep, dp, 0);
        double[] zq = new double[2];
        double[] zp = new double[2];
        f.predict(q, p, new double[2], zq, zp);
        assertFalse(java.util.Arrays.equals(zp, dp), "u enters dp/dt through G(q)·u");
    }

    @Test
    void aModelWithoutInputsRefusesAnInputTable() {
        HamiltonianNetwork h = HamiltonianNetwork.create(1, new int[] {3}, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.toEnsembleModel(new float[4]));
        assertEquals("a 'hnn' model takes no inputs (m = 0); pass no input table", e.getMessage());
        assertEquals(1, h.toEnsembleModel(null).dof());
        assertEquals(1, h.toEnsembleModel().dof());
    }
}
