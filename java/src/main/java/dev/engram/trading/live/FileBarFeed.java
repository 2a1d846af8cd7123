package dev.engram.trading.live;

import dev.engram.trading.data.Bar;
import dev.engram.trading.data.BarSeries;
import dev.engram.trading.data.CsvBars;
import dev.engram.trading.data.Interval;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Bars from a CSV file that another program appends to (any layout {@link CsvBars} reads). The file is read again at
 * every poll; a last line without its newline is taken to be still being written and is left for the next poll.
 */
public final class FileBarFeed implements BarFeed {
    private final Path file;
    private final CsvBars.Options options;
    private final Interval interval;

    /**
     * @param interval the bar interval (the model's): files with a single row cannot tell it
     */
    public FileBarFeed(Path file, Interval interval) {
        this.file = file;
        this.interval = interval;
        String name = file.getFileName().toString();
        String stem = name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
        int dash = stem.lastIndexOf('-');
        this.options = CsvBars.Options.defaults().withInterval(interval)
                .withSymbol(dash > 0 ? stem.substring(0, dash) : stem);
    }

    @Override
    public String symbol() {
        return options.symbol();
    }

    @Override
    public Interval interval() {
        return interval;
    }

    @Override
    public List<Bar> closedBars(long fromMs, long nowMs) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        int end = text.lastIndexOf('\n');
        text = end < 0 ? "" : text.substring(0, end + 1); // a line still being written waits for the next poll
        if (text.lines().count() < 2) {
            return List.of();
        }
        BarSeries s = CsvBars.parse(file.toString(), text, options);
        List<Bar> out = new ArrayList<>();
        for (Bar b : s.bars()) {
            if (b.startMs() >= fromMs && interval.next(b.startMs()) <= nowMs) {
                out.add(b);
            }
        }
        return out;
    }
}
