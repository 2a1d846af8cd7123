package dev.engram.optim;

import java.util.List;

/**
 * Adam (Kingma &amp; Ba 2015) with L2 weight decay, or AdamW (Loshchilov &amp; Hutter 2019) with decoupled weight decay,
 * with PyTorch's conventions. For every parameter θ with gradient g at step t (from 1):
 * <pre>
 *   Adam (L2):          g ← g + λθ
 *   AdamW (decoupled):  θ ← θ − η·λ·θ
 *   m ← β₁·m + (1−β₁)·g,   v ← β₂·v + (1−β₂)·g²,   θ ← θ − η·(m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * </pre>
 * Parameters are blocks of doubles updated in place; decay applies only to the blocks marked for it (weights yes;
 * biases, stored memories, β no). The optimiser owns one m and v per block.
 */
public final class Adam {

    /** How weight decay enters. */
    public enum WeightDecay {
        /** Adam: λθ added to the gradient (goes through the moments). */
        L2,
        /** AdamW: θ shrunk by η·λ directly. */
        DECOUPLED
    }

    /**
     * @param beta1       first-moment decay, in [0, 1)
     * @param beta2       second-moment decay, in [0, 1)
     * @param epsilon     > 0
     * @param weightDecay λ ≥ 0
     * @param mode        L2 (Adam) or DECOUPLED (AdamW)
     */
    public record Config(double beta1, double beta2, double epsilon, double weightDecay, WeightDecay mode) {
        public Config {
            if (!(beta1 >= 0 && beta1 < 1)) {
                throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
            }
            if (!(beta2 >= 0 && beta2 < 1)) {
                throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
            }
            if (!(epsilon > 0) || !Double.isFinite(epsilon)) {
                throw new IllegalArgumentException("epsilon must be a finite number > 0, got " + epsilon);
            }
            if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
                throw new IllegalArgumentException("weightDecay must be a finite number >= 0, got " + weightDecay);
            }
            java.util.Objects.requireNonNull(mode, "mode");
        }

        /** AdamW with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and the given decoupled decay. */
        public static Config adamW(double weightDecay) {
            return new Config(0.9, 0.999, 1e-8, weightDecay, WeightDecay.DECOUPLED);
        }

        /** Adam with β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and the given L2 penalty. */
        public static Config adam(double weightDecay) {
            return new Config(0.9, 0.999, 1e-8, weightDecay, WeightDecay.L2);
        }
    }

    private final Config config;
    private final List<double[]> params;
    private final boolean[] decay;
    private final double[][] m;
    private final double[][] v;
    private long t;

    /**
     * @param params blocks updated in place
     * @param decay  per block: whether weight decay applies
     */
    public Adam(Config config, List<double[]> params, boolean[] decay) {
        if (decay.length != params.size()) {
            throw new IllegalArgumentException("decay has " + decay.length + " flags for " + params.size() + " blocks");
        }
        this.config = java.util.Objects.requireNonNull(config, "config");
        this.params = List.copyOf(params);
        this.decay = decay.clone();
        this.m = new double[params.size()][];
        this.v = new double[params.size()][];
        for (int i = 0; i < params.size(); i++) {
            m[i] = new double[params.get(i).length];
            v[i] = new double[params.get(i).length];
        }
    }

    /** One flat parameter vector, decayed. */
    public Adam(Config config, double[] params) {
        this(config, List.of(params), new boolean[] {true});
    }

    /** Steps taken so far. */
    public long steps() {
        return t;
    }

    /** One update of a single-block optimiser. */
    public void step(double[] grad, double lr) {
        step(List.of(grad), lr);
    }

    /** One update with {@code grads} (same block shapes as the parameters, left unchanged) at learning rate η. */
    public void step(List<double[]> grads, double lr) {
        if (grads.size() != params.size()) {
            throw new IllegalArgumentException("got " + grads.size() + " gradient blocks for " + params.size() + " parameter blocks");
        }
        t++;
        double b1 = config.beta1();
        double b2 = config.beta2();
        double c1 = 1 - Math.pow(b1, t);
        double c2 = 1 - Math.pow(b2, t);
        boolean decoupled = config.mode() == WeightDecay.DECOUPLED;
        for (int k = 0; k < params.size(); k++) {
            double[] p = params.get(k);
            double[] g = grads.get(k);
            if (g.length != p.length) {
                throw new IllegalArgumentException("gradient block " + k + " has " + g.length + " entries, the parameters " + p.length);
            }
            double[] mk = m[k];
            double[] vk = v[k];
            double wd = decay[k] ? config.weightDecay() : 0;
            for (int i = 0; i < p.length; i++) {
                double gi = g[i];
                if (decoupled) {
                    p[i] -= lr * wd * p[i];
                } else {
                    gi += wd * p[i];
                }
                mk[i] = b1 * mk[i] + (1 - b1) * gi;
                vk[i] = b2 * vk[i] + (1 - b2) * gi * gi;
                p[i] -= lr * (mk[i] / c1) / (Math.sqrt(vk[i] / c2) + config.epsilon());
            }
        }
    }
}
