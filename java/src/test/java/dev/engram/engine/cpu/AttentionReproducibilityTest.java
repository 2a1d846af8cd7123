package dev.engram.engine.cpu;

import dev.engram.engine.Attention;
import dev.engram.engine.AttentionForward;
import dev.engram.engine.AttentionGradient;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * "Reproducible" for the cpu engine's training attention: identical bits of every forward and backward output on 1,
 * 2, 3 and 4 workers (every task handed out, whatever its size) and on a repeated call, after the JIT has compiled the
 * kernels. The vector widths run in the 128- and 256-bit surefire executions; a digest printed here makes the widths
 * comparable by eye.
 */
class AttentionReproducibilityTest {

    private static long digest(AttentionForward f, AttentionGradient g) {
        long h = 17;
        for (double[] a : new double[][] {f.output(), f.max(), f.logSumExp(), f.entropy(), g.queries(), g.keys(),
                g.values(), {g.beta()}}) {
            h = 31 * h + Arrays.hashCode(a);
        }
        return h;
    }

    private static long run(Attention a, double[] dOut, int threads) {
        ExecutorService pool = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1);
        try {
            CpuAttention at = new CpuAttention(threads, pool, 0);
            AttentionForward f = at.forward(a);
            return digest(f, at.backward(a, f, dOut));
        } finally {
            if (pool != null) {
                pool.shutdownNow();
            }
        }
    }

    @ParameterizedTest(name = "seed {0}: H={1} B={2} M={3} dk={4} dv={5}")
    @CsvSource({"1, 2, 45, 1300, 8, 5", "2, 1, 3, 2, 16, 16", "3, 4, 70, 600, 3, 1"})
    void sameBitsOnEveryThreadCount(long seed, int heads, int batch, int memory, int dk, int dv) {
        SplittableRandom r = new SplittableRandom(seed);
        Attention a = new Attention(heads, batch, memory, dk, dv, uniform(r, heads * batch * dk),
                uniform(r, heads * memory * dk), uniform(r, heads * memory * dv), 6.5);
        double[] dOut = uniform(r, heads * batch * dv);
        long first = run(a, dOut, 1);
        for (int rep = 0; rep < 20; rep++) {
            run(a, dOut, 1 + rep % 4);
        }
        for (int threads = 1; threads <= 4; threads++) {
            assertEquals(first, run(a, dOut, threads), threads + " threads");
        }
        System.out.printf("attention seed %d digest %016x (%d-bit vectors)%n", seed, first, CpuVectors.LANES * 32);
    }

    private static double[] uniform(SplittableRandom r, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextDouble() * 2 - 1;
        }
        return a;
    }
}
