package dev.engram.hnn.train;

import dev.engram.hnn.LearnedField;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * The HNN loss of Greydanus et al. (2019), the mean squared error of the predicted time derivatives over a batch B
 * of samples and all 2n components,
 * <pre>
 *   L(θ) = 1/(|B|·2n) · Σ_{b∈B} ( ‖dq/dt_θ(b) − dq/dt(b)‖² + ‖dp/dt_θ(b) − dp/dt(b)‖² )
 * </pre>
 * and its gradient ∇_θ L, by each model's {@link LearnedField#backprop} with adjoints 2·(prediction − target)/(|B|·2n).
 * <p>
 * Work is split into fixed chunks of {@value #CHUNK} samples, each summed into its own buffer, and the chunks are
 * added in chunk order: the result is bit-identical whatever the number of threads.
 */
public final class DerivativeLoss {
    /** Samples per chunk of the parallel sum. Fixed, so that results do not depend on the thread count. */
    public static final int CHUNK = 32;

    private DerivativeLoss() {
    }

    /** L(θ) over all samples of {@code data}. */
    public static double loss(LearnedField model, PhaseSpaceSamples data, ForkJoinPool pool) {
        int[] all = IntStream.range(0, data.size()).toArray();
        return evaluate(model, data, all, 0, all.length, null, pool);
    }

    /**
     * L(θ) over the samples {@code index[from … to)}, and, when {@code grad} ≠ null, ∇_θ L written into it
     * (overwritten; length {@code model.parameters().length}).
     */
    public static double evaluate(LearnedField model, PhaseSpaceSamples data, int[] index, int from, int to,
                                  double[] grad, ForkJoinPool pool) {
        requireCompatible(model, data);
        int batch = to - from;
        if (batch < 1) {
            throw new IllegalArgumentException("batch is empty (from " + from + " to " + to + ")");
        }
        int chunks = (batch + CHUNK - 1) / CHUNK;
        int params = model.parameters().length;
        double[] losses = new double[chunks];
        double[][] grads = grad == null ? null : new double[chunks][];
        double scale = 1.0 / ((double) batch * 2 * data.dof());
        Runnable work = () -> IntStream.range(0, chunks).parallel().forEach(c -> {
            double[] g = grad == null ? null : new double[params];
            losses[c] = chunk(model, data, index, from + c * CHUNK, Math.min(to, from + (c + 1) * CHUNK), scale, g);
            if (g != null) {
                grads[c] = g;
            }
        });
        try {
            pool.submit(work).get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while computing the loss", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException(e.getCause());
        }
        double total = 0;
        for (int c = 0; c < chunks; c++) {
            total += losses[c];
        }
        if (grad != null) {
            System.arraycopy(grads[0], 0, grad, 0, params);
            for (int c = 1; c < chunks; c++) {
                double[] g = grads[c];
                for (int i = 0; i < params; i++) {
                    grad[i] += g[i];
                }
            }
        }
        return total;
    }

    /** One chunk as one batch: the loss of its rows and, when grad ≠ null, their gradient added to grad. */
    private static double chunk(LearnedField model, PhaseSpaceSamples data, int[] index, int from, int to,
                                double scale, double[] grad) {
        int n = data.dof();
        int m = data.inputs();
        int batch = to - from;
        double[][] q = new double[batch][n];
        double[][] p = new double[batch][n];
        double[][] u = new double[batch][m];
        double[][] dq = new double[batch][n];
        double[][] dp = new double[batch][n];
        for (int r = 0; r < batch; r++) {
            int s = index[from + r];
            System.arraycopy(data.q(), s * n, q[r], 0, n);
            System.arraycopy(data.p(), s * n, p[r], 0, n);
            System.arraycopy(data.u(), s * m, u[r], 0, m);
        }
        if (grad != null) {
            double[][] tq = new double[batch][n];
            double[][] tp = new double[batch][n];
            for (int r = 0; r < batch; r++) {
                int s = index[from + r];
                System.arraycopy(data.dqdt(), s * n, tq[r], 0, n);
                System.arraycopy(data.dpdt(), s * n, tp[r], 0, n);
            }
            return model.squaredErrorBackprop(q, p, u, tq, tp, scale, grad);
        }
        model.predict(q, p, u, dq, dp);
        double sum = 0;
        for (int r = 0; r < batch; r++) {
            int s = index[from + r];
            for (int i = 0; i < n; i++) {
                double eq = dq[r][i] - data.dqdt()[s * n + i];
                double ep = dp[r][i] - data.dpdt()[s * n + i];
                sum += eq * eq + ep * ep;
            }
        }
        return sum * scale;
    }

    static void requireCompatible(LearnedField model, PhaseSpaceSamples data) {
        if (model.dof() != data.dof() || model.inputCount() != data.inputs()) {
            throw new IllegalArgumentException("model has dof " + model.dof() + " and " + model.inputCount()
                    + " inputs, the data has dof " + data.dof() + " and " + data.inputs() + " inputs");
        }
    }
}
