package dev.engram.engine.cpu;

import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A fixed workload for the CPU engine (two ensembles with random tanh MLPs, leapfrog with noise and RK4; retrievals
 * on both paths, f32 and bf16, V = X and separate values) and a SHA-256 of every bit of its results. Run as a main
 * class in a child JVM ({@code -Xint}, C1 only, another vector width), it prints the digest, which must equal the
 * one computed in the test's own JVM.
 */
public final class ReproducibilityProbe {
    private ReproducibilityProbe() {
    }

    /** Arguments: threads, and "small" for the workload an interpreter-only JVM finishes in seconds. */
    public static void main(String[] args) {
        int threads = Integer.parseInt(args[0]);
        System.out.println("digest " + digest(threads, args.length > 1 && args[1].equals("small")));
    }

    /**
     * The digest of the whole workload on CPU engines with {@code threads} threads; {@code small}: 130 trajectories
     * × 5 steps of a 4 → 8 → 8 → 1 MLP and M = 401 (else 300 × 25 of 4 → 24 → 24 → 1 and M = 3001).
     */
    static String digest(int threads, boolean small) {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        // pieces of 3 chunks: M = 401 is 3 pieces, M = 3001 sixteen (the last ones partial)
        CpuBackend.Config config = new CpuBackend.Config(threads, 64, 64, 8, 192);
        try (CpuBackend f32 = new CpuBackend(config); CpuBackend bf16 = new CpuBackend(config, CpuBackend.Storage.BF16)) {
            add(md, ensemble(f32, EnsembleSpec.Scheme.LEAPFROG, small));
            add(md, ensemble(f32, EnsembleSpec.Scheme.RK4, small));
            for (CpuBackend e : new CpuBackend[] {f32, bf16}) {
                for (int b : new int[] {3, 20}) {
                    for (boolean separate : new boolean[] {false, true}) {
                        add(md, retrieval(e, b, separate, small ? 401 : 3001));
                    }
                }
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    static EnsembleResult ensemble(CpuBackend engine, EnsembleSpec.Scheme scheme, boolean small) {
        int hidden = small ? 8 : 24;
        MlpWeights g = MlpWeights.glorot(new int[] {4, hidden, hidden, 1}, 5);
        SplittableRandom rnd = new SplittableRandom(6);
        float[][] w = g.weights();
        float[][] b = g.biases();
        for (int l = 0; l < w.length; l++) {
            for (int i = 0; i < w[l].length; i++) {
                w[l][i] *= 2f; // lively: tanh arguments over its whole curve, both polynomial and exp branches
            }
            for (int i = 0; i < b[l].length; i++) {
                b[l][i] = (float) (rnd.nextDouble() - 0.5);
            }
        }
        MlpWeights h = new MlpWeights(g.widths(), w, b);
        EnsembleSpec spec = EnsembleSpec.of(h, new float[] {0.5f, -0.2f}, new float[] {0.1f, 0.3f}, small ? 130 : 300,
                0.05f, small ? 5 : 25, 0.2f, 0.2f, 0.1f, 7, small ? 1 : 5).withScheme(scheme);
        return engine.integrate(spec);
    }

    static RetrievalResult retrieval(CpuBackend engine, int batch, boolean separate, long m) {
        // d = 37: full virtual blocks and a tail; dv = 19 a full vector and a tail at every width
        try (FloatMatrix x = RandomMatrices.uniform(m, 37, 11);
             FloatMatrix v = separate ? RandomMatrices.gaussian(m, 19, 12) : null;
             FloatMatrix q = RandomMatrices.uniform(batch, 37, 13);
             PatternMemory mem = separate ? PatternMemory.of(x, v) : PatternMemory.of(x)) {
            return engine.retrieve(mem, q, new RetrievalParams(6f, 7));
        }
    }

    static void add(MessageDigest md, EnsembleResult r) {
        add(md, r.finalStates());
        add(md, r.initialEnergy());
        add(md, r.finalEnergy());
        add(md, r.quantiles());
        md.update(ByteBuffer.allocate(4).putInt(r.divergedCount()).array());
    }

    static void add(MessageDigest md, RetrievalResult r) {
        add(md, r.output());
        add(md, r.entropy());
        add(md, r.confidence());
        add(md, r.topScores());
        ByteBuffer bb = ByteBuffer.allocate(8 * r.topIndices().length);
        for (long i : r.topIndices()) {
            bb.putLong(i);
        }
        md.update(bb.array());
    }

    static void add(MessageDigest md, float[] a) {
        ByteBuffer bb = ByteBuffer.allocate(4 * a.length);
        for (float f : a) {
            bb.putInt(Float.floatToRawIntBits(f));
        }
        md.update(bb.array());
    }
}
