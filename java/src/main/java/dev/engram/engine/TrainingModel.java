package dev.engram.engine;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * What a training engine needs to know about a model: its kind, n degrees of freedom, m external inputs and the
 * widths of its tanh MLPs, laid out one after the other in one flat parameter vector θ (models hand engines plain
 * data, engines import no model). Each network occupies, from its {@link #offset}, for each affine layer k in order,
 * W_k row-major ({@code widths[k+1] × widths[k]}) then b_k ({@code widths[k+1]}): the layout of {@link MlpWeights}.
 *
 * <table>
 *   <caption>kinds, their networks in θ order, and the time derivatives they predict</caption>
 *   <tr><th>kind</th><th>networks</th><th>dq/dt, dp/dt</th></tr>
 *   <tr><td>{@link Kind#HAMILTONIAN}</td><td>H [2n, …, 1]</td><td>∂H/∂p, −∂H/∂q</td></tr>
 *   <tr><td>{@link Kind#SEPARABLE}</td><td>T [n, …, 1] on p, V [n, …, 1] on q</td><td>∇T(p), −∇V(q)</td></tr>
 *   <tr><td>{@link Kind#DISSIPATIVE}</td><td>H [2n, …, 1], R [2n, …, n]</td>
 *       <td>∂H/∂p, −∂H/∂q − softplus(R) ⊙ ∂H/∂p</td></tr>
 *   <tr><td>{@link Kind#PORT}</td><td>H, R as above, G [n, …, n·m] on q</td>
 *       <td>as dissipative, dp/dt += G(q)·u (G n×m row-major)</td></tr>
 *   <tr><td>{@link Kind#DERIVATIVE}</td><td>F [2n + m, …, 2n] on (q, p, u)</td><td>F's two halves</td></tr>
 * </table>
 *
 * @param kind   the model kind
 * @param dof    n ≥ 1
 * @param inputs m ≥ 0 (≥ 1 for {@link Kind#PORT}, 0 for the kinds without inputs)
 * @param widths one width list per network of the kind, in the order of the table
 */
public record TrainingModel(Kind kind, int dof, int inputs, int[][] widths) {

    /** The model kinds; {@link #label()} is the name model files store. */
    public enum Kind {
        HAMILTONIAN("hnn", "H"),
        SEPARABLE("separable", "T", "V"),
        DISSIPATIVE("dissipative", "H", "D"),
        PORT("port", "H", "D", "G"),
        DERIVATIVE("baseline", "F");

        private final String label;
        private final String[] networks;

        Kind(String label, String... networks) {
            this.label = label;
            this.networks = networks;
        }

        /** "hnn", "separable", "dissipative", "port" or "baseline". */
        public String label() {
            return label;
        }

        /** The networks' names in θ order ("H", "T", "V", "D", "G", "F"). */
        public String[] networks() {
            return networks.clone();
        }

        /** The kind called {@code label} (as model files store it). */
        public static Kind of(String label) {
            for (Kind k : values()) {
                if (k.label.equals(label)) {
                    return k;
                }
            }
            throw new IllegalArgumentException("unknown model kind '" + label + "'; expected one of "
                    + Arrays.stream(values()).map(Kind::label).toList());
        }
    }

    public TrainingModel {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(widths, "widths");
        if (dof < 1) {
            throw new IllegalArgumentException("dof must be >= 1, got " + dof);
        }
        if (inputs < 0 || (kind == Kind.PORT && inputs < 1)
                || (kind != Kind.PORT && kind != Kind.DERIVATIVE && inputs != 0)) {
            throw new IllegalArgumentException("a '" + kind.label + "' model cannot take m = " + inputs + " inputs"
                    + (kind == Kind.PORT ? " (needs m >= 1)" : kind == Kind.DERIVATIVE ? "" : " (takes none)"));
        }
        String[] names = kind.networks;
        if (widths.length != names.length) {
            throw new IllegalArgumentException("a '" + kind.label + "' model has networks " + Arrays.toString(names)
                    + ", got " + widths.length + " width lists");
        }
        int n = dof;
        int[][] w = new int[widths.length][];
        for (int i = 0; i < names.length; i++) {
            int[] wi = Objects.requireNonNull(widths[i], "widths of " + names[i]);
            int in = switch (names[i]) {
                case "H", "D" -> 2 * n;
                case "T", "V", "G" -> n;
                default -> 2 * n + inputs;
            };
            int out = switch (names[i]) {
                case "H", "T", "V" -> 1;
                case "D" -> n;
                case "G" -> n * inputs;
                default -> 2 * n;
            };
            if (wi.length < 2 || wi[0] != in || wi[wi.length - 1] != out) {
                throw new IllegalArgumentException(kind.label + " model: network " + names[i] + " has widths "
                        + Arrays.toString(wi) + ", expected input " + in + " and output " + out);
            }
            for (int k = 0; k < wi.length; k++) {
                if (wi[k] < 1) {
                    throw new IllegalArgumentException(kind.label + " model: network " + names[i] + " width " + k
                            + " must be >= 1, got " + wi[k]);
                }
            }
            w[i] = wi.clone();
        }
        widths = w;
        long total = 0;
        for (int[] wi : w) {
            total += count(wi);
        }
        if (total > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException(kind.label + " model has " + total + " parameters, too many");
        }
    }

    /** The width lists (a deep copy). */
    @Override
    public int[][] widths() {
        int[][] c = new int[widths.length][];
        for (int i = 0; i < widths.length; i++) {
            c[i] = widths[i].clone();
        }
        return c;
    }

    /** The widths of network {@code net} (index in the kind's order), a copy. */
    public int[] widths(int net) {
        return widths[net].clone();
    }

    /** Number of networks of the kind. */
    public int networkCount() {
        return widths.length;
    }

    /** Where network {@code net} starts in θ. */
    public int offset(int net) {
        int o = 0;
        for (int i = 0; i < net; i++) {
            o += count(widths[i]);
        }
        return o;
    }

    /** The length of θ. */
    public int parameterCount() {
        return offset(widths.length);
    }

    /** Σ_k (widths[k+1]·widths[k] + widths[k+1]). */
    public static int count(int[] widths) {
        long n = 0;
        for (int k = 0; k + 1 < widths.length; k++) {
            n += (long) widths[k + 1] * widths[k] + widths[k + 1];
        }
        return (int) Math.min(Integer.MAX_VALUE, n);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(kind.label.toLowerCase(Locale.ROOT)).append("(n=").append(dof)
                .append(", m=").append(inputs);
        for (int i = 0; i < widths.length; i++) {
            s.append(", ").append(kind.networks[i]).append('=').append(Arrays.toString(widths[i]));
        }
        return s.append(')').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TrainingModel t && t.kind == kind && t.dof == dof && t.inputs == inputs
                && Arrays.deepEquals(t.widths, widths);
    }

    @Override
    public int hashCode() {
        return Objects.hash(kind, dof, inputs, Arrays.deepHashCode(widths));
    }
}
