/**
 * The live signal loop: a trained strategy ({@code TrainedModel}) decides each newly closed bar of a feed (an
 * exchange or a file being appended to) and appends the decision to a JSON-lines log, from which a restarted loop
 * resumes without repeating or skipping a bar.
 */
package dev.engram.trading.live;
