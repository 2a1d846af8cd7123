package dev.engram.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class VersionAndCompletionTest {
    @Test
    void versionNamesTheVersionAndTheEnginesThatRunHere() {
        RunCommandTest.Result r = RunCommandTest.run("--version");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("engram " + VersionProvider.VERSION + "\n"), r.out());
        // the reference engine always runs; auto picks an engine per capability
        assertTrue(r.out().contains("engines here: reference"), r.out());
        assertTrue(r.out().contains("auto picks: retrieval "), r.out());
        // every engine is listed once, as running here or not
        String engines = r.out().lines().filter(l -> l.startsWith("engines here: ")).findFirst().orElseThrow();
        for (String name : dev.engram.engine.Backends.NAMES) {
            if (!name.equals("auto")) {
                assertTrue(java.util.regex.Pattern.compile("[:,] " + java.util.regex.Pattern.quote(name) + "([,;( ]|$)")
                        .matcher(engines).find(), name + " missing from: " + engines);
            }
        }
    }

    @Test
    void completionScriptCompletesEveryCommand() {
        RunCommandTest.Result r = RunCommandTest.run("generate-completion");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().startsWith("#!/usr/bin/env bash"), r.out().lines().findFirst().orElse(""));
        for (String c : new String[] {"run", "demo", "backtest", "fetch", "ensemble", "engines"}) {
            assertTrue(r.out().contains(c), c);
        }
        assertTrue(r.out().contains("complete -F _complete_engram"), "bash complete hook");
    }
}
