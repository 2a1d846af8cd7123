package dev.engram.hnn.train;

/**
 * Hyper-parameters of {@link Trainer}. Start from {@link #defaults()} and change fields with the {@code with…}
 * methods; every value is checked here, with an error naming the field and the value.
 *
 * @param epochs             maximum passes over the training set, ≥ 1
 * @param batchSize          samples per optimiser step, ≥ 1, or 0 for the full training set (one step per epoch)
 * @param optimizer          {@link Optimizer#ADAM} (L2 penalty added to the gradient) or {@link Optimizer#ADAMW}
 *                           (decoupled weight decay)
 * @param learningRate       peak learning rate η, &gt; 0
 * @param minLearningRate    floor of the cosine schedule, 0 ≤ η_min ≤ η
 * @param warmupSteps        linear warm-up from η/warmupSteps to η over this many steps, ≥ 0
 * @param cosine             cosine decay from η to η_min over the remaining steps; false: constant η after warm-up
 * @param weightDecay        λ ≥ 0
 * @param beta1              Adam's first-moment decay, in [0, 1)
 * @param beta2              Adam's second-moment decay, in [0, 1)
 * @param epsilon            Adam's denominator guard, &gt; 0
 * @param clipNorm           rescale the gradient to this Euclidean norm when it is larger; 0 = no clipping
 * @param validationFraction share of samples held out for validation, in [0, 1); 0 = no validation, no early stop
 * @param patience           stop after this many epochs without a better validation loss; 0 = never stop early
 * @param restoreBest        at the end, put back the parameters of the best validation loss
 * @param seed               seeds the validation split and the minibatch shuffles
 * @param threads            worker threads for the gradient sum (results do not depend on it), ≥ 1, or 0 = all cores
 */
public record TrainingConfig(int epochs, int batchSize, Optimizer optimizer, double learningRate,
                             double minLearningRate, int warmupSteps, boolean cosine, double weightDecay, double beta1,
                             double beta2, double epsilon, double clipNorm, double validationFraction, int patience,
                             boolean restoreBest, long seed, int threads) {

    /** Adam or AdamW. */
    public enum Optimizer { ADAM, ADAMW }

    public TrainingConfig {
        if (epochs < 1) {
            throw new IllegalArgumentException("epochs must be >= 1, got " + epochs);
        }
        if (batchSize < 0) {
            throw new IllegalArgumentException("batchSize must be >= 1 (or 0 for the full set), got " + batchSize);
        }
        if (optimizer == null) {
            throw new IllegalArgumentException("optimizer must be ADAM or ADAMW, got null");
        }
        if (!(learningRate > 0) || !Double.isFinite(learningRate)) {
            throw new IllegalArgumentException("learningRate must be finite and > 0, got " + learningRate);
        }
        if (!(minLearningRate >= 0 && minLearningRate <= learningRate)) {
            throw new IllegalArgumentException("minLearningRate must be in [0, learningRate = " + learningRate
                    + "], got " + minLearningRate);
        }
        if (warmupSteps < 0) {
            throw new IllegalArgumentException("warmupSteps must be >= 0, got " + warmupSteps);
        }
        if (!(weightDecay >= 0) || !Double.isFinite(weightDecay)) {
            throw new IllegalArgumentException("weightDecay must be finite and >= 0, got " + weightDecay);
        }
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        }
        if (!(epsilon > 0) || !Double.isFinite(epsilon)) {
            throw new IllegalArgumentException("epsilon must be finite and > 0, got " + epsilon);
        }
        if (!(clipNorm >= 0) || !Double.isFinite(clipNorm)) {
            throw new IllegalArgumentException("clipNorm must be finite and >= 0 (0 = off), got " + clipNorm);
        }
        if (!(validationFraction >= 0 && validationFraction < 1)) {
            throw new IllegalArgumentException("validationFraction must be in [0, 1), got " + validationFraction);
        }
        if (patience < 0) {
            throw new IllegalArgumentException("patience must be >= 0 (0 = off), got " + patience);
        }
        if (threads < 0) {
            throw new IllegalArgumentException("threads must be >= 1 (or 0 for all cores), got " + threads);
        }
    }

    /**
     * 1000 epochs, full batch, Adam η = 1e-3 (β = 0.9, 0.999, ε = 1e-8), constant rate, no decay, no clipping, no
     * validation, seed 0, all cores: the setting of Greydanus et al.
     */
    public static TrainingConfig defaults() {
        return new TrainingConfig(1000, 0, Optimizer.ADAM, 1e-3, 0, 0, false, 0, 0.9, 0.999, 1e-8, 0, 0, 0, true, 0, 0);
    }

    public TrainingConfig withEpochs(int v) {
        return new TrainingConfig(v, batchSize, optimizer, learningRate, minLearningRate, warmupSteps, cosine,
                weightDecay, beta1, beta2, epsilon, clipNorm, validationFraction, patience, restoreBest, seed, threads);
    }

    public TrainingConfig withBatchSize(int v) {
        return new TrainingConfig(epochs, v, optimizer, learningRate, minLearningRate, warmupSteps, cosine,
                weightDecay, beta1, beta2, epsilon, clipNorm, validationFraction, patience, restoreBest, seed, threads);
    }

    /** Optimiser, learning rate and weight decay λ together. */
    public TrainingConfig withOptimizer(Optimizer o, double lr, double decay) {
        return new TrainingConfig(epochs, batchSize, o, lr, Math.min(minLearningRate, lr), warmupSteps, cosine, decay,
                beta1, beta2, epsilon, clipNorm, validationFraction, patience, restoreBest, seed, threads);
    }

    /** Cosine decay to {@code min} after {@code warmup} linear warm-up steps. */
    public TrainingConfig withCosineSchedule(double min, int warmup) {
        return new TrainingConfig(epochs, batchSize, optimizer, learningRate, min, warmup, true, weightDecay, beta1,
                beta2, epsilon, clipNorm, validationFraction, patience, restoreBest, seed, threads);
    }

    public TrainingConfig withClipNorm(double v) {
        return new TrainingConfig(epochs, batchSize, optimizer, learningRate, minLearningRate, warmupSteps, cosine,
                weightDecay, beta1, beta2, epsilon, v, validationFraction, patience, restoreBest, seed, threads);
    }

    /** Validation split and early stopping (patience 0 = validate but never stop early). */
    public TrainingConfig withValidation(double fraction, int patienceEpochs, boolean restore) {
        return new TrainingConfig(epochs, batchSize, optimizer, learningRate, minLearningRate, warmupSteps, cosine,
                weightDecay, beta1, beta2, epsilon, clipNorm, fraction, patienceEpochs, restore, seed, threads);
    }

    public TrainingConfig withSeed(long v) {
        return new TrainingConfig(epochs, batchSize, optimizer, learningRate, minLearningRate, warmupSteps, cosine,
                weightDecay, beta1, beta2, epsilon, clipNorm, validationFraction, patience, restoreBest, v, threads);
    }

    public TrainingConfig withThreads(int v) {
        return new TrainingConfig(epochs, batchSize, optimizer, learningRate, minLearningRate, warmupSteps, cosine,
                weightDecay, beta1, beta2, epsilon, clipNorm, validationFraction, patience, restoreBest, seed, v);
    }
}
