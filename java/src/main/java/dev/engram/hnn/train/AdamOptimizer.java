package dev.engram.hnn.train;

/**
 * Adam (Kingma &amp; Ba 2015) and AdamW (Loshchilov &amp; Hutter 2019) on a flat parameter vector, with PyTorch's
 * conventions. With g the gradient, t the 1-based step and λ the weight decay:
 * <pre>
 *   Adam:   g ← g + λθ
 *   AdamW:  θ ← θ − η λ θ
 *   m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,   θ ← θ − η · (m/(1−β₁ᵗ)) / (√(v/(1−β₂ᵗ)) + ε)
 * </pre>
 * Owns its moment buffers; one instance per training run.
 */
public final class AdamOptimizer {
    private final TrainingConfig.Optimizer kind;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private final double[] m;
    private final double[] v;
    private long t;

    /**
     * @param parameters the number of parameters
     */
    public AdamOptimizer(int parameters, TrainingConfig.Optimizer kind, double beta1, double beta2, double epsilon,
                         double weightDecay) {
        this.kind = kind;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
        this.m = new double[parameters];
        this.v = new double[parameters];
    }

    /**
     * One update of θ in place.
     *
     * @param theta parameters, updated
     * @param grad  ∇_θ L (left unchanged)
     * @param lr    η for this step
     */
    public void step(double[] theta, double[] grad, double lr) {
        t++;
        double c1 = 1 - Math.pow(beta1, t);
        double c2 = 1 - Math.pow(beta2, t);
        boolean decoupled = kind == TrainingConfig.Optimizer.ADAMW;
        for (int i = 0; i < theta.length; i++) {
            double g = grad[i];
            if (decoupled) {
                theta[i] -= lr * weightDecay * theta[i];
            } else {
                g += weightDecay * theta[i];
            }
            m[i] = beta1 * m[i] + (1 - beta1) * g;
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            theta[i] -= lr * (m[i] / c1) / (Math.sqrt(v[i] / c2) + epsilon);
        }
    }

    /** Steps taken so far. */
    public long steps() {
        return t;
    }
}
