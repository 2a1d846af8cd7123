package dev.engram.cli;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class HelpTest {
    private static String flat(String text) {
        return text.replaceAll("\\s+", " ");
    }

    @Test
    void theCommandListShowsEachCommandsFirstFullSentence() {
        var cl = EngramCli.commandLine();
        // picocli wraps at spaces and after dots in names (energy.|png), so compare without any whitespace
        String usage = cl.getUsageMessage().replaceAll("\\s+", "");
        for (var e : cl.getSubcommands().entrySet()) {
            if (e.getKey().equals("help")) {
                continue; // picocli's own; its description holds a format specifier
            }
            String sentence = EngramCli.firstSentence(String.join(" ", e.getValue().getCommandSpec().usageMessage().description()));
            assertTrue(sentence.endsWith("."), e.getKey() + ": " + sentence);
            assertTrue(usage.contains(e.getKey() + sentence.replaceAll("\\s+", "")),
                    e.getKey() + " shows \"" + sentence + "\" in " + usage);
        }
    }

    @Test
    void firstSentenceStopsAtTheFirstFullStopThatEndsASentence() {
        assertEquals("Times it (e.g. on a GPU) per engine.", EngramCli.firstSentence("Times it (e.g. on a GPU) per\n engine. Then more."));
        assertEquals("No stop", EngramCli.firstSentence("No stop"));
        assertEquals("Tasks (Greydanus et al. 2019): trains.", EngramCli.firstSentence("Tasks (Greydanus et al. 2019): trains. More."));
        assertEquals("Writes out.npy into --out.", EngramCli.firstSentence("Writes out.npy into --out."));
    }

    @Test
    void retrievalCommandsListEveryEngine() {
        for (String command : new String[] {"retrieve", "demo"}) {
            String help = flat(EngramCli.commandLine().getSubcommands().get(command).getUsageMessage());
            for (String engine : dev.engram.engine.Backends.NAMES) {
                assertTrue(help.contains(engine), command + " --help names " + engine + ": " + help);
            }
        }
    }
}
