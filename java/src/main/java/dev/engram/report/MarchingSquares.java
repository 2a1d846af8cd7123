package dev.engram.report;

import java.util.ArrayList;
import java.util.List;

/**
 * Contour lines of a function sampled on a rectangular grid, by marching squares: each grid cell whose corners lie
 * on both sides of the level contributes one segment (two for a saddle), with end points placed on the cell edges
 * by linear interpolation. The chart library draws lines, not contours; this turns a grid into lines.
 */
public final class MarchingSquares {
    private MarchingSquares() {
    }

    /**
     * Segments of the level set {@code z = level}.
     *
     * @param xs    nx increasing grid abscissae
     * @param ys    ny increasing grid ordinates
     * @param z     ny×nx values, {@code z[j][i]} at (xs[i], ys[j])
     * @param level the contour level
     * @return segments {x1, y1, x2, y2}
     */
    public static List<double[]> segments(double[] xs, double[] ys, double[][] z, double level) {
        if (z.length != ys.length || ys.length < 2 || xs.length < 2) {
            throw new IllegalArgumentException("grid must be ny×nx with nx, ny >= 2; got " + z.length + " rows for "
                    + ys.length + " ordinates");
        }
        List<double[]> out = new ArrayList<>();
        for (int j = 0; j + 1 < ys.length; j++) {
            if (z[j].length != xs.length || z[j + 1].length != xs.length) {
                throw new IllegalArgumentException("row " + j + " of the grid has " + z[j].length + " values, want "
                        + xs.length);
            }
            for (int i = 0; i + 1 < xs.length; i++) {
                // corners counter-clockwise from bottom-left: a=(i,j) b=(i+1,j) c=(i+1,j+1) d=(i,j+1)
                double a = z[j][i] - level;
                double b = z[j][i + 1] - level;
                double c = z[j + 1][i + 1] - level;
                double d = z[j + 1][i] - level;
                if (!(Double.isFinite(a) && Double.isFinite(b) && Double.isFinite(c) && Double.isFinite(d))) {
                    continue;
                }
                double[][] cut = new double[4][];
                // edge 0: a-b (bottom), 1: b-c (right), 2: c-d (top), 3: d-a (left)
                cut[0] = cross(a, b, xs[i], ys[j], xs[i + 1], ys[j]);
                cut[1] = cross(b, c, xs[i + 1], ys[j], xs[i + 1], ys[j + 1]);
                cut[2] = cross(c, d, xs[i + 1], ys[j + 1], xs[i], ys[j + 1]);
                cut[3] = cross(d, a, xs[i], ys[j + 1], xs[i], ys[j]);
                List<double[]> pts = new ArrayList<>(4);
                for (double[] p : cut) {
                    if (p != null) {
                        pts.add(p);
                    }
                }
                if (pts.size() == 2) {
                    out.add(new double[] {pts.get(0)[0], pts.get(0)[1], pts.get(1)[0], pts.get(1)[1]});
                } else if (pts.size() == 4) {
                    // saddle: the cell centre's side decides which edges pair up
                    boolean centreAbove = (a + b + c + d) / 4 >= 0;
                    boolean aAbove = a >= 0;
                    if (centreAbove == aAbove) {
                        out.add(seg(cut[0], cut[1]));
                        out.add(seg(cut[2], cut[3]));
                    } else {
                        out.add(seg(cut[3], cut[0]));
                        out.add(seg(cut[1], cut[2]));
                    }
                }
            }
        }
        return out;
    }

    private static double[] seg(double[] p, double[] q) {
        return new double[] {p[0], p[1], q[0], q[1]};
    }

    /** Where the level crosses the edge from corner value u at (x1,y1) to v at (x2,y2), or null. */
    private static double[] cross(double u, double v, double x1, double y1, double x2, double y2) {
        if ((u >= 0) == (v >= 0)) {
            return null;
        }
        double t = u / (u - v);
        return new double[] {x1 + t * (x2 - x1), y1 + t * (y2 - y1)};
    }
}
