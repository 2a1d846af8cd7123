package dev.engram.engine;

/**
 * An engine's handle on one model and one data set ({@link Backend#openTraining}) for the HNN loss of Greydanus et
 * al. (2019), the mean squared error of the predicted time derivatives over a minibatch B and all 2n components,
 * <pre>
 *   L(θ) = 1/(|B|·2n) · Σ_{b∈B} ( ‖dq/dt_θ(b) − dq/dt(b)‖² + ‖dp/dt_θ(b) − dp/dt(b)‖² )
 * </pre>
 * and ∇_θ L (for the Hamiltonian kinds a double backpropagation: the loss is on ∇ₓH). The session owns the engine's
 * copy of the data and its scratch buffers; it is used from one thread at a time.
 *
 * <p>Reproducible: the same θ and minibatch give the same bits on any thread count and in every run.
 */
public interface TrainingSession extends AutoCloseable {

    /** The model this session trains. */
    TrainingModel model();

    /**
     * L(θ) over the samples {@code index[from … to)}, and, when {@code grad} ≠ null, ∇_θ L written into it.
     *
     * @param theta parameters, length {@code model().parameterCount()}, laid out as {@link TrainingModel} says
     * @param index sample numbers (0 ≤ index &lt; N)
     * @param grad  null (loss only) or length {@code model().parameterCount()}, overwritten
     */
    double lossAndGradient(double[] theta, int[] index, int from, int to, double[] grad);

    /** Frees the session's buffers (its engine stays open). */
    @Override
    void close();

    /** Checks the arguments of {@link #lossAndGradient}; for implementations. */
    static void check(TrainingModel model, int samples, double[] theta, int[] index, int from, int to, double[] grad) {
        int params = model.parameterCount();
        if (theta == null || theta.length != params) {
            throw new IllegalArgumentException("theta has length " + (theta == null ? "null" : theta.length)
                    + ", the " + model.kind().label() + " model has " + params + " parameters");
        }
        if (grad != null && grad.length != params) {
            throw new IllegalArgumentException("grad has length " + grad.length + ", expected " + params);
        }
        if (index == null || from < 0 || to > index.length || from >= to) {
            throw new IllegalArgumentException("batch [" + from + ", " + to + ") is empty or outside the index of "
                    + (index == null ? "null" : index.length) + " samples");
        }
        for (int i = from; i < to; i++) {
            if (index[i] < 0 || index[i] >= samples) {
                throw new IllegalArgumentException("index[" + i + "] = " + index[i] + " is not a sample (N = "
                        + samples + ")");
            }
        }
    }
}
