package dev.engram.bench;

import dev.engram.engine.Backend;
import dev.engram.engine.Backends;
import dev.engram.engine.EnsembleResult;
import dev.engram.engine.EnsembleSpec;
import dev.engram.engine.MlpWeights;
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
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * HNN leapfrog ensembles per engine (2 → 64 → 64 → 1 tanh MLP, n = 1). Trajectory-steps per second =
 * N·steps / (seconds per op). Run: {@code java --add-modules=jdk.incubator.vector -jar bench/target/benchmarks.jar
 * EnsembleBenchmark}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {"--add-modules=jdk.incubator.vector", "-XX:+UseParallelGC"})
public class EnsembleBenchmark {
    /** N x steps. */
    @Param({"10000x100", "100000x20"})
    public String shape;

    @Param({"cpu"})
    public String engine;

    private Backend backend;
    private EnsembleSpec spec;

    @Setup(Level.Trial)
    public void setUp() {
        String[] s = shape.split("x");
        spec = EnsembleSpec.of(MlpWeights.glorot(new int[] {2, 64, 64, 1}, 1), new float[] {0.5f}, new float[] {0f},
                Integer.parseInt(s[0]), 0.01f, Integer.parseInt(s[1]), 0.1f, 0.1f, 0f, 3, 0);
        backend = Backends.select(engine);
    }

    @Benchmark
    public EnsembleResult integrate() {
        return backend.integrate(spec);
    }
}
