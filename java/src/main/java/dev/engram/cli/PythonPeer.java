package dev.engram.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a side-by-side peer script from {@code bench/peers/} with a Python that has PyTorch, and reads the one JSON
 * object per line it prints. Says why and returns nothing when the peer cannot run.
 */
final class PythonPeer {
    private PythonPeer() {
    }

    static List<JsonNode> run(String python, String script, List<String> args) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        Path path = Machine.home().resolve("bench/peers").resolve(script);
        if (!Files.exists(path)) {
            System.out.println("PyTorch peer: skipped (" + path + " not found)");
            return out;
        }
        Process check = new ProcessBuilder(python, "-c", "import torch").redirectErrorStream(true).start();
        if (!check.waitFor(60, TimeUnit.SECONDS) || check.exitValue() != 0) {
            System.out.println("PyTorch peer: skipped (" + python + " cannot import torch; on Debian: apt-get install python3-torch)");
            return out;
        }
        System.out.println("PyTorch peer: running " + path.getFileName() + " " + String.join(" ", args) + " ...");
        List<String> cmd = new ArrayList<>(List.of(python, path.toString()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                out.add(json.readTree(line));
            }
        }
        if (p.waitFor() != 0) {
            System.out.println("PyTorch peer: exited with " + p.exitValue() + "; ratios against it are missing");
        }
        return out;
    }
}
