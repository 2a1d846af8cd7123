package dev.engram.hnn.train;

/**
 * What {@link Trainer#train} did.
 *
 * @param epochs             epochs run (≤ the configured maximum)
 * @param steps              optimiser steps taken
 * @param trainLoss          per epoch, the sample-weighted mean of the minibatch losses (before each step)
 * @param validationLoss     per epoch, the loss on the held-out samples after the epoch (empty without validation)
 * @param bestEpoch          0-based epoch of the lowest validation loss (the last epoch without validation)
 * @param bestValidationLoss the lowest validation loss (NaN without validation)
 * @param stoppedEarly       whether patience ran out before the last epoch
 * @param restoredBest       whether the parameters of {@code bestEpoch} were put back at the end
 * @param seconds            wall-clock time
 */
public record TrainingResult(int epochs, long steps, double[] trainLoss, double[] validationLoss, int bestEpoch,
                             double bestValidationLoss, boolean stoppedEarly, boolean restoredBest, double seconds) {
}
