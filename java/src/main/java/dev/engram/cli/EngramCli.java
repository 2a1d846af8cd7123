package dev.engram.cli;

import dev.engram.tensor.FileErrors;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.logging.ConsoleHandler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.Logger;
import java.util.logging.SimpleFormatter;

/**
 * The {@code engram} command line: {@code engram run | retrieve | bench | …}. No command ends in a stack trace: every
 * failure is one line on stderr ("engram retrieve: …") and a non-zero exit code; {@code --verbose} adds the trace.
 */
@Command(name = "engram", mixinStandardHelpOptions = true, versionProvider = VersionProvider.class,
        description = "Associative-memory retrieval and Hamiltonian neural networks on CPU and GPU engines.",
        subcommands = {RunCommand.class, DemoCommand.class, RetrieveCommand.class, BenchCommand.class,
                PhysicsCommand.class, EnsembleCommand.class, FetchCommand.class, DataCommand.class,
                BacktestCommand.class, TrainCommand.class, ForecastCommand.class, WatchCommand.class,
                EnginesCommand.class, GpuCheckCommand.class, CommandLine.HelpCommand.class,
                picocli.AutoComplete.GenerateCompletion.class})
public final class EngramCli implements Runnable {
    /** Exit code for bad input, missing files and resources that do not suffice (the user can fix it). */
    static final int INPUT_ERROR = 2;
    /** Exit code for a failure inside Engram (a bug: the message asks for a report). */
    static final int INTERNAL_ERROR = 1;

    @CommandLine.Spec
    CommandSpec spec;

    @Option(names = "--verbose", scope = ScopeType.INHERIT,
            description = "on failure, print the stack trace after the one-line message")
    boolean verbose;

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
        cl.setExecutionExceptionHandler((ex, cmd, parseResult) -> report(ex, cmd, parseResult));
        // Errors (OutOfMemoryError, InternalError) are not Exceptions, so picocli's handler never sees them.
        CommandLine.IExecutionStrategy run = new CommandLine.RunLast();
        cl.setExecutionStrategy(parseResult -> {
            try {
                return run.execute(parseResult);
            } catch (Error e) {
                return report(e, last(parseResult).commandSpec().commandLine(), parseResult);
            }
        });
        cl.getHelpSectionMap().put(CommandLine.Model.UsageMessageSpec.SECTION_KEY_COMMAND_LIST, EngramCli::commandList);
        // picocli's own commands get their example as a footer (their descriptions are picocli's)
        cl.getSubcommands().get("help").getCommandSpec().usageMessage().footer("Example: engram help backtest");
        cl.getSubcommands().get("generate-completion").getCommandSpec().usageMessage()
                .footer("Example: engram generate-completion");
        return cl;
    }

    /** Prints the one-line message for {@code t} (and the trace with --verbose); returns the exit code. */
    static int report(Throwable t, CommandLine cmd, ParseResult parseResult) {
        PrintWriter err = cmd.getErr();
        boolean internal = isInternal(t);
        err.println("engram " + cmd.getCommandName() + ": " + message(t));
        if (verbose(parseResult)) {
            t.printStackTrace(err);
        } else if (internal) {
            err.println("engram " + cmd.getCommandName() + ": this is a bug in Engram; run again with --verbose for the "
                    + "stack trace and report it");
        }
        err.flush();
        return internal ? INTERNAL_ERROR : INPUT_ERROR;
    }

    private static boolean isInternal(Throwable t) {
        return !(t instanceof IllegalArgumentException || t instanceof IllegalStateException
                || t instanceof UnsupportedOperationException || t instanceof IOException
                || t instanceof OutOfMemoryError || t instanceof InternalError);
    }

    /** The one-line text for a failure: I/O failures explained by {@link FileErrors}, errors by what caused them. */
    static String message(Throwable t) {
        if (t instanceof IOException io) {
            return FileErrors.describe(io);
        }
        if (t instanceof OutOfMemoryError) {
            return "out of memory (" + t.getMessage() + "; this JVM may use at most "
                    + String.format("%.1f GiB", Runtime.getRuntime().maxMemory() / (double) (1L << 30))
                    + " of heap); make the problem smaller, or give Java more memory, e.g. ENGRAM_JAVA_OPTS=-Xmx16g";
        }
        if (t instanceof InternalError) {
            return "a memory-mapped input file changed or was truncated while it was being read (" + t.getMessage()
                    + "); do not modify input files during a run";
        }
        String m = t.getMessage();
        if (isInternal(t)) {
            return t.getClass().getSimpleName() + (m == null ? "" : ": " + m);
        }
        return m == null ? t.getClass().getSimpleName() : m;
    }

    private static boolean verbose(ParseResult parseResult) {
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    private static ParseResult last(ParseResult parseResult) {
        ParseResult p = parseResult;
        while (p.subcommand() != null) {
            p = p.subcommand();
        }
        return p;
    }

    /**
     * The command list of the top-level help with each command's first full sentence (picocli shows only the first
     * description line, which breaks sentences that continue on the next line).
     */
    private static String commandList(CommandLine.Help help) {
        Map<String, String> rows = new LinkedHashMap<>();
        for (Map.Entry<String, CommandLine.Help> e : help.subcommands().entrySet()) {
            var usage = e.getValue().commandSpec().usageMessage();
            String[] lines = usage.header().length > 0 ? usage.header() : usage.description();
            rows.put(e.getKey(), firstSentence(String.join(" ", lines)));
        }
        if (rows.isEmpty()) {
            return "";
        }
        return help.createTextTable(rows).toString();
    }

    /** Text up to and including the first full stop that ends a sentence (followed by a space or the end). */
    static String firstSentence(String text) {
        String s = text.strip().replaceAll("\\s+", " ");
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '.' && (i + 1 == s.length() || s.charAt(i + 1) == ' ') && !abbreviation(s, i)) {
                return s.substring(0, i + 1);
            }
        }
        return s;
    }

    private static boolean abbreviation(String s, int dot) {
        for (String a : new String[] {"e.g", "i.e", " al", " cf", " vs"}) {
            if (dot >= a.length() && s.startsWith(a, dot - a.length())) {
                return true;
            }
        }
        return false;
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
