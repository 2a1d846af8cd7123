package dev.engram.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * {@code engram bench all}: every part of the suite in one run on this machine (each with its own machine
 * measurement, since the load moves), each part's JSON, then the suite JSON holding them all, the summary and the
 * charts made from it ({@link BenchReportCommand#render}).
 */
@Command(name = "all", mixinStandardHelpOptions = true,
        description = {"Runs retrieval, ensemble, store, training and backtest at the tier's sizes, then writes",
                "suite-*.json, summary.md and charts/*.png to --out.",
                "Example: engram bench all --quick --parts retrieval,ensemble --peer none"})
final class BenchAllCommand implements Callable<Integer> {
    @Mixin
    final OutputOption output = new OutputOption("bench/results");

    @Mixin
    final TierOption tier = new TierOption();

    @Option(names = "--parts", split = ",", defaultValue = "retrieval,ensemble,store,training,backtest",
            description = "parts to run (default: ${DEFAULT-VALUE})")
    List<String> parts;

    @Option(names = "--peer", defaultValue = "auto", description = "auto (run the peers whose Python modules are "
            + "installed) or none")
    String peer;

    @Option(names = "--python", defaultValue = "/usr/bin/python3", description = "the peers' Python (default: ${DEFAULT-VALUE})")
    String python;

    @Override
    public Integer call() throws Exception {
        for (String p : parts) {
            if (!BenchResults.PARTS.containsKey(p)) {
                throw new IllegalArgumentException("--parts: unknown part '" + p + "'; the parts are "
                        + String.join(", ", BenchResults.PARTS.keySet()));
            }
        }
        if (!peer.equals("auto") && !peer.equals("none")) {
            throw new IllegalArgumentException("--peer must be auto or none, got " + peer);
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode suite = json.createObjectNode();
        suite.put("tier", tier.name()).put("started", Instant.now().toString());
        ObjectNode results = suite.putObject("parts");
        Path out = output.out;
        for (String part : BenchResults.PARTS.keySet()) {
            if (!parts.contains(part)) {
                continue;
            }
            System.out.println("== bench " + part + " (" + tier.name() + ")");
            List<String> args = new ArrayList<>(List.of("--" + tier.name(), "--out", out.toString()));
            ObjectNode root = switch (part) {
                case "retrieval" -> {
                    RetrievalBenchCommand c = parse(new RetrievalBenchCommand(), args, true);
                    yield c.measure(json);
                }
                case "ensemble" -> parse(new EnsembleBenchCommand(), args, true).measure(json);
                case "store" -> parse(new StoreBenchCommand(), args, false).measure(json);
                case "training" -> parse(new TrainBenchCommand(), args, true).measure(json);
                case "backtest" -> {
                    args.add("--python");
                    args.add(python);
                    if (peer.equals("none")) {
                        args.add("--peer-bars");
                        args.add("0");
                    }
                    yield parse(new BacktestBenchCommand(), args, false).measure(json);
                }
                default -> throw new IllegalStateException(part);
            };
            BenchResults.write(json, out, BenchResults.PARTS.get(part), root);
            results.set(part, root);
        }
        suite.put("finished", Instant.now().toString());
        Path file = BenchResults.write(json, out, "suite", suite);
        BenchReportCommand.render(suite, file.getFileName().toString(), out);
        return 0;
    }

    /** Parses {@code args} (plus --peer and --python where the part takes them) into {@code command}. */
    private <T> T parse(T command, List<String> args, boolean peers) {
        List<String> a = new ArrayList<>(args);
        if (peers) {
            a.addAll(List.of("--peer", peer, "--python", python));
        }
        new CommandLine(command).parseArgs(a.toArray(String[]::new));
        return command;
    }
}
