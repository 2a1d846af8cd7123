package dev.engram.trading.backtest;

import java.util.ArrayList;
import java.util.List;

/**
 * Walk-forward windows: train on a window, test on the next {@code testBars} bars, roll forward by that much.
 * <ul>
 * <li><b>anchored</b>: every training window starts at the first bar with features and grows;
 * <b>sliding</b>: it is the last {@code trainBars} bars before the test window.</li>
 * <li><b>purge</b>: a pattern at bar i is labelled with its outcome over h bars, known only at bar i+h's close. The
 * labels of a fold are the patterns whose outcome was realised by the close of the bar before the test window's
 * first decision bar s, i.e. i + h ≤ s − 1: the training window minus its last h bars.</li>
 * <li><b>embargo</b>: e more bars are dropped (i + h + e ≤ s − 1), for outcomes that leak through autocorrelation.</li>
 * </ul>
 * For symbols other than the traded one the same rule is applied in time: a pattern is labelled when the bar that
 * realises its outcome ended at least e bars before the traded symbol's bar s began.
 *
 * @param trainBars feature rows in the first (anchored) or every (sliding) training window, ≥ h + e + 2
 * @param testBars  decision bars per test window, ≥ 1
 * @param horizon   h, the outcome horizon in bars, ≥ 1
 * @param embargo   e ≥ 0
 * @param anchored  anchored (true) or sliding (false)
 */
public record WalkForward(int trainBars, int testBars, int horizon, int embargo, boolean anchored) {
    public WalkForward {
        if (horizon < 1) {
            throw new IllegalArgumentException("horizon must be >= 1 bar, got " + horizon);
        }
        if (embargo < 0) {
            throw new IllegalArgumentException("embargo must be >= 0 bars, got " + embargo);
        }
        if (trainBars < horizon + embargo + 2) {
            throw new IllegalArgumentException("train bars must be >= horizon + embargo + 2 = " + (horizon + embargo + 2)
                    + ", got " + trainBars);
        }
        if (testBars < 1) {
            throw new IllegalArgumentException("test bars must be >= 1, got " + testBars);
        }
    }

    /**
     * One fold: training bars [trainFrom, testFrom), decision bars [testFrom, testTo).
     */
    public record Fold(int index, int trainFrom, int testFrom, int testTo) {
        public int testSize() {
            return testTo - testFrom;
        }
    }

    /**
     * The folds over a series of {@code bars} bars whose first feature row is at bar {@code first}. Decision bars
     * end at bars − 2 (a decision at the last bar has no next open to fill at).
     *
     * @throws IllegalArgumentException when the series is too short for one training window and one decision
     */
    public List<Fold> folds(int first, int bars) {
        int s = first + trainBars;
        int lastDecision = bars - 2;
        if (s > lastDecision) {
            throw new IllegalArgumentException("the series has " + bars + " bars: with the first feature row at bar "
                    + first + " and " + trainBars + " training bars the first decision would be at bar " + s
                    + ", but the last fillable decision is at bar " + lastDecision + "; use fewer training bars");
        }
        List<Fold> folds = new ArrayList<>();
        for (int k = 0; s <= lastDecision; k++, s += testBars) {
            int from = anchored ? first : s - trainBars;
            folds.add(new Fold(k, from, s, Math.min(s + testBars, lastDecision + 1)));
        }
        return folds;
    }
}
