package dev.engram.engine.cpu;

import dev.engram.tensor.FloatMatrix;

/**
 * The queries laid out once per call for both CPU paths: row-major (B×d), transposed and zero-padded to a whole
 * number of vectors (d×Bp), and 1/‖q‖ per query (0 for a zero query or a padding lane). Read-only once built.
 */
final class PreparedQueries {
    final int batch;
    final int dim;
    final int padded;
    final float[] rows;
    final float[] transposed;
    final float[] inverseNorm;

    PreparedQueries(FloatMatrix queries) {
        batch = (int) queries.rows();
        dim = queries.cols();
        int lanes = CpuVectors.LANES;
        padded = (batch + lanes - 1) / lanes * lanes;
        rows = queries.toArray();
        transposed = new float[dim * padded];
        inverseNorm = new float[padded];
        for (int b = 0; b < batch; b++) {
            double s = 0;
            for (int j = 0; j < dim; j++) {
                float v = rows[b * dim + j];
                transposed[j * padded + b] = v;
                s += (double) v * v;
            }
            inverseNorm[b] = s == 0 ? 0f : (float) (1.0 / Math.sqrt(s));
        }
    }
}
