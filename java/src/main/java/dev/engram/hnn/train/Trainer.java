package dev.engram.hnn.train;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.Capability;
import dev.engram.engine.TrainingSamples;
import dev.engram.engine.TrainingSession;
import dev.engram.tensor.RandomSampling;
import dev.engram.optim.Adam;
import dev.engram.optim.LearningRateSchedule;
import dev.engram.hnn.LearnedField;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Minibatch training of a {@link LearnedField} on the {@link DerivativeLoss}: seeded validation split, per-epoch
 * seeded shuffles, Adam/AdamW ({@link Adam}), the {@link LearningRateSchedule}, gradient-norm clipping and
 * early stopping on the validation loss with the best parameters restored.
 * <p>
 * The loss and its gradient come from the engine chosen for {@link Capability#TRAINING}: by default {@code auto}
 * (the cpu engine's float32 batched double backprop when the Vector API is there), or the reference engine, whose
 * training is the models' own double-precision code ({@link DerivativeLoss}). The optimiser, θ and the schedule are
 * double on every engine.
 * <p>
 * Reproducible: the same model initialisation, data, config and engine give bit-identical parameters, whatever the
 * number of threads (every engine sums the gradient over fixed chunks in a fixed order).
 */
public final class Trainer {
    private Trainer() {
    }

    /** Called after every epoch (from the training thread). */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param epoch          0-based
         * @param trainLoss      mean minibatch loss of the epoch
         * @param validationLoss NaN without validation
         * @param learningRate   η of the last step of the epoch
         */
        void epochEnd(int epoch, double trainLoss, double validationLoss, double learningRate);
    }

    /** {@link #train(LearnedField, PhaseSpaceSamples, TrainingConfig, Listener)} without a listener. */
    public static TrainingResult train(LearnedField model, PhaseSpaceSamples data, TrainingConfig config) {
        return train(model, data, config, null);
    }

    /**
     * Trains {@code model.parameters()} in place.
     *
     * @param data     all samples; {@code config.validationFraction()} of them are held out
     * @param listener may be null
     */
    public static TrainingResult train(LearnedField model, PhaseSpaceSamples data, TrainingConfig config,
                                       Listener listener) {
        return train(model, data, config, listener, Backends.select(Capability.TRAINING, "auto", config.threads()));
    }

    /**
     * As {@link #train(LearnedField, PhaseSpaceSamples, TrainingConfig, Listener)} on the given training engine
     * (from {@code Backends.select(Capability.TRAINING, name, threads)}).
     *
     * @throws UnsupportedOperationException when {@code engine} does not train
     */
    public static TrainingResult train(LearnedField model, PhaseSpaceSamples data, TrainingConfig config,
                                       Listener listener, Backend engine) {
        DerivativeLoss.requireCompatible(model, data);
        TrainingSession session = engine.openTraining(model.toTrainingModel(), samples(data));
        try {
            return run(model, data, config, listener, session);
        } finally {
            if (session != null) {
                session.close();
            }
        }
    }

    /** The data as the engines take it (the arrays are shared, not copied). */
    static TrainingSamples samples(PhaseSpaceSamples data) {
        return new TrainingSamples(data.dof(), data.inputs(), data.q(), data.p(), data.u(), data.dqdt(), data.dpdt());
    }

    private static TrainingResult run(LearnedField model, PhaseSpaceSamples data, TrainingConfig config,
                                      Listener listener, TrainingSession session) {
        long t0 = System.nanoTime();
        double[] theta = model.parameters();
        requireFiniteParameters(theta);
        SplittableRandom rnd = new SplittableRandom(config.seed());
        int total = data.size();
        int[] order = IntStream.range(0, total).toArray();
        int nVal = 0;
        if (config.validationFraction() > 0) {
            RandomSampling.shuffle(order, rnd);
            nVal = (int) Math.round(config.validationFraction() * total);
            if (nVal < 1 || nVal >= total) {
                throw new IllegalArgumentException("validationFraction " + config.validationFraction() + " of "
                        + total + " samples leaves " + nVal + " for validation and " + (total - nVal)
                        + " for training; both must be >= 1");
            }
        }
        int[] val = Arrays.copyOfRange(order, 0, nVal);
        int[] train = Arrays.copyOfRange(order, nVal, total);
        Arrays.sort(val);
        Arrays.sort(train);
        int batch = config.batchSize() == 0 ? train.length : Math.min(config.batchSize(), train.length);
        int stepsPerEpoch = (train.length + batch - 1) / batch;
        LearningRateSchedule schedule = new LearningRateSchedule(config.learningRate(), config.minLearningRate(),
                config.warmupSteps(), (int) Math.min(Integer.MAX_VALUE, (long) stepsPerEpoch * config.epochs()),
                config.cosine());
        Adam adam = new Adam(new Adam.Config(config.beta1(), config.beta2(), config.epsilon(), config.weightDecay(),
                config.optimizer() == TrainingConfig.Optimizer.ADAMW ? Adam.WeightDecay.DECOUPLED : Adam.WeightDecay.L2),
                theta);
        int threads = config.threads() == 0 ? Runtime.getRuntime().availableProcessors() : config.threads();
        ForkJoinPool pool = session == null ? new ForkJoinPool(threads) : null;
        try {
            double[] grad = new double[theta.length];
            double[] trainLoss = new double[config.epochs()];
            double[] valLoss = new double[nVal > 0 ? config.epochs() : 0];
            double[] best = nVal > 0 ? theta.clone() : null;
            double bestLoss = Double.NaN;
            int bestEpoch = -1;
            int epoch = 0;
            boolean stopped = false;
            long step = 0;
            double lr = schedule.rate(0);
            for (; epoch < config.epochs(); epoch++) {
                if (batch < train.length) {
                    RandomSampling.shuffle(train, rnd);
                }
                double sum = 0;
                for (int from = 0; from < train.length; from += batch) {
                    int to = Math.min(train.length, from + batch);
                    double loss = session != null ? session.lossAndGradient(theta, train, from, to, grad)
                            : DerivativeLoss.evaluate(model, data, train, from, to, grad, pool);
                    if (!Double.isFinite(loss)) {
                        throw new IllegalStateException("training diverged: loss is " + loss + " at epoch " + epoch
                                + ", step " + step + " (lower the learning rate or clip the gradient)");
                    }
                    sum += loss * (to - from);
                    clip(grad, config.clipNorm());
                    lr = schedule.rate(step);
                    adam.step(grad, lr);
                    step++;
                }
                trainLoss[epoch] = sum / train.length;
                double v = Double.NaN;
                if (nVal > 0) {
                    v = session != null ? session.lossAndGradient(theta, val, 0, val.length, null)
                            : DerivativeLoss.evaluate(model, data, val, 0, val.length, null, pool);
                    valLoss[epoch] = v;
                    if (bestEpoch < 0 || v < bestLoss) {
                        bestLoss = v;
                        bestEpoch = epoch;
                        System.arraycopy(theta, 0, best, 0, theta.length);
                    } else if (config.patience() > 0 && epoch - bestEpoch >= config.patience()) {
                        if (listener != null) {
                            listener.epochEnd(epoch, trainLoss[epoch], v, lr);
                        }
                        epoch++;
                        stopped = true;
                        break;
                    }
                }
                if (listener != null) {
                    listener.epochEnd(epoch, trainLoss[epoch], v, lr);
                }
            }
            boolean restored = false;
            if (nVal > 0 && config.restoreBest() && bestEpoch >= 0) {
                System.arraycopy(best, 0, theta, 0, theta.length);
                restored = true;
            }
            if (nVal == 0) {
                bestEpoch = epoch - 1;
            }
            return new TrainingResult(epoch, step, Arrays.copyOf(trainLoss, epoch),
                    Arrays.copyOf(valLoss, Math.min(valLoss.length, epoch)), bestEpoch, bestLoss, stopped, restored,
                    (System.nanoTime() - t0) / 1e9);
        } finally {
            if (pool != null) {
                pool.shutdown();
            }
        }
    }

    /** g ← g·c/‖g‖ when ‖g‖ > c > 0. */
    static void clip(double[] grad, double c) {
        if (c <= 0) {
            return;
        }
        double s = 0;
        for (double g : grad) {
            s += g * g;
        }
        double norm = Math.sqrt(s);
        if (norm > c) {
            double f = c / norm;
            for (int i = 0; i < grad.length; i++) {
                grad[i] *= f;
            }
        }
    }

    private static void requireFiniteParameters(double[] theta) {
        for (int i = 0; i < theta.length; i++) {
            if (!Double.isFinite(theta[i])) {
                throw new IllegalArgumentException("model parameter " + i + " is " + theta[i]);
            }
        }
    }
}
