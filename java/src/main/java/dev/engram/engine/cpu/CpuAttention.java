package dev.engram.engine.cpu;

import dev.engram.engine.Attention;
import dev.engram.engine.AttentionForward;
import dev.engram.engine.AttentionGradient;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.concurrent.ExecutorService;

/**
 * The CPU engine's training attention, flash-attention shaped: float32 tiles, Vector API, all cores, and the H×B×M
 * attention weights never stored.
 *
 * <p>Work is cut into tasks (head h, chunk c of {@value #CHUNK} stored rows); a task walks the queries in tiles of
 * {@value #QUERY_TILE} and keeps one tile of scores in cache:
 * <ul>
 *   <li>forward: S = Q·K_cᵀ ({@link MicroKernels#gemm}, vectors along stored rows), the chunk's row maximum m_c,
 *       E = e^(β(S − m_c)), l_c = ΣE, t_c = ΣE·(S − m_c), O_c = E·V_c. The per-chunk partials are merged per query
 *       in chunk order, in double (the retrieval monoid: rescale by e^(β(m_c − m)), add).</li>
 *   <li>backward: S again, P = e^(β(S − m) − log l) from the forward's statistics, ∂P = ∂O·V_cᵀ,
 *       ∂S = P∘(∂P − D) with D_b = ∂o_b·o_b (one FMA chain in the order of the ∂P product, so a one-hot row gives
 *       ∂S = 0 exactly), then ∂V_cᵀ = ∂Oᵀ·P, ∂K_cᵀ = Qᵀ·∂S (each chunk owns its rows), and per-chunk partials of
 *       ∂Q/β = ∂S·K_c, added in chunk order in double; ∂β = Σ_b q_b·(∂q_b/β) (= Σ ∂s·s, no pass over the tiles).</li>
 * </ul>
 * Tasks depend only on the shapes, every sum runs in a fixed order ({@link ReproducibleMath} for sums along rows,
 * sequential FMA chains in the products), exp is {@link ReproducibleMath#exp} and the double scalars use
 * {@link StrictMath}: the bits do not depend on the thread count, the vector width or the JIT tier.
 *
 * <p>Memory: besides the caller's arrays, the per-chunk partials take H·⌈M/{@value #CHUNK}⌉·B·(3 + pad(dv))
 * floats in the forward pass and H·⌈M/{@value #CHUNK}⌉·B·pad(dk) in the backward pass (51 MB at H = 4, M = 10⁵,
 * B = 1024, widths 16), and each worker five tiles of {@value #QUERY_TILE}×{@value #CHUNK} floats.
 *
 * <p>Accuracy against the double reference: inputs and β rounded to float32; scores sum dk products, outputs and
 * ∂Q sum at most {@value #CHUNK} float32 terms per chunk (relative error ≲ √K·2⁻²⁴ typically), the chunks merge in
 * double. β·(s − m) is formed from the unscaled difference, so β·s of 10^9 loses nothing when scores are exact.
 */
final class CpuAttention {
    private static final VectorSpecies<Float> SP = CpuVectors.SPECIES;
    private static final int L = CpuVectors.LANES;
    /** Stored rows per task: fixed (a multiple of every lane count), so results do not depend on threads. */
    static final int CHUNK = 512;
    /** Queries per score tile: 32 × 512 floats keep the five tiles of a worker within 1 MB of L2. */
    static final int QUERY_TILE = 32;
    /** Multiply-adds a worker should have at least; below it a thread costs more than it saves. */
    static final long MIN_MACS_PER_WORKER = 4L << 20;

    private final int threads;
    private final ExecutorService pool;
    private final long minMacsPerWorker;

    /**
     * @param threads          workers (the calling thread is one)
     * @param pool             at least {@code threads − 1} threads, or null for one worker
     * @param minMacsPerWorker work below which fewer workers run (tests pass 0 to use them all)
     */
    CpuAttention(int threads, ExecutorService pool, long minMacsPerWorker) {
        this.threads = pool == null ? 1 : Math.max(1, threads);
        this.pool = pool;
        this.minMacsPerWorker = Math.max(1, minMacsPerWorker);
    }

    /** Shapes and padded sizes of one call. */
    private static final class Shape {
        final int heads;
        final int batch;
        final int mem;
        final int dk;
        final int dv;
        final int mp;
        final int dkp;
        final int dvp;
        final int chunks;
        final float beta;

        Shape(Attention a) {
            heads = a.heads();
            batch = a.batch();
            mem = a.memory();
            dk = a.keyDim();
            dv = a.valueDim();
            mp = TanhNet.pad(mem);
            dkp = TanhNet.pad(dk);
            dvp = TanhNet.pad(dv);
            chunks = (mem + CHUNK - 1) / CHUNK;
            beta = (float) a.beta();
            if (Float.isInfinite(beta)) {
                throw new IllegalArgumentException("beta = " + a.beta() + " overflows float32 on the cpu engine;"
                        + " use beta <= " + Float.MAX_VALUE + " or the reference engine");
            }
        }

        int valid(int c) {
            return Math.min(CHUNK, mem - c * CHUNK);
        }
    }

    /** One worker's score tiles and its chunk of the stored rows in float32 (converted by the task itself). */
    private static final class Tiles {
        final float[] s = new float[QUERY_TILE * CHUNK];
        final float[] e = new float[QUERY_TILE * CHUNK];
        final float[] dp = new float[QUERY_TILE * CHUNK];
        final float[] ds = new float[QUERY_TILE * CHUNK];
        final float[] prod = new float[CHUNK];
        /** K_cᵀ, dk × cw */
        final float[] kt;
        /** V_cᵀ, dv × cw */
        final float[] vt;
        /** K_c, cw × dkp */
        final float[] kRow;
        /** V_c, cw × dvp */
        final float[] vRow;
        /** ∂K_cᵀ, dk × cw */
        final float[] gkt;
        /** ∂V_cᵀ, dv × cw */
        final float[] gvt;

        Tiles(Shape sh, boolean backward) {
            kt = new float[sh.dk * CHUNK];
            vt = backward ? new float[sh.dv * CHUNK] : null;
            kRow = backward ? new float[CHUNK * sh.dkp] : null;
            vRow = backward ? null : new float[CHUNK * sh.dvp];
            gkt = backward ? new float[sh.dk * CHUNK] : null;
            gvt = backward ? new float[sh.dv * CHUNK] : null;
        }
    }

    /** Rows [c0, c0 + valid) of head h of {@code a} (M×n per head) as an n×cw float matrix, columns past valid 0. */
    private static void columns(double[] a, int h, int mem, int n, int c0, int valid, int cw, float[] out) {
        for (int j = 0; j < n; j++) {
            java.util.Arrays.fill(out, j * cw + valid, j * cw + cw, 0f);
        }
        for (int i = 0; i < valid; i++) {
            int src = (h * mem + c0 + i) * n;
            for (int j = 0; j < n; j++) {
                out[j * cw + i] = (float) a[src + j];
            }
        }
    }

    /** Rows [c0, c0 + valid) of head h of {@code a} as cw×np float rows; rows past valid and columns past n are 0. */
    private static void rowsOf(double[] a, int h, int mem, int n, int np, int c0, int valid, int cw, float[] out) {
        for (int i = 0; i < valid; i++) {
            int src = (h * mem + c0 + i) * n;
            for (int j = 0; j < n; j++) {
                out[i * np + j] = (float) a[src + j];
            }
        }
        java.util.Arrays.fill(out, valid * np, cw * np, 0f);
    }

    AttentionForward forward(Attention a) {
        Shape sh = new Shape(a);
        float[] q = toFloat(a.queries());
        int parts = sh.heads * sh.chunks * sh.batch;
        float[] pm = new float[parts];
        float[] pl = new float[parts];
        float[] pt = new float[parts];
        float[] po = new float[parts * sh.dvp];
        long macs = (long) sh.heads * sh.batch * sh.mp * (sh.dk + sh.dvp + 4);
        run(sh, false, macs, (tiles, task) -> {
            int h = task / sh.chunks;
            int c = task % sh.chunks;
            int c0 = c * CHUNK;
            int valid = sh.valid(c);
            int cw = TanhNet.pad(valid);
            columns(a.keys(), h, sh.mem, sh.dk, c0, valid, cw, tiles.kt);
            rowsOf(a.values(), h, sh.mem, sh.dv, sh.dvp, c0, valid, cw, tiles.vRow);
            for (int t0 = 0; t0 < sh.batch; t0 += QUERY_TILE) {
                int rows = Math.min(QUERY_TILE, sh.batch - t0);
                float[] s = tiles.s;
                float[] e = tiles.e;
                MicroKernels.gemm(q, (h * sh.batch + t0) * sh.dk, sh.dk, 1, rows, sh.dk, tiles.kt, 0, cw,
                        s, 0, cw, cw, false);
                for (int r = 0; r < rows; r++) {
                    int row = r * cw;
                    float m = rowMax(s, row, valid);
                    shift(s, e, row, cw, m, sh.beta, 0f);
                    maskTail(s, e, row, valid, cw);
                    ReproducibleMath.exp(e, row, row + cw);
                    product(e, s, row, cw, tiles.prod);
                    int p = (h * sh.chunks + c) * sh.batch + t0 + r;
                    pm[p] = m;
                    pl[p] = ReproducibleMath.sum(e, row, valid);
                    pt[p] = ReproducibleMath.sum(tiles.prod, 0, valid);
                }
                MicroKernels.gemm(e, 0, cw, 1, rows, cw, tiles.vRow, 0, sh.dvp,
                        po, ((h * sh.chunks + c) * sh.batch + t0) * sh.dvp, sh.dvp, sh.dvp, false);
            }
        });
        int hb = sh.heads * sh.batch;
        double[] out = new double[hb * sh.dv];
        double[] max = new double[hb];
        double[] lse = new double[hb];
        double[] entropy = new double[hb];
        double beta = sh.beta;
        for (int h = 0; h < sh.heads; h++) {
            for (int b = 0; b < sh.batch; b++) {
                int qb = h * sh.batch + b;
                double m = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < sh.chunks; c++) {
                    m = Math.max(m, pm[(h * sh.chunks + c) * sh.batch + b]);
                }
                double l = 0;
                double t = 0;
                for (int c = 0; c < sh.chunks; c++) {
                    int p = (h * sh.chunks + c) * sh.batch + b;
                    double shift = pm[p] - m;
                    double w = StrictMath.exp(beta * shift);
                    if (w == 0) {
                        continue;
                    }
                    l += w * pl[p];
                    t += w * (pt[p] + shift * pl[p]);
                    for (int j = 0; j < sh.dv; j++) {
                        out[qb * sh.dv + j] += w * po[p * sh.dvp + j];
                    }
                }
                for (int j = 0; j < sh.dv; j++) {
                    out[qb * sh.dv + j] /= l;
                }
                max[qb] = m;
                lse[qb] = StrictMath.log(l);
                entropy[qb] = Math.max(0, lse[qb] - beta * t / l);
            }
        }
        return new AttentionForward(out, max, lse, entropy);
    }

    AttentionGradient backward(Attention a, AttentionForward f, double[] dOut) {
        a.checkBackward(f, dOut);
        Shape sh = new Shape(a);
        float[] q = toFloat(a.queries());
        float[] dO = toFloat(dOut);
        int hb = sh.heads * sh.batch;
        float[] mx = new float[hb];
        float[] ls = new float[hb];
        float[] dd = new float[hb];
        for (int qb = 0; qb < hb; qb++) {
            mx[qb] = (float) f.max()[qb];
            ls[qb] = (float) f.logSumExp()[qb];
            float acc = 0f;
            // the order of the ∂P = ∂O·Vᵀ product's chain, so that D equals ∂P where the attention is one-hot
            for (int j = 0; j < sh.dv; j++) {
                acc = Math.fma((float) f.output()[qb * sh.dv + j], dO[qb * sh.dv + j], acc);
            }
            dd[qb] = acc;
        }
        double beta = sh.beta;
        double[] gk = new double[a.keys().length];
        double[] gv = new double[a.values().length];
        float[] gqPart = new float[sh.heads * sh.chunks * sh.batch * sh.dkp];
        long macs = (long) sh.heads * sh.batch * sh.mp * (3L * sh.dk + sh.dkp + 2L * sh.dv + 6);
        run(sh, true, macs, (tiles, task) -> {
            int h = task / sh.chunks;
            int c = task % sh.chunks;
            int c0 = c * CHUNK;
            int valid = sh.valid(c);
            int cw = TanhNet.pad(valid);
            columns(a.keys(), h, sh.mem, sh.dk, c0, valid, cw, tiles.kt);
            columns(a.values(), h, sh.mem, sh.dv, c0, valid, cw, tiles.vt);
            rowsOf(a.keys(), h, sh.mem, sh.dk, sh.dkp, c0, valid, cw, tiles.kRow);
            float[] s = tiles.s;
            float[] p = tiles.e;
            float[] dp = tiles.dp;
            float[] ds = tiles.ds;
            for (int t0 = 0; t0 < sh.batch; t0 += QUERY_TILE) {
                int rows = Math.min(QUERY_TILE, sh.batch - t0);
                int qOff = h * sh.batch + t0;
                MicroKernels.gemm(q, qOff * sh.dk, sh.dk, 1, rows, sh.dk, tiles.kt, 0, cw, s, 0, cw, cw, false);
                for (int r = 0; r < rows; r++) {
                    int row = r * cw;
                    float m = mx[qOff + r];
                    shift(s, p, row, cw, m, sh.beta, -ls[qOff + r]);
                    maskTail(s, p, row, valid, cw);
                }
                ReproducibleMath.exp(p, 0, rows * cw);
                MicroKernels.gemm(dO, qOff * sh.dv, sh.dv, 1, rows, sh.dv, tiles.vt, 0, cw, dp, 0, cw, cw, false);
                for (int r = 0; r < rows; r++) {
                    int row = r * cw;
                    scoreGradient(p, dp, ds, row, cw, dd[qOff + r]);
                }
                boolean acc = t0 > 0;
                // ∂Vᵀ (dv × chunk) += ∂O_tileᵀ·P,  ∂Kᵀ (dk × chunk) += Q_tileᵀ·∂S: each chunk owns its columns
                MicroKernels.gemm(dO, qOff * sh.dv, 1, sh.dv, sh.dv, rows, p, 0, cw, tiles.gvt, 0, cw, cw, acc);
                MicroKernels.gemm(q, qOff * sh.dk, 1, sh.dk, sh.dk, rows, ds, 0, cw, tiles.gkt, 0, cw, cw, acc);
                MicroKernels.gemm(ds, 0, cw, 1, rows, cw, tiles.kRow, 0, sh.dkp,
                        gqPart, ((h * sh.chunks + c) * sh.batch + t0) * sh.dkp, sh.dkp, sh.dkp, false);
            }
            for (int i = 0; i < valid; i++) {
                int rk = (h * sh.mem + c0 + i) * sh.dk;
                for (int j = 0; j < sh.dk; j++) {
                    gk[rk + j] = beta * tiles.gkt[j * cw + i];
                }
                int rv = (h * sh.mem + c0 + i) * sh.dv;
                for (int j = 0; j < sh.dv; j++) {
                    gv[rv + j] = tiles.gvt[j * cw + i];
                }
            }
        });
        double[] gq = new double[hb * sh.dk];
        for (int h = 0; h < sh.heads; h++) {
            for (int c = 0; c < sh.chunks; c++) {
                for (int b = 0; b < sh.batch; b++) {
                    int src = ((h * sh.chunks + c) * sh.batch + b) * sh.dkp;
                    int dst = (h * sh.batch + b) * sh.dk;
                    for (int j = 0; j < sh.dk; j++) {
                        gq[dst + j] += gqPart[src + j];
                    }
                }
            }
        }
        // ∂β = Σ_b Σ_i ∂s_bi·q_b·k_i = Σ_b q_b·(Σ_i ∂s_bi·k_i): the unscaled ∂q, dotted with q, in double
        double gBeta = 0;
        for (int i = 0; i < gq.length; i++) {
            gBeta += q[i] * gq[i];
            gq[i] *= beta;
        }
        return new AttentionGradient(gq, gk, gv, gBeta);
    }

    /*
     * The element-wise passes over a tile row live in small methods of their own, on arrays: inside the large task
     * bodies the JIT would stop inlining the Vector API's methods and run them boxed (see ReproducibleMath).
     */

    /** d = s − m written over s, and β·d + c into e, for a tile row of cw (a multiple of the lane count). */
    private static void shift(float[] s, float[] e, int row, int cw, float m, float beta, float c) {
        FloatVector mv = FloatVector.broadcast(SP, m);
        FloatVector bv = FloatVector.broadcast(SP, beta);
        FloatVector cv = FloatVector.broadcast(SP, c);
        for (int j = 0; j < cw; j += L) {
            FloatVector d = FloatVector.fromArray(SP, s, row + j).sub(mv);
            d.intoArray(s, row + j);
            d.fma(bv, cv).intoArray(e, row + j);
        }
    }

    /** out[j] = a[row + j]·b[row + j]. */
    private static void product(float[] a, float[] b, int row, int cw, float[] out) {
        for (int j = 0; j < cw; j += L) {
            FloatVector.fromArray(SP, a, row + j).mul(FloatVector.fromArray(SP, b, row + j)).intoArray(out, j);
        }
    }

    /** ∂S = P∘(∂P − D) into ds. */
    private static void scoreGradient(float[] p, float[] dp, float[] ds, int row, int cw, float d) {
        FloatVector dv = FloatVector.broadcast(SP, d);
        for (int j = 0; j < cw; j += L) {
            FloatVector.fromArray(SP, p, row + j).mul(FloatVector.fromArray(SP, dp, row + j).sub(dv)).intoArray(ds, row + j);
        }
    }

    /** max of a[off, off + n), n ≥ 1 (exact in any order). */
    private static float rowMax(float[] a, int off, int n) {
        int j = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (n >= L) {
            FloatVector mv = FloatVector.fromArray(SP, a, off);
            for (j = L; j + L <= n; j += L) {
                mv = mv.max(FloatVector.fromArray(SP, a, off + j));
            }
            m = mv.reduceLanes(jdk.incubator.vector.VectorOperators.MAX);
        }
        for (; j < n; j++) {
            m = Math.max(m, a[off + j]);
        }
        return m;
    }

    /** The padding columns [valid, cw) of one tile row: difference 0, exponent −∞ (weight exactly 0). */
    private static void maskTail(float[] diff, float[] exponent, int row, int valid, int cw) {
        for (int j = valid; j < cw; j++) {
            diff[row + j] = 0f;
            exponent[row + j] = Float.NEGATIVE_INFINITY;
        }
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    /** Runs tasks 0 … n−1 on as many workers as the work pays for; each worker has its own tiles. */
    private void run(Shape sh, boolean backward, long macs, TaskRunner.Task<Tiles> task) {
        int workers = (int) Math.max(1, Math.min(threads, macs / minMacsPerWorker));
        TaskRunner.run(workers, pool, sh.heads * sh.chunks, () -> new Tiles(sh, backward), task, "attention");
    }
}
