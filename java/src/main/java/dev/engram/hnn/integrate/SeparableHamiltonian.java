package dev.engram.hnn.integrate;

import dev.engram.hnn.HamiltonianGradient;

/** H(q, p) = T(p) + V(q): kinetic and potential parts evaluated separately. */
public interface SeparableHamiltonian extends HamiltonianGradient {
    /** ∂V/∂q into {@code out}. */
    void potentialGradient(double[] q, double[] out);

    /** ∂T/∂p into {@code out}. */
    void kineticGradient(double[] p, double[] out);

    @Override
    default void gradient(double[] q, double[] p, double[] dHdq, double[] dHdp) {
        potentialGradient(q, dHdq);
        kineticGradient(p, dHdp);
    }

    /** Wraps two closed forms. */
    static SeparableHamiltonian of(int n, java.util.function.ToDoubleFunction<double[]> potential,
                                   java.util.function.ToDoubleFunction<double[]> kinetic,
                                   java.util.function.BiConsumer<double[], double[]> dV,
                                   java.util.function.BiConsumer<double[], double[]> dT) {
        return new SeparableHamiltonian() {
            @Override
            public int dof() {
                return n;
            }

            @Override
            public double energy(double[] q, double[] p) {
                return potential.applyAsDouble(q) + kinetic.applyAsDouble(p);
            }

            @Override
            public void potentialGradient(double[] q, double[] out) {
                dV.accept(q, out);
            }

            @Override
            public void kineticGradient(double[] p, double[] out) {
                dT.accept(p, out);
            }
        };
    }
}
