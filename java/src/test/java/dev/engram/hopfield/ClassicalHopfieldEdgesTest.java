package dev.engram.hopfield;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.SplittableRandom;

import static dev.engram.hopfield.PatternStoreTest.assertMessage;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every entry point checks its state argument, and the small networks whose dynamics are known by hand. */
class ClassicalHopfieldEdgesTest {

    private static void rejected(Executable op, String... parts) {
        assertMessage(assertThrows(IllegalArgumentException.class, op), parts);
    }

    @Test
    void everyEntryPointRejectsAStateOfTheWrongLengthOrNotBipolar() {
        ClassicalHopfield h = ClassicalHopfield.of(new int[][] {{1, -1, 1}});
        int[] shortState = {1, -1};
        int[] zero = {1, 0, 1};
        rejected(() -> h.field(shortState, 0), "state has length 2 but the network has N=3 neurons");
        rejected(() -> h.energy(shortState), "state has length 2");
        rejected(() -> h.energy(zero), "state must be bipolar (±1), but element 1 is 0");
        rejected(() -> h.updateSynchronous(zero), "state", "element 1 is 0");
        rejected(() -> h.updateNeuron(shortState, 0), "state has length 2");
        rejected(() -> h.recallAsynchronous(shortState, 5, new SplittableRandom(1)), "probe has length 2");
        rejected(() -> h.recallSynchronous(zero, 5), "probe", "element 1 is 0");
        rejected(() -> h.recallSynchronous(new int[] {1, 1, 1}, 0), "maxSteps must be >= 1, got 0");
        rejected(() -> h.recallAsynchronous(new int[] {1, 1, 1}, 0, new SplittableRandom(1)), "maxSweeps", "0");
        rejected(() -> h.store(null), "pattern is null");
        rejected(() -> ClassicalHopfield.of(new int[0][]), "patterns has no rows");
        rejected(() -> ClassicalHopfield.of(new int[][] {{1, 1, 1}, {1, 2, 1}}), "pattern", "element 1 is 2");
        rejected(() -> ClassicalHopfield.of(new int[][] {{1, 1, 1}, {1, 1}}), "pattern has length 2");
        rejected(() -> ClassicalHopfield.bitErrorRate(new int[] {1}, new int[] {1, 1}), "states differ in length: 1 and 2");
    }

    @Test
    void neuronIndexMustLieInsideTheNetwork() {
        ClassicalHopfield h = ClassicalHopfield.of(new int[][] {{1, -1, 1}});
        int[] s = {1, 1, 1};
        rejected(() -> h.updateNeuron(s, -1), "neuron index -1 outside 0..2");
        rejected(() -> h.updateNeuron(s, 3), "neuron index 3 outside 0..2");
        assertArrayEquals(new int[] {1, 1, 1}, s, "a rejected update leaves the state alone");
        // W = ξξᵀ/3 off the diagonal for ξ = (1, −1, 1): h_1 = (W_10 + W_12)·1 = −2/3 < 0, so neuron 1 flips
        assertTrue(h.updateNeuron(s, 1));
        assertArrayEquals(new int[] {1, -1, 1}, s);
        assertFalse(h.updateNeuron(s, 2), "the stored pattern is a fixed point");
        assertFalse(h.updateNeuron(s, 0));
        assertEquals(3, h.neurons());
    }

    @Test
    void theLargestDenseNetworkIsBoundedByTheIntArrayLimit() {
        // N² ≤ 2³¹ − 9 holds for N = 46340 (2 147 395 600) and fails for N = 46341
        rejected(() -> new ClassicalHopfield(46_341), "neurons=46341", "too large");
        rejected(() -> new ClassicalHopfield(-3), "neurons must be >= 1, got -3");
    }

    @Test
    void aOneNeuronNetworkHasNoWeightsAndKeepsEveryState() {
        ClassicalHopfield h = new ClassicalHopfield(1);
        h.store(new int[] {1});
        assertEquals(0.0, h.weight(0, 0));
        assertEquals(0.0, h.field(new int[] {-1}, 0));
        assertArrayEquals(new int[] {-1}, h.updateSynchronous(new int[] {-1}), "a zero field keeps the state");
        ClassicalHopfield.Recall r = h.recallSynchronous(new int[] {-1}, 3);
        assertTrue(r.converged());
        assertEquals(1, r.steps());
    }

    @Test
    void fieldsAndWeightsOfTwoStoredPatternsFollowTheHebbSum() {
        int[] a = {1, 1, -1, -1};
        int[] b = {1, -1, 1, -1};
        ClassicalHopfield h = ClassicalHopfield.of(new int[][] {a, b});
        assertEquals(2, h.patternCount());
        // C_ij = a_i a_j + b_i b_j; W = C/4
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 4; j++) {
                double expected = i == j ? 0 : (a[i] * a[j] + b[i] * b[j]) / 4.0;
                assertEquals(expected, h.weight(i, j), 0, "W(" + i + "," + j + ")");
            }
        }
        // h_3 for s = a: Σ_j W_3j a_j = (1/4)·Σ_{j≠3} (a_3 a_j + b_3 b_j) a_j = (1/4)·(−3 + (−1)(1 − 1 − 1)) = −1/2
        assertEquals(-0.5, h.field(a, 3), 1e-12);
        assertEquals(0.5, h.field(a, 0), 1e-12);
        assertEquals(0.5, ClassicalHopfield.bitErrorRate(a, b));
        assertEquals(0.0, ClassicalHopfield.bitErrorRate(a, a.clone()));
    }

    @Test
    void aNetworkThatCannotSettleInTheStepBudgetSaysSoAndReturnsTheLastState() {
        // the 2-cycle of a synchronous update: two neurons with a positive coupling started anti-aligned swap forever
        ClassicalHopfield h = ClassicalHopfield.of(new int[][] {{1, 1}});
        ClassicalHopfield.Recall r = h.recallSynchronous(new int[] {1, -1}, 3);
        assertFalse(r.converged());
        assertEquals(3, r.steps());
        assertArrayEquals(new int[] {1, -1}, h.updateSynchronous(h.updateSynchronous(new int[] {1, -1})));
        assertArrayEquals(new int[] {-1, 1}, r.state(), "after 3 swaps");
        ClassicalHopfield.Recall once = h.recallAsynchronous(new int[] {1, -1}, 1, new SplittableRandom(3));
        assertEquals(1, once.steps());
        assertFalse(once.converged(), "the first sweep flips a neuron, so one sweep cannot certify a fixed point");
        ClassicalHopfield.Recall settled = h.recallAsynchronous(new int[] {1, -1}, 5, new SplittableRandom(3));
        assertTrue(settled.converged());
        assertEquals(2, settled.steps(), "one sweep aligns the pair, the second flips nothing");
        assertEquals(settled.state()[0], settled.state()[1]);
    }
}
