package dev.engram.cli;

import dev.engram.engine.Backends;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The shared options are the same mixins everywhere, and {@code engram engines} tells what auto picks. */
class SharedOptionsTest {

    @Test
    void commandsShareTheSameOptions() {
        CommandLine cli = EngramCli.commandLine();
        for (String cmd : List.of("demo", "retrieve", "ensemble", "physics")) {
            CommandLine.Model.CommandSpec spec = cli.getSubcommands().get(cmd).getCommandSpec();
            for (String opt : List.of("--backend", "--threads", "--out")) {
                assertNotNull(spec.findOption(opt), cmd + " has " + opt);
            }
            assertTrue(spec.mixins().containsKey("engineOptions"), cmd + " takes --backend/--threads from EngineOptions");
            assertTrue(spec.mixins().containsKey("output"), cmd + " takes --out from OutputOption");
        }
        for (String cmd : List.of("demo", "ensemble", "physics")) {
            assertTrue(cli.getSubcommands().get(cmd).getCommandSpec().mixins().containsKey("seedOption"), cmd + " --seed");
        }
        for (String cmd : List.of("store", "retrieval")) {
            assertTrue(cli.getSubcommands().get("bench").getSubcommands().get(cmd).getCommandSpec().mixins()
                    .containsKey("seedOption"), "bench " + cmd + " --seed");
        }
        for (String cmd : List.of("train", "forecast", "watch")) {
            assertTrue(cli.getSubcommands().get(cmd).getCommandSpec().mixins().containsKey("engineOptions"),
                    cmd + " takes --backend/--threads from EngineOptions");
        }
        assertTrue(cli.getSubcommands().get("train").getCommandSpec().mixins().containsKey("seedOption"), "train --seed");
        assertEquals("7", cli.getSubcommands().get("demo").getCommandSpec().findOption("--seed").defaultValueString());
        assertEquals("out/ensemble",
                cli.getSubcommands().get("ensemble").getCommandSpec().findOption("--out").defaultValueString());
    }

    @Test
    void enginesListsCapabilitiesAndAutoChoices() {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        int code;
        try {
            System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
            code = EngramCli.commandLine().execute("engines");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, code, out);
        assertTrue(out.contains("reference  retrieval, integration, training"), out);
        assertTrue(out.contains("emu        retrieval"), out);
        assertTrue(out.contains("auto for integration: " + Backends.select(dev.engram.engine.Capability.INTEGRATION, "auto").name()), out);
        assertTrue(out.contains("auto for training: cpu"), out);
    }

    @Test
    void anUnknownEngineIsOneLine() {
        CommandLine cl = EngramCli.commandLine();
        java.io.StringWriter err = new java.io.StringWriter();
        cl.setErr(new java.io.PrintWriter(err, true));
        int code = cl.execute("physics", "--backend", "emu", "--steps", "1");
        assertEquals(2, code);
        assertEquals("engram physics: the emu engine cannot train HNN models; engines that can: reference, cpu, cpu-bf16 (or auto)",
                err.toString().strip());
    }
}
