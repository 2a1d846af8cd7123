/**
 * Optimisers and learning-rate schedules shared by the trainable models ({@code hopfield}, {@code hnn}): plain
 * double arrays in, updated in place.
 */
package dev.engram.optim;
