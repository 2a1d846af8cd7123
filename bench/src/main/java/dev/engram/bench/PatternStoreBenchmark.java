package dev.engram.bench;

import dev.engram.engine.Backends;
import dev.engram.hopfield.PatternStore;
import dev.engram.tensor.FloatMatrix;
import dev.engram.tensor.RandomMatrices;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The pattern store at M stored patterns: insert with the similarity check (alternately a novel pattern, which
 * evicts and replaces, and a near-duplicate of a stored one, which merges) and query (k = 10). Run:
 * {@code java --add-modules=jdk.incubator.vector -jar bench/target/benchmarks.jar PatternStoreBenchmark
 * -p engine=cpu -rf json -rff bench/results/jmh-store.json}. {@code ./engram bench store} is the quicker
 * side-by-side of engines.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class PatternStoreBenchmark {
    @Param({"1000000"})
    public int size;

    @Param({"32"})
    public int dim;

    @Param({"cpu"})
    public String engine;

    private FloatMatrix seedPatterns;
    private PatternStore store;
    private SplittableRandom rnd;
    private long clock;

    @Setup(Level.Trial)
    public void setUp() {
        seedPatterns = RandomMatrices.gaussian(size, dim, 42);
        store = new PatternStore(PatternStore.Config.defaults(dim, size), Backends.select(engine));
        float[] outcomes = new float[size];
        long[] dates = new long[size];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < size; i++) {
            outcomes[i] = (float) (0.02 * (r.nextDouble() - 0.5));
            dates[i] = 1_500_000_000_000L + i * 60_000L;
        }
        store.addDistinct(seedPatterns, outcomes, dates);
        rnd = new SplittableRandom(2);
    }

    private float[] next() {
        float[] v;
        if ((clock & 1) == 0) {
            v = new float[dim];
            for (int j = 0; j < dim; j++) {
                v[j] = (float) (rnd.nextDouble() * 2 - 1);
            }
        } else {
            v = seedPatterns.row(rnd.nextInt(size));
            for (int j = 0; j < dim; j++) {
                v[j] += (float) (0.02 * (rnd.nextDouble() - 0.5));
            }
        }
        return v;
    }

    @Benchmark
    public PatternStore.Insertion insert() {
        clock++;
        return store.insert(next(), 0.001, 1_600_000_000_000L + clock);
    }

    @Benchmark
    public PatternStore.Prediction query() {
        clock++;
        return store.query(next(), 10);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        store.close();
        seedPatterns.close();
    }
}
