package dev.engram.report;

import dev.engram.tensor.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The benchmark suite's charts (XChart, headless PNG): log-log lines of a figure against a size, one series per
 * engine or peer; peers drawn dashed so that engines and peers are told apart in print.
 */
public final class BenchCharts {
    private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75), new Color(227, 119, 194),
            new Color(127, 127, 127), new Color(188, 189, 34), new Color(23, 190, 207)};

    private BenchCharts() {
    }

    /**
     * One line per series over a size axis.
     *
     * @param series   name → {x[], y[]} (equal lengths, x increasing)
     * @param dashed   names of the series to draw dashed (the peers)
     * @param logY     whether the y axis is logarithmic (times and rates: yes; fractions: no)
     * @param yPattern the y tick format, e.g. "0.###" or "0%"
     */
    public static void lines(Path png, String title, String xLabel, String yLabel, Map<String, double[][]> series,
                             java.util.Set<String> dashed, boolean logY, String yPattern) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYChart chart = new XYChartBuilder().width(1000).height(560).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel).build();
        Styler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setAntiAlias(true);
        chart.getStyler().setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 14));
        chart.getStyler().setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        chart.getStyler().setPlotGridLinesColor(new Color(220, 220, 220));
        chart.getStyler().setXAxisLogarithmic(true);
        chart.getStyler().setYAxisLogarithmic(logY);
        chart.getStyler().setXAxisDecimalPattern("0.#E0");
        chart.getStyler().setYAxisDecimalPattern(yPattern);
        chart.getStyler().setMarkerSize(9);
        if (!logY) {
            chart.getStyler().setYAxisMin(0.0);
        }
        int i = 0;
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            double[][] xy = e.getValue();
            if (xy.length != 2 || xy[0].length != xy[1].length || xy[0].length == 0) {
                throw new IllegalArgumentException("series '" + e.getKey() + "' must be {x[], y[]} of equal, non-zero"
                        + " lengths");
            }
            XYSeries line = chart.addSeries(e.getKey(), xy[0], xy[1]);
            Color c = PALETTE[i++ % PALETTE.length];
            line.setLineColor(c);
            line.setMarkerColor(c);
            line.setMarker(SeriesMarkers.CIRCLE);
            line.setLineStyle(dashed.contains(e.getKey())
                    ? new BasicStroke(2.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {8f, 6f}, 0f)
                    : new BasicStroke(2.6f));
            if (dashed.contains(e.getKey())) {
                line.setMarker(SeriesMarkers.DIAMOND);
            }
        }
        if (series.isEmpty()) {
            throw new IllegalArgumentException("chart '" + title + "' has no series");
        }
        AtomicFiles.write(png, tmp -> {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            }
        });
    }

}
