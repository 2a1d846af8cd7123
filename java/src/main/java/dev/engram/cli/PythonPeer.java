package dev.engram.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs side-by-side peer scripts from {@code bench/peers/} with one Python and reads the one JSON object per line
 * each prints (see peerlib.py) as {@link PeerResult}s. Says once why, and returns nothing, when a peer cannot run
 * (its module missing, the script missing). The peers print their BLAS on stderr, which goes to the console.
 */
final class PythonPeer {
    private final String python;
    private final Map<String, Boolean> importable = new HashMap<>();
    private final Map<String, String> announced = new HashMap<>();

    /** @param python the interpreter, e.g. /usr/bin/python3 (Debian's python3-torch and python3-faiss live there) */
    PythonPeer(String python) {
        this.python = python;
    }

    /** Runs {@code bench/peers/<script>} when {@code module} imports. */
    List<PeerResult> run(String script, String module, List<String> args) throws IOException, InterruptedException {
        return run(Machine.home().resolve("bench/peers").resolve(script), module, args);
    }

    List<PeerResult> run(Path script, String module, List<String> args) throws IOException, InterruptedException {
        List<PeerResult> out = new ArrayList<>();
        if (!Files.isRegularFile(script)) {
            once(script.toString(), "peer " + script.getFileName() + ": skipped (" + script + " not found)");
            return out;
        }
        if (!importable(module)) {
            return out;
        }
        List<String> cmd = new ArrayList<>(List.of(python, script.toString()));
        cmd.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT);
        pb.environment().put("PYTHONDONTWRITEBYTECODE", "1"); // no __pycache__ left in bench/peers
        Process p = pb.start();
        ObjectMapper json = new ObjectMapper();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                try {
                    out.add(PeerResult.parse(json.readTree(line)));
                } catch (JsonProcessingException e) {
                    System.out.println("peer " + script.getFileName() + ": ignored a line that is not JSON: " + line);
                }
            }
        }
        if (p.waitFor() != 0) {
            System.out.println("peer " + script.getFileName() + ": exited with " + p.exitValue()
                    + "; ratios against it are missing for this case");
        }
        return out;
    }

    private boolean importable(String module) throws IOException, InterruptedException {
        Boolean known = importable.get(module);
        if (known != null) {
            return known;
        }
        boolean ok;
        try {
            Process check = new ProcessBuilder(python, "-c", "import " + module).redirectErrorStream(true).start();
            check.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
            ok = check.waitFor(120, TimeUnit.SECONDS) && check.exitValue() == 0;
        } catch (IOException e) {
            ok = false;
        }
        importable.put(module, ok);
        if (!ok) {
            String pkg = module.equals("faiss") ? "python3-faiss" : "python3-" + module;
            System.out.println("peers needing " + module + ": skipped (" + python + " cannot import " + module
                    + "; on Debian: apt-get install " + pkg + ")");
        }
        return ok;
    }

    private void once(String key, String message) {
        if (announced.putIfAbsent(key, message) == null) {
            System.out.println(message);
        }
    }
}
