package dev.engram.engine;

import dev.engram.tensor.FloatMatrix;

/**
 * The contract every engine implements. The reference engine is the oracle; every other engine must agree with it
 * within stated tolerances. Engines never mutate the memory or the queries.
 */
public interface Backend {

    /** Short name used by {@link Backends#select(String)} and in logs: "reference", "cpu", ... */
    String name();

    /**
     * The mergeable retrieval state of every query over patterns {@code [from, to)} of {@code memory}
     * (see {@link RetrievalPartial}); top-k indices are indices into the whole memory.
     *
     * @param queries B×d, float32
     * @throws IllegalArgumentException on bad input, naming the argument and value
     */
    RetrievalPartial retrievePartial(PatternMemory memory, long from, long to, FloatMatrix queries, RetrievalParams params);

    /**
     * {@code softmax(beta·q·Xᵀ)·V}, entropy, confidence and cosine top-k for every query against the whole memory.
     *
     * @param queries B×d, float32
     */
    default RetrievalResult retrieve(PatternMemory memory, FloatMatrix queries, RetrievalParams params) {
        RetrievalChecks.check(memory, 0, memory.size(), queries, params);
        return retrievePartial(memory, 0, memory.size(), queries, params).finish();
    }

    /**
     * Integrates an ensemble of trajectories of a Hamiltonian MLP (see {@link EnsembleSpec}). Engines that do not
     * integrate (yet) say so with an {@link UnsupportedOperationException} naming themselves.
     */
    default EnsembleResult integrate(EnsembleSpec spec) {
        return integrate(spec, done -> { });
    }

    /**
     * {@link #integrate(EnsembleSpec)}, reporting progress: {@code progress} receives the number of finished
     * trajectories about every 1% of them and at the end (from any worker thread; it must be thread-safe and quick).
     */
    default EnsembleResult integrate(EnsembleSpec spec, java.util.function.LongConsumer progress) {
        throw new UnsupportedOperationException("the " + name() + " engine does not integrate ensembles; use reference or cpu");
    }

    /**
     * Opens a session computing the HNN training loss and its gradient for {@code model} on {@code samples} with
     * this engine (see {@link TrainingSession}).
     *
     * @return the session, or null for the reference engine: its training is the models' own double-precision
     *         code (the hand-derived double backpropagation in {@code dev.engram.hnn}, which no engine may import),
     *         and the caller runs that
     * @throws UnsupportedOperationException when this engine does not train
     */
    default TrainingSession openTraining(TrainingModel model, TrainingSamples samples) {
        throw new UnsupportedOperationException("the " + name() + " engine does not train models; use reference or cpu");
    }

    /**
     * The forward pass of a training attention (see {@link Attention}): outputs, entropies and, per query, the
     * maximum score and log-normaliser from which {@link #attendBackward} recomputes the attention weights.
     *
     * @throws UnsupportedOperationException when this engine does not train
     */
    default AttentionForward attend(Attention attention) {
        throw new UnsupportedOperationException("the " + name() + " engine does not train attention; use reference or cpu");
    }

    /**
     * Gradients through a training attention (see {@link AttentionGradient}), recomputing the attention weights
     * from {@code forward}'s maxima and log-normalisers, so the H×B×M weights are never stored.
     *
     * @param forward        what this engine's {@link #attend} returned for {@code attention}
     * @param outputGradient ∂L/∂o, H×B×dv
     * @throws UnsupportedOperationException when this engine does not train
     */
    default AttentionGradient attendBackward(Attention attention, AttentionForward forward, double[] outputGradient) {
        throw new UnsupportedOperationException("the " + name() + " engine does not train attention; use reference or cpu");
    }

    /**
     * Y = X·Wᵀ (see {@link Projection}), rows×n, row-major.
     *
     * @throws UnsupportedOperationException when this engine does not train
     */
    default double[] project(Projection projection) {
        throw new UnsupportedOperationException("the " + name() + " engine does not train projections; use reference or cpu");
    }

    /**
     * ∂W = ∂Yᵀ·X and, when {@code inputGradient}, ∂X = ∂Y·W (see {@link Projection}).
     *
     * @param outputGradient ∂Y, rows×n, finite
     * @throws UnsupportedOperationException when this engine does not train
     */
    default Projection.Gradient projectBackward(Projection projection, double[] outputGradient, boolean inputGradient) {
        throw new UnsupportedOperationException("the " + name() + " engine does not train projections; use reference or cpu");
    }
}
