package dev.engram.cli;

import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.data.Interval;
import dev.engram.trading.data.TimedValues;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Reading the bar and input files the trading commands take, with one-line errors naming the option. */
final class BarFiles {
    private BarFiles() {
    }

    /** The OHLCV CSV file given to {@code option}; {@code interval} null = inferred. */
    static BarSeries read(String option, Path p, String interval, boolean adjusted) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(option + " " + p + ": no such file");
        }
        CsvBars.Options o = CsvBars.Options.defaults().withPrices(adjusted ? CsvBars.Prices.ADJUSTED : CsvBars.Prices.RAW);
        if (interval != null) {
            o = o.withInterval(Interval.parse(interval));
        }
        return CsvBars.read(p, o);
    }

    /** The port model's inputs: --funding as it is, --open-interest as its relative change (as in backtest). */
    static List<TimedValues> inputs(Path funding, Path openInterest) throws IOException {
        List<TimedValues> inputs = new ArrayList<>();
        if (funding != null) {
            inputs.add(timed("--funding", funding));
        }
        if (openInterest != null) {
            inputs.add(timed("--open-interest", openInterest).relativeChange("open_interest_change"));
        }
        return inputs;
    }

    private static TimedValues timed(String option, Path p) throws IOException {
        if (!Files.isRegularFile(p)) {
            throw new NoSuchFileException(option + " " + p + ": no such file");
        }
        return TimedValues.read(p);
    }
}
