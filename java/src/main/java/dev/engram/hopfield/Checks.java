package dev.engram.hopfield;

import dev.engram.tensor.FloatMatrix;

/** Boundary checks shared by the models: every message names the argument and the offending value. */
final class Checks {
    private Checks() {
    }

    static int positive(String name, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(name + " must be >= 1, got " + value);
        }
        return value;
    }

    static double positiveFinite(String name, double value) {
        if (!(value > 0) || !Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be a finite number > 0, got " + value);
        }
        return value;
    }

    static double finite(String name, double value) {
        if (!Double.isFinite(value)) {
            throw new IllegalArgumentException(name + " must be finite, got " + value);
        }
        return value;
    }

    static void finite(String name, float[] v) {
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                throw new IllegalArgumentException(name + " must be finite, but element " + i + " is " + v[i]);
            }
        }
    }

    static void finite(String name, double[] v) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new IllegalArgumentException(name + " must be finite, but element " + i + " is " + v[i]);
            }
        }
    }

    static void length(String name, int actual, int expected) {
        if (actual != expected) {
            throw new IllegalArgumentException(name + " has length " + actual + " but " + expected + " is expected");
        }
    }

    static void columns(String name, FloatMatrix m, int expected) {
        if (m.cols() != expected) {
            throw new IllegalArgumentException(name + " have d=" + m.cols() + " columns but " + expected + " are expected");
        }
    }

    /** A rectangular double[rows][cols] with finite entries; returns cols. */
    static int rectangular(String name, double[][] rows, int expectedCols) {
        if (rows.length == 0) {
            throw new IllegalArgumentException(name + " has no rows");
        }
        for (int r = 0; r < rows.length; r++) {
            if (rows[r].length != expectedCols) {
                throw new IllegalArgumentException(name + " row " + r + " has " + rows[r].length + " columns but "
                        + expectedCols + " are expected");
            }
            for (int c = 0; c < expectedCols; c++) {
                if (!Double.isFinite(rows[r][c])) {
                    throw new IllegalArgumentException(name + " must be finite, but element (" + r + ", " + c + ") is "
                            + rows[r][c]);
                }
            }
        }
        return expectedCols;
    }
}
