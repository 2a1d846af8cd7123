package dev.engram.engine.cpu;

import dev.engram.engine.TrainingModel;
import dev.engram.engine.TrainingSamples;
import dev.engram.engine.TrainingSession;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The CPU engine's HNN training: float32 batched products (Vector API, {@link MicroKernels}), all cores.
 *
 * <p>A minibatch is cut into fixed chunks of {@value #CHUNK} samples. A worker takes a whole chunk: builds the
 * networks' inputs, runs the forward pass, the analytic ∇ₓH, the loss on the predicted derivatives and the
 * backward (for H, T, V the hand-derived double backpropagation, see {@link TanhNet#doubleBackprop}) as products
 * over the chunk's rows, and writes the chunk's loss and gradient to the chunk's own slot. The slots are then added
 * in chunk order, in double. Chunking depends only on the batch size, so the bits do not depend on the thread
 * count; every sum has a fixed order and every operation is exact-defined IEEE arithmetic, so they do not depend on
 * the run or the JIT tier either.
 *
 * <p>Accuracy against the double-precision reference: weights and data are rounded to float32, each product sums at
 * most max(width, {@value #CHUNK}) float32 terms (relative error about K·2⁻²⁴ per product in the worst case,
 * √K·2⁻²⁴ typically), the loss and the sum over chunks run in double.
 */
final class CpuTraining implements TrainingSession {
    /** Samples per chunk: fixed, so that results do not depend on the thread count. */
    static final int CHUNK = 64;
    /** Chunks in flight at once (bounds the slots' memory for large batches; fixed, like the chunk). */
    private static final int WAVE = 32;
    /**
     * Multiply-adds a worker should have at least (about 0.2 ms): below it handing work to another thread costs more
     * than it saves, the more so on a loaded machine. Results do not depend on how many workers run.
     */
    static final long MIN_MACS_PER_WORKER = 8L << 20;
    /** Slot additions a merging worker should have at least. */
    private static final long MIN_ADDS_PER_WORKER = 1L << 20;

    private final TrainingModel model;
    private final TrainingModel.Kind kind;
    private final int n;
    private final int m;
    private final int samples;
    private final float[] q;
    private final float[] p;
    private final float[] u;
    private final float[] tq;
    private final float[] tp;
    private final TanhNet[] nets;
    private final int[] netSlot;
    private final int slotSize;
    private final int threads;
    private final ExecutorService pool;
    private final Worker[] workers;
    private float[][] slots = new float[0][];
    private final double[] chunkLoss = new double[WAVE];
    private final double[] merged;
    /** Multiply-adds per sample of a training step (forward, backward and double backward, all networks). */
    private final long macsPerSample;
    private final long minMacsPerWorker;

    CpuTraining(TrainingModel model, TrainingSamples data, int threads, ExecutorService pool) {
        this(model, data, threads, pool, MIN_MACS_PER_WORKER);
    }

    /**
     * @param threads          workers (the calling thread is one)
     * @param pool             at least {@code threads − 1} threads, or null for one worker
     * @param minMacsPerWorker work below which a step uses fewer workers (tests pass 0 to use them all)
     */
    CpuTraining(TrainingModel model, TrainingSamples data, int threads, ExecutorService pool, long minMacsPerWorker) {
        if (model.dof() != data.dof() || model.inputs() != data.inputs()) {
            throw new IllegalArgumentException("model has dof " + model.dof() + " and " + model.inputs()
                    + " inputs, the data has dof " + data.dof() + " and " + data.inputs() + " inputs");
        }
        this.model = model;
        this.kind = model.kind();
        this.n = model.dof();
        this.m = model.inputs();
        this.samples = data.size();
        this.q = toFloat(data.q());
        this.p = toFloat(data.p());
        this.u = toFloat(data.u());
        this.tq = toFloat(data.dqdt());
        this.tp = toFloat(data.dpdt());
        this.nets = new TanhNet[model.networkCount()];
        this.netSlot = new int[nets.length];
        int s = 0;
        for (int i = 0; i < nets.length; i++) {
            nets[i] = new TanhNet(model.widths(i), model.offset(i));
            netSlot[i] = s;
            s += nets[i].slotSize;
        }
        this.slotSize = s;
        long macs = 0;
        for (int i = 0; i < nets.length; i++) {
            int[] w = model.widths(i);
            for (int k = 0; k + 1 < w.length; k++) {
                macs += 6L * w[k] * w[k + 1];
            }
        }
        this.macsPerSample = macs;
        this.minMacsPerWorker = Math.max(1, minMacsPerWorker);
        this.merged = new double[s];
        this.threads = pool == null ? 1 : threads;
        this.pool = pool;
        this.workers = new Worker[this.threads];
    }

    private static float[] toFloat(double[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            f[i] = (float) a[i];
        }
        return f;
    }

    @Override
    public TrainingModel model() {
        return model;
    }

    @Override
    public double lossAndGradient(double[] theta, int[] index, int from, int to, double[] grad) {
        TrainingSession.check(model, samples, theta, index, from, to, grad);
        for (TanhNet net : nets) {
            net.load(theta);
        }
        int batch = to - from;
        int chunks = (batch + CHUNK - 1) / CHUNK;
        float scale = (float) (1.0 / ((double) batch * 2 * n));
        boolean withGrad = grad != null;
        if (withGrad && slots.length < Math.min(WAVE, chunks)) {
            slots = new float[Math.min(WAVE, chunks)][slotSize];
        }
        double loss = 0;
        if (withGrad) {
            java.util.Arrays.fill(merged, 0);
        }
        for (int w0 = 0; w0 < chunks; w0 += WAVE) {
            int first = w0;
            int count = Math.min(WAVE, chunks - w0);
            AtomicInteger next = new AtomicInteger();
            long work = macsPerSample * Math.min((long) count * CHUNK, batch);
            int parts = (int) Math.max(1, Math.min(Math.min(threads, count), work / minMacsPerWorker));
            parallel(parts, worker -> {
                Worker wk = worker(worker);
                for (int c = next.getAndIncrement(); c < count; c = next.getAndIncrement()) {
                    int start = from + (first + c) * CHUNK;
                    int rows = Math.min(CHUNK, to - start);
                    chunkLoss[c] = wk.chunk(index, start, rows, scale, withGrad ? slots[c] : null);
                }
            });
            for (int c = 0; c < count; c++) {
                loss += chunkLoss[c];
            }
            if (withGrad) {
                mergeSlots(count);
            }
        }
        if (withGrad) {
            for (int i = 0; i < nets.length; i++) {
                nets[i].writeGradient(merged, netSlot[i], grad);
            }
        }
        return loss;
    }

    /** merged += slot_0 + slot_1 + … in chunk order, in double; split across workers by position. */
    private void mergeSlots(int count) {
        int parts = (int) Math.min(threads, Math.max(1, (long) count * slotSize / Math.min(MIN_ADDS_PER_WORKER,
                minMacsPerWorker)));
        parallel(parts, part -> {
            int a = (int) ((long) slotSize * part / parts);
            int b = (int) ((long) slotSize * (part + 1) / parts);
            for (int c = 0; c < count; c++) {
                float[] s = slots[c];
                for (int i = a; i < b; i++) {
                    merged[i] += s[i];
                }
            }
        });
    }

    private Worker worker(int i) {
        Worker w = workers[i];
        if (w == null) {
            w = new Worker();
            workers[i] = w;
        }
        return w;
    }

    /** Runs {@code task(0 … parts−1)}, part 0 on the calling thread. */
    private void parallel(int parts, java.util.function.IntConsumer task) {
        if (parts <= 1) {
            task.accept(0);
            return;
        }
        List<Future<?>> futures = new ArrayList<>(parts - 1);
        for (int i = 1; i < parts; i++) {
            int part = i;
            futures.add(pool.submit(() -> task.accept(part)));
        }
        RuntimeException failure = null;
        try {
            task.accept(0);
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new IllegalStateException("training step interrupted", e);
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("training worker failed", e.getCause());
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void close() {
        slots = new float[0][];
        java.util.Arrays.fill(workers, null);
    }

    /** One worker's scratch: a {@link TanhNet.Work} per network and the per-sample quantities of the loss. */
    private final class Worker {
        private final TanhNet.Work[] work = new TanhNet.Work[nets.length];
        /** softplus(R) and sigmoid(R) of the dissipative kinds, CHUNK×n. */
        private final float[] damp = new float[CHUNK * n];
        private final float[] sig = new float[CHUNK * n];

        Worker() {
            String[] names = kind.networks();
            for (int i = 0; i < nets.length; i++) {
                boolean scalar = names[i].equals("H") || names[i].equals("T") || names[i].equals("V");
                work[i] = nets[i].new Work(CHUNK, scalar);
            }
        }

        /** Loss of the rows {@code index[start … start + rows)} (scaled), their gradient into slot when ≠ null. */
        double chunk(int[] index, int start, int rows, float scale, float[] slot) {
            return switch (kind) {
                case HAMILTONIAN -> hamiltonian(index, start, rows, scale, slot);
                case SEPARABLE -> separable(index, start, rows, scale, slot);
                case DISSIPATIVE, PORT -> dissipative(index, start, rows, scale, slot);
                case DERIVATIVE -> derivative(index, start, rows, scale, slot);
            };
        }

        /** a_0 row r = (q, p) of sample s, from column 0 of a buffer with row stride {@code stride}. */
        private void statesInto(float[] a, int stride, int[] index, int start, int rows) {
            for (int r = 0; r < rows; r++) {
                int s = index[start + r];
                System.arraycopy(q, s * n, a, r * stride, n);
                System.arraycopy(p, s * n, a, r * stride + n, n);
            }
        }

        private double hamiltonian(int[] index, int start, int rows, float scale, float[] slot) {
            TanhNet h = nets[0];
            TanhNet.Work w = work[0];
            int stride = h.pw[0];
            statesInto(w.a[0], stride, index, start, rows);
            h.forwardHidden(w, rows);
            h.inputGradient(w, rows);
            float[] g = w.g[0];
            float[] gb = w.gBar[0];
            double sum = 0;
            float two = 2 * scale;
            for (int r = 0; r < rows; r++) {
                int s = index[start + r];
                int o = r * stride;
                for (int i = 0; i < n; i++) {
                    float eq = g[o + n + i] - tq[s * n + i]; // dq/dt = ∂H/∂p
                    float ep = -g[o + i] - tp[s * n + i];    // dp/dt = −∂H/∂q
                    sum += (double) eq * eq + (double) ep * ep;
                    gb[o + i] = -two * ep;
                    gb[o + n + i] = two * eq;
                }
            }
            if (slot != null) {
                h.doubleBackprop(w, rows, slot, netSlot[0]);
            }
            return sum * scale;
        }

        private double separable(int[] index, int start, int rows, float scale, float[] slot) {
            TanhNet t = nets[0];
            TanhNet v = nets[1];
            TanhNet.Work wt = work[0];
            TanhNet.Work wv = work[1];
            int stride = t.pw[0];
            for (int r = 0; r < rows; r++) {
                int s = index[start + r];
                System.arraycopy(p, s * n, wt.a[0], r * stride, n);
                System.arraycopy(q, s * n, wv.a[0], r * stride, n);
            }
            t.forwardHidden(wt, rows);
            t.inputGradient(wt, rows);
            v.forwardHidden(wv, rows);
            v.inputGradient(wv, rows);
            double sum = 0;
            float two = 2 * scale;
            for (int r = 0; r < rows; r++) {
                int s = index[start + r];
                int o = r * stride;
                for (int i = 0; i < n; i++) {
                    float eq = wt.g[0][o + i] - tq[s * n + i];  // dq/dt = ∇T(p)
                    float ep = -wv.g[0][o + i] - tp[s * n + i]; // dp/dt = −∇V(q)
                    sum += (double) eq * eq + (double) ep * ep;
                    wt.gBar[0][o + i] = two * eq;
                    wv.gBar[0][o + i] = -two * ep;
                }
            }
            if (slot != null) {
                t.doubleBackprop(wt, rows, slot, netSlot[0]);
                v.doubleBackprop(wv, rows, slot, netSlot[1]);
            }
            return sum * scale;
        }

        /**
         * dq/dt = g_p, dp/dt = −g_q − d ⊙ g_p (+ G(q)·u for the port kind), d = softplus(R). Adjoints dq̄ = 2s·e_q,
         * dp̄ = 2s·e_p: ḡ_q = −dp̄, ḡ_p = dq̄ − d ⊙ dp̄, R̄ = −dp̄ ⊙ g_p ⊙ sigmoid(R), Ḡ_ij = dp̄_i·u_j.
         */
        private double dissipative(int[] index, int start, int rows, float scale, float[] slot) {
            TanhNet h = nets[0];
            TanhNet d = nets[1];
            TanhNet.Work wh = work[0];
            TanhNet.Work wd = work[1];
            int stride = h.pw[0];
            statesInto(wh.a[0], stride, index, start, rows);
            statesInto(wd.a[0], d.pw[0], index, start, rows);
            h.forwardHidden(wh, rows);
            h.inputGradient(wh, rows);
            d.forwardHidden(wd, rows);
            d.output(wd, rows);
            boolean port = kind == TrainingModel.Kind.PORT;
            TanhNet gNet = port ? nets[2] : null;
            TanhNet.Work wg = port ? work[2] : null;
            if (port) {
                for (int r = 0; r < rows; r++) {
                    System.arraycopy(q, index[start + r] * n, wg.a[0], r * gNet.pw[0], n);
                }
                gNet.forwardHidden(wg, rows);
                gNet.output(wg, rows);
            }
            int dOut = d.pw[d.w.length - 1];
            int gOut = port ? gNet.pw[gNet.w.length - 1] : 0;
            float[] g = wh.g[0];
            float[] gb = wh.gBar[0];
            double sum = 0;
            float two = 2 * scale;
            for (int r = 0; r < rows; r++) {
                int s = index[start + r];
                int o = r * stride;
                for (int i = 0; i < n; i++) {
                    double rr = wd.y[r * dOut + i];
                    float dd = (float) softplus(rr);
                    damp[r * n + i] = dd;
                    sig[r * n + i] = (float) sigmoid(rr);
                    float gq = g[o + i];
                    float gp = g[o + n + i];
                    float force = 0;
                    if (port) {
                        for (int j = 0; j < m; j++) {
                            force = Math.fma(wg.y[r * gOut + i * m + j], u[s * m + j], force);
                        }
                    }
                    float eq = gp - tq[s * n + i];
                    float ep = -gq - dd * gp + force - tp[s * n + i];
                    sum += (double) eq * eq + (double) ep * ep;
                    float dqBar = two * eq;
                    float dpBar = two * ep;
                    gb[o + i] = -dpBar;
                    gb[o + n + i] = dqBar - dd * dpBar;
                    wd.yBar[r * dOut + i] = -dpBar * gp * sig[r * n + i];
                    if (port) {
                        for (int j = 0; j < m; j++) {
                            wg.yBar[r * gOut + i * m + j] = dpBar * u[s * m + j];
                        }
                    }
                }
            }
            if (slot != null) {
                h.doubleBackprop(wh, rows, slot, netSlot[0]);
                d.backprop(wd, rows, slot, netSlot[1]);
                if (port) {
                    gNet.backprop(wg, rows, slot, netSlot[2]);
                }
            }
            return sum * scale;
        }

        private double derivative(int[] index, int start, int rows, float scale, float[] slot) {
            TanhNet f = nets[0];
            TanhNet.Work w = work[0];
            int stride = f.pw[0];
            for (int r = 0; r < rows; r++) {
                int s = index[start + r];
                System.arraycopy(q, s * n, w.a[0], r * stride, n);
                System.arraycopy(p, s * n, w.a[0], r * stride + n, n);
                System.arraycopy(u, s * m, w.a[0], r * stride + 2 * n, m);
            }
            f.forwardHidden(w, rows);
            f.output(w, rows);
            int out = f.pw[f.w.length - 1];
            double sum = 0;
            float two = 2 * scale;
            for (int r = 0; r < rows; r++) {
                int s = index[start + r];
                for (int i = 0; i < n; i++) {
                    float eq = w.y[r * out + i] - tq[s * n + i];
                    float ep = w.y[r * out + n + i] - tp[s * n + i];
                    sum += (double) eq * eq + (double) ep * ep;
                    w.yBar[r * out + i] = two * eq;
                    w.yBar[r * out + n + i] = two * ep;
                }
            }
            if (slot != null) {
                f.backprop(w, rows, slot, netSlot[0]);
            }
            return sum * scale;
        }
    }

    /** softplus(r) = log(1 + e^r) without overflow; StrictMath, so the bits are the same in every JIT tier. */
    static double softplus(double r) {
        return r > 0 ? r + StrictMath.log1p(StrictMath.exp(-r)) : StrictMath.log1p(StrictMath.exp(r));
    }

    /** d softplus/dr = 1/(1 + e^(−r)). */
    static double sigmoid(double r) {
        return r >= 0 ? 1 / (1 + StrictMath.exp(-r)) : StrictMath.exp(r) / (1 + StrictMath.exp(r));
    }
}
