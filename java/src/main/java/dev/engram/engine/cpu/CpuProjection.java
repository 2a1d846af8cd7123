package dev.engram.engine.cpu;

import dev.engram.engine.Attention;
import dev.engram.engine.Projection;

import java.util.concurrent.ExecutorService;

/**
 * The CPU engine's training projections Y = X·Wᵀ, ∂W = ∂Yᵀ·X, ∂X = ∂Y·W: float32 {@link MicroKernels#gemm} over
 * chunks of {@value #CHUNK} rows, all cores. A task converts its own rows to float32 (so the conversion runs in
 * parallel too) and writes its own rows of Y or ∂X, and its own partial ∂W, which are added in chunk order in
 * double. Chunks depend only on the row count, so the bits do not depend on the thread count; every product
 * element is one FMA chain in a fixed order, so not on the vector width either.
 *
 * <p>Accuracy against the double reference: inputs rounded to float32, each Y or ∂X entry sums k or n float32
 * products, each ∂W entry at most {@value #CHUNK} per chunk (√K·2⁻²⁴ relative typically), the chunks in double.
 */
final class CpuProjection {
    /** Rows per task: fixed, so results do not depend on the thread count. */
    static final int CHUNK = 1024;
    /** Multiply-adds a worker should have at least. */
    static final long MIN_MACS_PER_WORKER = 4L << 20;

    private final int threads;
    private final ExecutorService pool;
    private final long minMacsPerWorker;

    CpuProjection(int threads, ExecutorService pool, long minMacsPerWorker) {
        this.threads = pool == null ? 1 : Math.max(1, threads);
        this.pool = pool;
        this.minMacsPerWorker = Math.max(1, minMacsPerWorker);
    }

    /** A worker's float rows. */
    private static final class Rows {
        final float[] x;
        final float[] y;

        Rows(int xWidth, int yWidth) {
            x = new float[CHUNK * xWidth];
            y = new float[CHUNK * yWidth];
        }
    }

    private int workers(long macs) {
        return (int) Math.max(1, Math.min(threads, macs / minMacsPerWorker));
    }

    double[] forward(Projection p) {
        int k = p.inputs();
        int n = p.outputs();
        int np = TanhNet.pad(n);
        int rows = p.rows();
        float[] wT = new float[k * np];
        for (int o = 0; o < n; o++) {
            for (int c = 0; c < k; c++) {
                wT[c * np + o] = (float) p.w()[o * k + c];
            }
        }
        double[] y = new double[rows * n];
        int tasks = (rows + CHUNK - 1) / CHUNK;
        TaskRunner.run(workers((long) rows * k * np), pool, tasks, () -> new Rows(k, np), (s, t) -> {
            int r0 = t * CHUNK;
            int count = Math.min(CHUNK, rows - r0);
            double[] x = p.x();
            for (int i = 0; i < count * k; i++) {
                s.x[i] = (float) x[r0 * k + i];
            }
            MicroKernels.gemm(s.x, 0, k, 1, count, k, wT, 0, np, s.y, 0, np, np, false);
            for (int r = 0; r < count; r++) {
                for (int o = 0; o < n; o++) {
                    y[(r0 + r) * n + o] = s.y[r * np + o];
                }
            }
        }, "projection");
        return y;
    }

    Projection.Gradient backward(Projection p, double[] dy, boolean inputGradient) {
        int k = p.inputs();
        int n = p.outputs();
        int kp = TanhNet.pad(k);
        int rows = p.rows();
        Attention.checkFinite("outputGradient", dy, (long) rows * n);
        float[] wPad = new float[n * kp];
        for (int o = 0; o < n; o++) {
            for (int c = 0; c < k; c++) {
                wPad[o * kp + c] = (float) p.w()[o * k + c];
            }
        }
        int tasks = (rows + CHUNK - 1) / CHUNK;
        float[] gwPart = new float[tasks * n * kp];
        double[] gx = inputGradient ? new double[rows * k] : null;
        long macs = (long) rows * n * kp * (inputGradient ? 2 : 1);
        TaskRunner.run(workers(macs), pool, tasks, () -> new Rows(kp, Math.max(n, kp)), (s, t) -> {
            int r0 = t * CHUNK;
            int count = Math.min(CHUNK, rows - r0);
            double[] x = p.x();
            for (int r = 0; r < count; r++) {
                for (int c = 0; c < k; c++) {
                    s.x[r * kp + c] = (float) x[(r0 + r) * k + c];
                }
            }
            float[] g = s.y;
            for (int i = 0; i < count * n; i++) {
                g[i] = (float) dy[r0 * n + i];
            }
            // ∂W_t (n × kp) = ∂Y_tᵀ·X_t: ∂Y read column-wise
            MicroKernels.gemm(g, 0, 1, n, n, count, s.x, 0, kp, gwPart, t * n * kp, kp, kp, false);
            if (gx != null) {
                // ∂X_t (count × kp) = ∂Y_t·W, into the x rows (no longer needed)
                MicroKernels.gemm(g, 0, n, 1, count, n, wPad, 0, kp, s.x, 0, kp, kp, false);
                for (int r = 0; r < count; r++) {
                    for (int c = 0; c < k; c++) {
                        gx[(r0 + r) * k + c] = s.x[r * kp + c];
                    }
                }
            }
        }, "projection");
        double[] gw = new double[n * k];
        for (int t = 0; t < tasks; t++) {
            for (int o = 0; o < n; o++) {
                for (int c = 0; c < k; c++) {
                    gw[o * k + c] += gwPart[(t * n + o) * kp + c];
                }
            }
        }
        return new Projection.Gradient(gw, gx);
    }
}
