package dev.engram.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;

import java.io.PrintWriter;

/**
 * {@code engram bench retrieval | ensemble | store | training | backtest | scale | all | report}: the benchmark suite, one
 * way of timing things ({@link Timing}) and one place for the results ({@link BenchResults}).
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"The benchmark suite: each engine beside the strongest peer (PyTorch, FAISS, numpy on their",
                "BLAS), medians and spreads, same-run ratios; JSON, charts and a markdown summary in bench/results.",
                "Example: engram bench all --quick"},
        subcommands = {RetrievalBenchCommand.class, EnsembleBenchCommand.class, StoreBenchCommand.class,
                TrainBenchCommand.class, BacktestBenchCommand.class, ScaleBenchCommand.class, BenchAllCommand.class,
                BenchReportCommand.class})
final class BenchCommand implements Runnable {
    @CommandLine.Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(new PrintWriter(System.out, true));
    }
}
