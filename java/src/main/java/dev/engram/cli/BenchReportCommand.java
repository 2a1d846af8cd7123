package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.engram.tensor.AtomicFiles;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code engram bench report}: the markdown summary and the charts, regenerated from a suite JSON alone. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = {"Regenerates summary.md and charts/*.png from a suite JSON (engram bench all writes one).",
                "Example: engram bench report --suite bench/results/suite-latest.json"})
final class BenchReportCommand implements Callable<Integer> {
    @Option(names = "--suite", defaultValue = "bench/results/suite-latest.json",
            description = "the suite JSON (default: ${DEFAULT-VALUE})")
    Path suite;

    @Option(names = "--out", description = "folder for summary.md and charts/ (default: the suite JSON's folder)")
    Path out;

    @Option(names = "--with", split = ",", description = {"part JSON files to add to the suite's parts, named by their",
            "prefix (e.g. bench/results/scale-latest.json adds the part scale); a part the suite has is replaced"})
    java.util.List<Path> with;

    @Override
    public Integer call() throws Exception {
        if (!Files.isRegularFile(suite)) {
            throw new IllegalArgumentException("--suite " + suite + ": no such file; run engram bench all first, or "
                    + "name a suite-*.json");
        }
        JsonNode root = new ObjectMapper().readTree(suite.toFile());
        if (!root.has("parts")) {
            throw new IllegalArgumentException("--suite " + suite + ": not a suite JSON (it has no \"parts\"); name a "
                    + "suite-*.json written by engram bench all");
        }
        Path dir = out != null ? out : suite.toAbsolutePath().getParent();
        String source = suite.getFileName().toString();
        if (with != null) {
            for (Path p : with) {
                if (!Files.isRegularFile(p)) {
                    throw new IllegalArgumentException("--with " + p + ": no such file");
                }
                String name = p.getFileName().toString().replaceAll("-.*$", "");
                String part = BenchResults.PARTS.entrySet().stream().filter(e -> e.getValue().equals(name))
                        .map(java.util.Map.Entry::getKey).findFirst().orElse(name);
                ((com.fasterxml.jackson.databind.node.ObjectNode) root.get("parts")).set(part,
                        new ObjectMapper().readTree(p.toFile()));
                source += "` and `" + p.getFileName();
            }
        }
        render(root, source, dir);
        return 0;
    }

    /** Writes {@code dir/summary.md} and {@code dir/charts/*.png} from {@code root}. */
    static void render(JsonNode root, String source, Path dir) throws Exception {
        Path md = dir.resolve("summary.md");
        AtomicFiles.writeString(md, BenchResults.summary(root, source));
        System.out.println("wrote " + md);
        for (Path png : BenchResults.charts(root, dir.resolve("charts"))) {
            System.out.println("wrote " + png);
        }
    }
}
