package dev.engram.engine;

import java.util.Arrays;
import java.util.Objects;

/**
 * What an ensemble integrates, as plain weights (models hand engines data, engines import no model). n degrees of
 * freedom, state x = (q, p), m external inputs u. Every network is a tanh MLP ({@link MlpWeights}); a network that
 * gives a scalar energy (H, T, V) needs at least one hidden layer, the others may be affine.
 *
 * <table>
 *   <caption>kinds, their equations and the schemes valid for them</caption>
 *   <tr><th>kind</th><th>equations</th><th>energy recorded</th><th>schemes</th></tr>
 *   <tr><td>{@link Hamiltonian}</td><td>q̇ = ∂H/∂p, ṗ = −∂H/∂q</td><td>H</td><td>LEAPFROG, TAO, RK4</td></tr>
 *   <tr><td>{@link Separable}</td><td>q̇ = ∇T(p), ṗ = −∇V(q)</td><td>T + V</td>
 *       <td>STORMER_VERLET, LEAPFROG, TAO, RK4</td></tr>
 *   <tr><td>{@link Dissipative}</td><td>q̇ = ∂H/∂p, ṗ = −∂H/∂q − D ⊙ ∂H/∂p, D = softplus(R(q, p)) ≥ 0</td>
 *       <td>H</td><td>RK4</td></tr>
 *   <tr><td>{@link PortHamiltonian}</td><td>as Dissipative, ṗ += G(q)·u(t)</td><td>H</td><td>RK4</td></tr>
 *   <tr><td>{@link Derivative}</td><td>(q̇, ṗ) = F(q, p[, u(t)])</td><td>none (NaN)</td><td>RK4</td></tr>
 * </table>
 * The symplectic schemes need Hamilton's equations, so the damped, driven and free-form kinds integrate with RK4 only.
 *
 * <p>Inputs: {@code uTable} is steps×m row-major, sampled on the integration grid t_i = i·h and held piecewise
 * constant: row i is u on [t_i, t_{i+1}) and applies, at every stage, to step i + 1 (which goes from t_i to
 * t_{i+1}). Null means u = 0. Its length is checked against the spec's steps ({@link EnsembleSpec}).
 */
public sealed interface EnsembleModel {

    /** n. */
    int dof();

    /** m, the number of external inputs (0 for the kinds without). */
    default int inputCount() {
        return 0;
    }

    /** steps×m inputs, or null for u = 0 (kinds without inputs: always null). */
    default float[] inputs() {
        return null;
    }

    /** The kind's name as model files store it: "hnn", "separable", "dissipative", "port", "baseline". */
    String kind();

    /**
     * Whether this kind integrates with {@code scheme} (see the table above): RK4 only, unless the kind is a
     * conservative Hamiltonian flow.
     */
    default boolean supports(EnsembleSpec.Scheme scheme) {
        return scheme == EnsembleSpec.Scheme.RK4;
    }

    /** The scheme {@link EnsembleSpec#of(EnsembleModel, float[], float[], int, float, int, float, float, float, long, int)} picks. */
    default EnsembleSpec.Scheme defaultScheme() {
        return EnsembleSpec.Scheme.RK4;
    }

    /** Whether the kind records an energy (all but {@link Derivative}). */
    default boolean hasEnergy() {
        return true;
    }

    /** A general H(q, p): widths [2n, hidden…, 1]. */
    record Hamiltonian(MlpWeights h) implements EnsembleModel {
        public Hamiltonian {
            requireHamiltonian(h);
        }

        @Override
        public int dof() {
            return h.inputWidth() / 2;
        }

        @Override
        public String kind() {
            return "hnn";
        }

        @Override
        public boolean supports(EnsembleSpec.Scheme s) {
            return s != EnsembleSpec.Scheme.STORMER_VERLET;
        }

        @Override
        public EnsembleSpec.Scheme defaultScheme() {
            return EnsembleSpec.Scheme.LEAPFROG;
        }
    }

    /** H = T(p) + V(q): kinetic T [n, hidden…, 1], potential V [n, hidden…, 1]. */
    record Separable(MlpWeights kinetic, MlpWeights potential) implements EnsembleModel {
        public Separable {
            requireEnergy("kinetic", kinetic, -1);
            requireEnergy("potential", potential, kinetic.inputWidth());
        }

        @Override
        public int dof() {
            return kinetic.inputWidth();
        }

        @Override
        public String kind() {
            return "separable";
        }

        @Override
        public boolean supports(EnsembleSpec.Scheme s) {
            return true;
        }

        @Override
        public EnsembleSpec.Scheme defaultScheme() {
            return EnsembleSpec.Scheme.STORMER_VERLET;
        }
    }

    /** H [2n, hidden…, 1] with damping D = softplus(R), R [2n, hidden…, n]. */
    record Dissipative(MlpWeights h, MlpWeights damping) implements EnsembleModel {
        public Dissipative {
            requireHamiltonian(h);
            requireShape("damping", damping, h.inputWidth(), h.inputWidth() / 2, "2n", "n");
        }

        @Override
        public int dof() {
            return h.inputWidth() / 2;
        }

        @Override
        public String kind() {
            return "dissipative";
        }

    }

    /**
     * H [2n, hidden…, 1], damping R [2n, hidden…, n] (D = softplus(R)), input map G [n, hidden…, n·m] (G(q) n×m
     * row-major) and u(t) as a steps×m table (null: u = 0).
     */
    record PortHamiltonian(MlpWeights h, MlpWeights damping, MlpWeights inputMap, float[] inputs)
            implements EnsembleModel {
        public PortHamiltonian {
            requireHamiltonian(h);
            int n = h.inputWidth() / 2;
            requireShape("damping", damping, 2 * n, n, "2n", "n");
            Objects.requireNonNull(inputMap, "inputMap");
            if (inputMap.inputWidth() != n || inputMap.outputWidth() % n != 0) {
                throw new IllegalArgumentException("inputMap has widths " + Arrays.toString(inputMap.widths())
                        + ", expected input n = " + n + " and output n·m (a multiple of " + n + ")");
            }
            inputs = checkTable(inputs, inputMap.outputWidth() / n);
        }

        @Override
        public int dof() {
            return h.inputWidth() / 2;
        }

        @Override
        public int inputCount() {
            return inputMap.outputWidth() / dof();
        }

        @Override
        public float[] inputs() {
            return inputs == null ? null : inputs.clone();
        }

        @Override
        public String kind() {
            return "port";
        }


        /** The same model driven by another input table (steps×m, or null for u = 0). */
        public PortHamiltonian withInputs(float[] table) {
            return new PortHamiltonian(h, damping, inputMap, table);
        }
    }

    /** The non-Hamiltonian baseline F [2n + m, hidden…, 2n] and u(t) as a steps×m table (null: u = 0). */
    record Derivative(MlpWeights f, float[] inputs) implements EnsembleModel {
        public Derivative {
            Objects.requireNonNull(f, "f");
            int out = f.outputWidth();
            if (out % 2 != 0 || f.inputWidth() < out) {
                throw new IllegalArgumentException("derivative network has widths " + Arrays.toString(f.widths())
                        + ", expected output 2n and input 2n + m");
            }
            inputs = checkTable(inputs, f.inputWidth() - out);
        }

        /** A baseline without inputs. */
        public Derivative(MlpWeights f) {
            this(f, null);
        }

        @Override
        public int dof() {
            return f.outputWidth() / 2;
        }

        @Override
        public int inputCount() {
            return f.inputWidth() - f.outputWidth();
        }

        @Override
        public float[] inputs() {
            return inputs == null ? null : inputs.clone();
        }

        @Override
        public String kind() {
            return "baseline";
        }


        @Override
        public boolean hasEnergy() {
            return false;
        }

        /** The same network driven by another input table (steps×m, or null for u = 0). */
        public Derivative withInputs(float[] table) {
            return new Derivative(f, table);
        }
    }

    /** A scalar energy network: at least one tanh hidden layer, output 1, input {@code in} (−1: any). */
    private static void requireEnergy(String name, MlpWeights w, int in) {
        Objects.requireNonNull(w, name);
        if (w.layers() < 2) {
            throw new IllegalArgumentException(name + " needs at least one tanh hidden layer, widths are "
                    + Arrays.toString(w.widths()));
        }
        if (w.outputWidth() != 1) {
            throw new IllegalArgumentException(name + " output width must be 1 (a scalar energy), got " + w.outputWidth());
        }
        if (in >= 0 && w.inputWidth() != in) {
            throw new IllegalArgumentException(name + " input width must be n = " + in + ", got " + w.inputWidth());
        }
    }

    /** A scalar H on (q, p): input width 2n. */
    private static void requireHamiltonian(MlpWeights h) {
        requireEnergy("hamiltonian", h, -1);
        if (h.inputWidth() % 2 != 0) {
            throw new IllegalArgumentException("hamiltonian input width must be 2n (q then p), got " + h.inputWidth());
        }
    }

    private static void requireShape(String name, MlpWeights w, int in, int out, String inWhat, String outWhat) {
        Objects.requireNonNull(w, name);
        if (w.inputWidth() != in || w.outputWidth() != out) {
            throw new IllegalArgumentException(name + " has widths " + Arrays.toString(w.widths()) + ", expected input "
                    + inWhat + " = " + in + " and output " + outWhat + " = " + out);
        }
    }

    /** A copy of the table after checking it is finite and a whole number of rows of m (null stays null). */
    private static float[] checkTable(float[] table, int m) {
        if (table == null) {
            return null;
        }
        if (m == 0 || table.length % m != 0) {
            throw new IllegalArgumentException("inputs has " + table.length + " values, expected steps×m with m = " + m
                    + (m == 0 ? " (this model takes no inputs; pass null)" : ""));
        }
        for (int i = 0; i < table.length; i++) {
            if (!Float.isFinite(table[i])) {
                throw new IllegalArgumentException("inputs[" + i / m + "][" + i % m + "] must be finite, got " + table[i]);
            }
        }
        return table.clone();
    }
}
