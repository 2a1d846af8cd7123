package dev.engram.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.PrintWriter;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/** The {@code engram} command line: {@code engram run | retrieve | bench}. */
@Command(name = "engram", mixinStandardHelpOptions = true, version = "engram 0.1.0",
        description = "Associative-memory retrieval and Hamiltonian neural networks on CPU and GPU engines.",
        subcommands = {RunCommand.class, RetrieveCommand.class, BenchCommand.class, PhysicsCommand.class,
                EnsembleCommand.class, EnsembleBenchCommand.class, StoreBenchCommand.class, CommandLine.HelpCommand.class,
                FetchCommand.class, DataCommand.class, BacktestCommand.class})
public final class EngramCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(new PrintWriter(System.out, true));
    }

    public static void main(String[] args) {
        configureLogging();
        System.exit(commandLine().execute(args));
    }

    /** The configured picocli command line (also used by tests). */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new EngramCli());
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> {
            if (ex instanceof IllegalArgumentException || ex instanceof java.io.IOException
                    || ex instanceof IllegalStateException) {
                cmd.getErr().println("engram " + cmd.getCommandName() + ": " + ex.getMessage());
                return 2;
            }
            throw ex;
        });
        return cl;
    }

    /** One line per log record on stderr: "engram: INFO engine cpu (...)". */
    static void configureLogging() {
        System.setProperty("java.util.logging.SimpleFormatter.format", "engram: %4$s %5$s%6$s%n");
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        ConsoleHandler h = new ConsoleHandler();
        h.setFormatter(new SimpleFormatter());
        h.setLevel(Level.INFO);
        root.addHandler(h);
        root.setLevel(Level.INFO);
    }
}
