package dev.engram.engine.reference;

import dev.engram.engine.Backend;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalChecks;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalPartial;
import dev.engram.engine.TopK;
import dev.engram.engine.TrainingModel;
import dev.engram.engine.TrainingSamples;
import dev.engram.engine.TrainingSession;
import dev.engram.tensor.FloatMatrix;

/**
 * The oracle: plain loops, double accumulation, the textbook two-pass stable softmax. Slow and obviously right;
 * every other engine is tested against it. Single-threaded; imports no other engine.
 */
public final class ReferenceBackend implements Backend {

    @Override
    public String name() {
        return "reference";
    }

    /**
     * For each query q: pass 1 finds {@code m = max_i beta·q·x_i}; pass 2 sums {@code e^(s_i − m)}, its
     * score-weighted sum and value-weighted sum, and the cosine top-k {@code q·x_i / (‖q‖·‖x_i‖)} (0 if either is 0).
     */
    @Override
    public RetrievalPartial retrievePartial(PatternMemory memory, long from, long to, FloatMatrix queries,
                                            RetrievalParams params) {
        RetrievalChecks.check(memory, from, to, queries, params);
        int batch = (int) queries.rows();
        int d = memory.dim();
        int dv = memory.valueDim();
        double beta = params.beta();
        FloatMatrix x = memory.patterns();
        FloatMatrix v = memory.values();
        double[] max = new double[batch];
        double[] sum = new double[batch];
        double[] shifted = new double[batch];
        double[] out = new double[batch * dv];
        TopK[] top = new TopK[batch];
        float[] q = new float[d];
        float[] xi = new float[d];
        float[] vi = new float[dv];
        for (int b = 0; b < batch; b++) {
            queries.copyRow(b, q, 0);
            double qNorm = Math.sqrt(dot(q, q));
            double m = Double.NEGATIVE_INFINITY;
            for (long i = from; i < to; i++) {
                x.copyRow(i, xi, 0);
                m = Math.max(m, beta * dot(q, xi));
            }
            double l = 0;
            double t = 0;
            TopK tk = new TopK(params.k());
            for (long i = from; i < to; i++) {
                x.copyRow(i, xi, 0);
                v.copyRow(i, vi, 0);
                double qx = dot(q, xi);
                double s = beta * qx - m;
                double e = Math.exp(s);
                l += e;
                t += e * s;
                for (int j = 0; j < dv; j++) {
                    out[b * dv + j] += e * vi[j];
                }
                double denom = qNorm * Math.sqrt(dot(xi, xi));
                tk.offer(denom == 0 ? 0.0 : qx / denom, i);
            }
            max[b] = m;
            sum[b] = l;
            shifted[b] = t;
            top[b] = tk;
        }
        return new RetrievalPartial(batch, dv, params.k(), to - from, max, sum, shifted, out, top);
    }

    /** One trajectory after another in double; see {@link EnsembleSpec} for the equations. */
    @Override
    public EnsembleResult integrate(EnsembleSpec spec, java.util.function.LongConsumer progress) {
        return new ReferenceEnsemble(java.util.Objects.requireNonNull(spec, "spec")).run(progress);
    }

    private static double dot(float[] a, float[] b) {
        double s = 0;
        for (int j = 0; j < a.length; j++) {
            s += (double) a[j] * b[j];
        }
        return s;
    }

    /** Null: the reference training is the models' own double-precision code (see {@link Backend#openTraining}). */
    @Override
    public TrainingSession openTraining(TrainingModel model, TrainingSamples samples) {
        java.util.Objects.requireNonNull(model, "model");
        java.util.Objects.requireNonNull(samples, "samples");
        return null;
    }

    /** Each query on its own in double, two passes (see {@code ReferenceAttention}). */
    @Override
    public dev.engram.engine.AttentionForward attend(dev.engram.engine.Attention attention) {
        return ReferenceAttention.forward(java.util.Objects.requireNonNull(attention, "attention"));
    }

    /** In double, recomputing every weight from the inputs. */
    @Override
    public dev.engram.engine.AttentionGradient attendBackward(dev.engram.engine.Attention attention,
                                                            dev.engram.engine.AttentionForward forward,
                                                            double[] outputGradient) {
        return ReferenceAttention.backward(java.util.Objects.requireNonNull(attention, "attention"), forward,
                outputGradient);
    }

    /** Y = X·Wᵀ, one double dot product per entry. */
    @Override
    public double[] project(dev.engram.engine.Projection p) {
        int k = p.inputs();
        int n = p.outputs();
        double[] y = new double[p.rows() * n];
        for (int r = 0; r < p.rows(); r++) {
            for (int o = 0; o < n; o++) {
                double s = 0;
                for (int c = 0; c < k; c++) {
                    s += p.x()[r * k + c] * p.w()[o * k + c];
                }
                y[r * n + o] = s;
            }
        }
        return y;
    }

    /** ∂W = ∂Yᵀ·X and ∂X = ∂Y·W in double, rows in order. */
    @Override
    public dev.engram.engine.Projection.Gradient projectBackward(dev.engram.engine.Projection p, double[] dy,
                                                                 boolean inputGradient) {
        dev.engram.engine.Attention.checkFinite("outputGradient", dy, (long) p.rows() * p.outputs());
        int k = p.inputs();
        int n = p.outputs();
        double[] gw = new double[n * k];
        double[] gx = inputGradient ? new double[p.rows() * k] : null;
        for (int r = 0; r < p.rows(); r++) {
            for (int o = 0; o < n; o++) {
                double g = dy[r * n + o];
                for (int c = 0; c < k; c++) {
                    gw[o * k + c] += g * p.x()[r * k + c];
                    if (gx != null) {
                        gx[r * k + c] += g * p.w()[o * k + c];
                    }
                }
            }
        }
        return new dev.engram.engine.Projection.Gradient(gw, gx);
    }
}
