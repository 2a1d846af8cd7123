package dev.engram.engine.cpu;

import dev.engram.engine.TrainingModel;
import dev.engram.engine.TrainingSamples;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A fixed training workload for the reproducibility checks: every model kind (hidden widths 12, n = 2, m = 3 for the
 * kinds with inputs), seeded θ and data, the loss and gradient of a 150-sample minibatch (three chunks, the last one
 * short) on the cpu engine. {@link #digest} is the SHA-256 of every result bit; {@code main} prints it, so that a
 * child JVM in another JIT tier or at another vector width can be compared with this one.
 */
public final class TrainingProbe {
    private TrainingProbe() {
    }

    static TrainingModel model(TrainingModel.Kind kind) {
        int[] h = {12, 12};
        return switch (kind) {
            case HAMILTONIAN -> new TrainingModel(kind, 2, 0, new int[][] {{4, 12, 12, 1}});
            case SEPARABLE -> new TrainingModel(kind, 2, 0, new int[][] {{2, 12, 12, 1}, {2, 12, 12, 1}});
            case DISSIPATIVE -> new TrainingModel(kind, 2, 0, new int[][] {{4, 12, 12, 1}, {4, 8, 2}});
            case PORT -> new TrainingModel(kind, 2, 3, new int[][] {{4, 12, 12, 1}, {4, 8, 2}, {2, 8, 6}});
            case DERIVATIVE -> new TrainingModel(kind, 2, 3, new int[][] {{7, h[0], h[1], 4}});
        };
    }

    static String digest(int threads) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (TrainingModel.Kind kind : TrainingModel.Kind.values()) {
                TrainingModel model = model(kind);
                SplittableRandom r = new SplittableRandom(kind.ordinal() + 1);
                double[] theta = new double[model.parameterCount()];
                for (int i = 0; i < theta.length; i++) {
                    theta[i] = 0.4 * (2 * r.nextDouble() - 1);
                }
                int count = 200;
                int n = model.dof();
                int m = model.inputs();
                TrainingSamples data = new TrainingSamples(n, m, random(r, count * n), random(r, count * n),
                        random(r, count * m), random(r, count * n), random(r, count * n));
                int[] index = new int[150];
                for (int i = 0; i < index.length; i++) {
                    index[i] = r.nextInt(count);
                }
                double[] grad = new double[theta.length];
                ByteBuffer b = ByteBuffer.allocate(8 * (grad.length + 1));
                // every worker takes part however small the work (the engine's default would use one here)
                ExecutorService pool = threads > 1 ? Executors.newFixedThreadPool(threads - 1) : null;
                try (CpuTraining s = new CpuTraining(model, data, threads, pool, 0)) {
                    b.putDouble(s.lossAndGradient(theta, index, 0, index.length, grad));
                } finally {
                    if (pool != null) {
                        pool.shutdownNow();
                    }
                }
                for (double g : grad) {
                    b.putDouble(g);
                }
                sha.update(b.array());
            }
            return HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static double[] random(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = 2 * r.nextDouble() - 1;
        }
        return a;
    }

    /** Prints "digest HEX" for the thread count in args[0]. */
    public static void main(String[] args) {
        System.out.println("digest " + digest(Integer.parseInt(args[0])));
    }
}
