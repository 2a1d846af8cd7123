package dev.engram.bench;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.PatternMemory;
import dev.engram.engine.RetrievalParams;
import dev.engram.engine.RetrievalResult;
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

import java.util.concurrent.TimeUnit;

/**
 * Retrieval per engine at the shapes. Run:
 * {@code java --add-modules=jdk.incubator.vector -jar bench/target/benchmarks.jar RetrievalBenchmark
 * -p engine=cpu,reference -rf json -rff bench/results/jmh-retrieval.json}.
 * The reference engine at B=64, M=10^6 takes seconds per call; pass {@code -p shape=...} to narrow.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class RetrievalBenchmark {
    /** B x M x d. */
    @Param({"1x1000000x32", "64x1000000x32", "256x200000x64"})
    public String shape;

    @Param({"cpu"})
    public String engine;

    private FloatMatrix patterns;
    private FloatMatrix queries;
    private PatternMemory memory;
    private Backend backend;
    private RetrievalParams params;

    @Setup(Level.Trial)
    public void setUp() {
        String[] s = shape.split("x");
        int b = Integer.parseInt(s[0]);
        long m = Long.parseLong(s[1]);
        int d = Integer.parseInt(s[2]);
        patterns = RandomMatrices.uniform(m, d, 42);
        queries = RandomMatrices.uniform(b, d, 43);
        memory = PatternMemory.wrap(patterns, null);
        backend = Backends.select(engine);
        params = new RetrievalParams(0.125f, 10);
    }

    @Benchmark
    public RetrievalResult retrieve() {
        return backend.retrieve(memory, queries, params);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        memory.close();
        queries.close();
        patterns.close();
    }
}
