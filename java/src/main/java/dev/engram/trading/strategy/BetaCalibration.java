package dev.engram.trading.strategy;

import dev.engram.engine.Backend;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;

/**
 * Chooses the inverse temperature β of softmax retrieval for a memory, so that confidence {@code 1 − H/log M}
 * carries information. With unit patterns the scores β·q·x are β times cosines; at β = 1 the attention over M = 10⁴
 * patterns is nearly uniform (confidence ≈ 0.006) and a trader with any sensible confidence threshold never trades.
 * The right β grows with M: for scores of spread σ_s the entropy is about log M − β²σ_s²/2 while β·σ_s is small, so
 * a fixed confidence needs β ≈ √(2c·log M)/σ_s.
 * <p>
 * Rather than trust that approximation, β is solved for: the entropy of softmax(β·s) falls monotonically as β grows
 * (dH/dβ = −β·Var_a(s) ≤ 0), so the mean confidence of a set of calibration queries is monotone in β and bisection
 * on log β over [2⁻², 2¹²] finds the β whose mean confidence equals the target (to 0.005, or the interval's end).
 * The calibration queries must not be in the memory (a query that finds itself is overconfident): strategies use
 * the last training patterns, held out, against a memory of the earlier ones.
 */
public final class BetaCalibration {
    /** The default target mean confidence: the middle of [0, 1], so the confidence threshold has room both ways. */
    public static final double DEFAULT_TARGET = 0.5;

    private static final double LOG_MIN = Math.log(0.25);
    private static final double LOG_MAX = Math.log(4096);

    private BetaCalibration() {
    }

    /**
     * @param beta           the calibrated β
     * @param meanConfidence the calibration queries' mean confidence at that β
     * @param iterations     bisection steps taken
     */
    public record Result(float beta, double meanConfidence, int iterations) {
    }

    /**
     * The β whose mean confidence over {@code queries} against {@code memory} is {@code target}.
     *
     * @param queries Q×d, not stored in the memory
     * @param target  in (0, 1)
     */
    public static Result calibrate(Backend engine, PatternMemory memory, FloatMatrix queries, double target) {
        if (!(target > 0 && target < 1)) {
            throw new IllegalArgumentException("target confidence must be in (0, 1), got " + target);
        }
        if (memory.size() < 2) {
            return new Result(1f, 1, 0);
        }
        double lo = LOG_MIN;
        double hi = LOG_MAX;
        double cLo = meanConfidence(engine, memory, queries, Math.exp(lo));
        if (cLo >= target) {
            return new Result((float) Math.exp(lo), cLo, 1);
        }
        double cHi = meanConfidence(engine, memory, queries, Math.exp(hi));
        if (cHi <= target) {
            return new Result((float) Math.exp(hi), cHi, 2);
        }
        int it = 2;
        double mid = 0.5 * (lo + hi);
        double c = Double.NaN;
        while (it < 40) {
            mid = 0.5 * (lo + hi);
            c = meanConfidence(engine, memory, queries, Math.exp(mid));
            it++;
            if (Math.abs(c - target) < 0.005) {
                break;
            }
            if (c < target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return new Result((float) Math.exp(mid), c, it);
    }

    static double meanConfidence(Backend engine, PatternMemory memory, FloatMatrix queries, double beta) {
        RetrievalResult r = engine.retrieve(memory, queries, new RetrievalParams((float) beta, 0));
        double s = 0;
        for (float v : r.confidence()) {
            s += v;
        }
        return s / r.batch();
    }
}
