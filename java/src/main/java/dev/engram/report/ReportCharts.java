package dev.engram.report;

import dev.engram.tensor.AtomicFiles;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * The report's charts as PNG files (XChart, headless, 1000×520 unless said): one method per kind of chart, plain
 * arrays in. Every chart has a title, axis titles with units and a legend; series of thousands of points are drawn
 * as lines without markers.
 */
public final class ReportCharts {
    static final int WIDTH = 1000;
    static final int HEIGHT = 520;
    /** Ordered shades for lines: blue, orange, green, red, purple, brown, grey. */
    private static final Color[] PALETTE = {new Color(31, 119, 180), new Color(255, 127, 14), new Color(44, 160, 44),
            new Color(214, 39, 40), new Color(148, 103, 189), new Color(140, 86, 75), new Color(90, 90, 90)};

    private ReportCharts() {
    }

    /**
     * Lines over time, one per series (NaN leaves a gap).
     *
     * @param timesMs  n bar times, epoch ms
     * @param series   name → n values
     * @param yPattern decimal pattern of the y axis, e.g. "0.0%" or "#,##0"
     */
    public static void timeLines(Path png, String title, String yLabel, long[] timesMs, Map<String, double[]> series,
                                 String yPattern) throws IOException {
        XYChart chart = xy(title, "time (UTC)", yLabel);
        chart.getStyler().setDatePattern("yyyy-MM-dd");
        chart.getStyler().setYAxisDecimalPattern(yPattern);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
        List<Date> x = dates(timesMs);
        int c = 0;
        for (Map.Entry<String, double[]> e : series.entrySet()) {
            check(e.getKey(), timesMs.length, e.getValue().length);
            XYSeries s = chart.addSeries(e.getKey(), x, boxed(e.getValue()));
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(PALETTE[c % PALETTE.length]);
            s.setLineStyle(new BasicStroke(c == series.size() - 1 && e.getKey().contains("buy") ? 2.2f : 1.4f));
            c++;
        }
        save(chart, png);
    }

    /** The HNN energy per bar with the bars flagged as anomalies marked. */
    public static void energy(Path png, String title, long[] timesMs, double[] energy, boolean[] anomaly)
            throws IOException {
        check("energy", timesMs.length, energy.length);
        check("anomaly", timesMs.length, anomaly.length);
        XYChart chart = xy(title, "time (UTC)", "H(q, p) (model units)");
        chart.getStyler().setDatePattern("yyyy-MM-dd");
        chart.getStyler().setYAxisDecimalPattern("0.00");
        XYSeries line = chart.addSeries("energy H of the bar's state", dates(timesMs), boxed(energy));
        line.setMarker(SeriesMarkers.NONE);
        line.setLineColor(PALETTE[0]);
        line.setLineStyle(new BasicStroke(1f));
        List<Date> ax = new ArrayList<>();
        List<Double> ay = new ArrayList<>();
        for (int i = 0; i < energy.length; i++) {
            if (anomaly[i] && Double.isFinite(energy[i])) {
                ax.add(new Date(timesMs[i]));
                ay.add(energy[i]);
            }
        }
        if (ax.isEmpty()) { // a series needs a point; an invisible one keeps the legend honest
            ax.add(new Date(timesMs[0]));
            ay.add(Double.NaN);
        }
        XYSeries a = chart.addSeries("anomaly (|z| > 2 vs trailing energies): " + countTrue(anomaly), ax, ay);
        a.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        a.setMarker(SeriesMarkers.DIAMOND);
        a.setMarkerColor(PALETTE[3]);
        chart.getStyler().setMarkerSize(7);
        save(chart, png);
    }

    /**
     * Monthly returns as a heat map (years × months), each cell labelled with its return in percent.
     *
     * @param years   row labels
     * @param returns years.length × 12 fractions, NaN where the month is outside the period
     */
    public static void monthlyHeatmap(Path png, String title, int[] years, double[][] returns) throws IOException {
        HeatMapChart chart = new HeatMapChartBuilder().width(WIDTH).height(Math.max(260, 120 + 70 * years.length))
                .title(title).xAxisTitle("month").yAxisTitle("year").build();
        styleCommon(chart.getStyler());
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideE);
        chart.getStyler().setShowValue(true);
        chart.getStyler().setValueFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        // the cells carry their values; a colour legend would only repeat them
        chart.getStyler().setLegendVisible(false);
        chart.getStyler().setRangeColors(new Color[] {new Color(178, 24, 43), new Color(247, 247, 247),
                new Color(33, 102, 172)});
        List<String> months = List.of("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec");
        List<String> ys = new ArrayList<>();
        for (int y : years) {
            ys.add(Integer.toString(y));
        }
        double max = 0.01;
        List<Number[]> cells = new ArrayList<>();
        for (int r = 0; r < years.length; r++) {
            for (int m = 0; m < 12; m++) {
                double v = returns[r][m];
                if (Double.isFinite(v)) {
                    cells.add(new Number[] {m, r, Math.round(1000 * v) / 10.0});
                    max = Math.max(max, Math.abs(100 * v));
                }
            }
        }
        chart.getStyler().setMin(-max);
        chart.getStyler().setMax(max);
        chart.addSeries("monthly return (%)", months, ys, cells);
        save(chart, png);
    }

    /**
     * Calibration: the hit rate per confidence bin against the bin's mean confidence, with the diagonal where a
     * hit rate equals the confidence.
     *
     * @param series name → {mean confidence[], hit rate[]} per non-empty bin
     */
    public static void calibration(Path png, String title, Map<String, double[][]> series) throws IOException {
        XYChart chart = xy(title, "mean confidence in the bin", "hit rate (sign of forecast = sign of outcome)");
        chart.getStyler().setXAxisMin(0.0);
        chart.getStyler().setXAxisMax(1.0);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.0);
        chart.getStyler().setXAxisDecimalPattern("0.0");
        chart.getStyler().setYAxisDecimalPattern("0.0");
        XYSeries d = chart.addSeries("perfectly calibrated (hit rate = confidence)", new double[] {0, 1},
                new double[] {0, 1});
        d.setMarker(SeriesMarkers.NONE);
        d.setLineColor(Color.GRAY);
        d.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10, new float[] {6, 4}, 0));
        XYSeries coin = chart.addSeries("coin (hit rate 0.5)", new double[] {0, 1}, new double[] {0.5, 0.5});
        coin.setMarker(SeriesMarkers.NONE);
        coin.setLineColor(Color.LIGHT_GRAY);
        int c = 0;
        for (Map.Entry<String, double[][]> e : series.entrySet()) {
            double[][] v = e.getValue();
            check(e.getKey(), v[0].length, v[1].length);
            if (v[0].length == 0) {
                continue;
            }
            XYSeries s = chart.addSeries(e.getKey(), v[0], v[1]);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setLineColor(PALETTE[c % PALETTE.length]);
            s.setMarkerColor(PALETTE[c % PALETTE.length]);
            c++;
        }
        save(chart, png);
    }

    /**
     * The top-k most similar past patterns of the latest bar: one bar per pattern, its realised outcome in percent.
     *
     * @param labels   per pattern, e.g. "2023-04-02 SYNETH (0.97)"
     * @param outcomes realised forward returns as fractions
     */
    public static void similarPatterns(Path png, String title, List<String> labels, double[] outcomes)
            throws IOException {
        check("outcomes", labels.size(), outcomes.length);
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title)
                .xAxisTitle("past pattern: bar time (UTC), symbol, cosine similarity to the latest bar")
                .yAxisTitle("realised forward return (%)").build();
        styleCommon(chart.getStyler());
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setYAxisDecimalPattern("0.00");
        chart.getStyler().setOverlapped(true);
        List<Double> up = new ArrayList<>();
        List<Double> down = new ArrayList<>();
        for (double o : outcomes) {
            up.add(o >= 0 ? 100 * o : 0.0);
            down.add(o < 0 ? 100 * o : 0.0);
        }
        chart.addSeries("price rose after the pattern", labels, up).setFillColor(PALETTE[2]);
        chart.addSeries("price fell after the pattern", labels, down).setFillColor(PALETTE[3]);
        save(chart, png);
    }

    /**
     * Phase portrait of a learned H(q, p): contour lines of H on a grid and the realised trajectory.
     *
     * @param xs     grid q values
     * @param ys     grid p values
     * @param h      ys.length × xs.length energies
     * @param levels contour levels
     * @param q      realised trajectory q
     * @param p      realised trajectory p
     */
    public static void phasePortrait(Path png, String title, String qLabel, String pLabel, double[] xs, double[] ys,
                                     double[][] h, double[] levels, double[] q, double[] p) throws IOException {
        check("p", q.length, p.length);
        XYChart chart = new XYChartBuilder().width(WIDTH).height(760).title(title).xAxisTitle(qLabel).yAxisTitle(pLabel)
                .build();
        styleCommon(chart.getStyler());
        chart.getStyler().setXAxisDecimalPattern("0.0");
        chart.getStyler().setYAxisDecimalPattern("0.0");
        chart.getStyler().setXAxisMin(xs[0]);
        chart.getStyler().setXAxisMax(xs[xs.length - 1]);
        chart.getStyler().setYAxisMin(ys[0]);
        chart.getStyler().setYAxisMax(ys[ys.length - 1]);
        XYSeries tr = chart.addSeries("realised trajectory (last " + q.length + " bars)", q, p);
        tr.setMarker(SeriesMarkers.NONE);
        tr.setLineColor(new Color(214, 39, 40, 150));
        tr.setLineStyle(new BasicStroke(1.2f));
        XYSeries now = chart.addSeries("latest state", new double[] {q[q.length - 1]}, new double[] {p[p.length - 1]});
        now.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        now.setMarker(SeriesMarkers.CIRCLE);
        now.setMarkerColor(Color.BLACK);
        chart.getStyler().setMarkerSize(9);
        for (int l = 0; l < levels.length; l++) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (double[] s : MarchingSquares.segments(xs, ys, h, levels[l])) {
                // NaN between segments: XChart breaks the line there
                x.add(s[0]);
                y.add(s[1]);
                x.add(s[2]);
                y.add(s[3]);
                x.add(s[2]);
                y.add(Double.NaN);
            }
            if (x.isEmpty()) {
                continue;
            }
            float shade = levels.length == 1 ? 0 : (float) l / (levels.length - 1);
            XYSeries s = chart.addSeries(String.format("H = %.2f", levels[l]), x, y);
            s.setMarker(SeriesMarkers.NONE);
            s.setLineColor(new Color(0.1f + 0.5f * shade, 0.3f + 0.4f * shade, 0.8f - 0.5f * shade));
            s.setLineStyle(new BasicStroke(1.1f));
            s.setShowInLegend(l == 0 || l == levels.length - 1);
        }
        save(chart, png);
    }

    /**
     * Monte-Carlo fan chart: the 5–95% and 25–75% bands filled in ordered shades, the median, and the realised
     * path where known.
     *
     * @param x        S sample positions (e.g. bars ahead)
     * @param bands    5 × S: the 5, 25, 50, 75, 95% quantiles at each x
     * @param realised S values of the realised path, or null (NaN where unknown)
     */
    public static void fan(Path png, String title, String xLabel, String yLabel, double[] x, double[][] bands,
                           double[] realised) throws IOException {
        if (bands.length != 5) {
            throw new IllegalArgumentException("a fan chart needs 5 quantile rows (5, 25, 50, 75, 95%), got "
                    + bands.length);
        }
        XYChart chart = xy(title, xLabel, yLabel);
        // XChart labels every x of a short series; keep about a dozen labels so they do not run together
        double step = Math.max(1, Math.ceil((x.length - 1) / 12.0));
        chart.setCustomXAxisTickLabelsFormatter(v -> Math.abs(v / step - Math.rint(v / step)) < 1e-9
                ? String.format(java.util.Locale.ROOT, "%.0f", v) : "");
        chart.getStyler().setYAxisDecimalPattern("#,##0");
        band(chart, "5–95% of paths", x, bands[0], bands[4], new Color(158, 202, 225));
        band(chart, "25–75% of paths", x, bands[1], bands[3], new Color(66, 146, 198));
        XYSeries med = chart.addSeries("median path", x, bands[2]);
        med.setMarker(SeriesMarkers.NONE);
        med.setLineColor(new Color(8, 48, 107));
        med.setLineStyle(new BasicStroke(2f));
        if (realised != null) {
            check("realised", x.length, realised.length);
            XYSeries r = chart.addSeries("realised path", x, realised);
            r.setMarker(SeriesMarkers.NONE);
            r.setLineColor(new Color(214, 39, 40));
            r.setLineStyle(new BasicStroke(2f));
        }
        save(chart, png);
    }

    private static void band(XYChart chart, String name, double[] x, double[] lo, double[] hi, Color fill) {
        int n = x.length;
        double[] px = new double[2 * n];
        double[] py = new double[2 * n];
        for (int i = 0; i < n; i++) {
            px[i] = x[i];
            py[i] = hi[i];
            px[2 * n - 1 - i] = x[i];
            py[2 * n - 1 - i] = lo[i];
        }
        XYSeries s = chart.addSeries(name, px, py);
        s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.PolygonArea);
        s.setMarker(SeriesMarkers.NONE);
        s.setFillColor(fill);
        s.setLineColor(fill);
    }

    private static XYChart xy(String title, String xLabel, String yLabel) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle(xLabel)
                .yAxisTitle(yLabel).build();
        styleCommon(chart.getStyler());
        return chart;
    }

    private static void styleCommon(Styler s) {
        System.setProperty("java.awt.headless", "true");
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setChartTitleFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        if (s instanceof AxesChartStyler a) {
            a.setAxisTitleFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
            a.setAxisTickLabelsFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            a.setPlotGridLinesColor(new Color(225, 225, 225));
        }
        s.setLegendFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        if (!(s instanceof org.knowm.xchart.style.HeatMapStyler)) {
            s.setLegendPosition(Styler.LegendPosition.InsideNW);
        }
        s.setLegendBackgroundColor(new Color(255, 255, 255, 220));
        s.setAntiAlias(true);
    }

    private static void save(Chart<?, ?> chart, Path png) throws IOException {
        AtomicFiles.write(png, tmp -> {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
            }
        });
    }

    private static List<Date> dates(long[] ms) {
        List<Date> d = new ArrayList<>(ms.length);
        for (long t : ms) {
            d.add(new Date(t));
        }
        return d;
    }

    private static List<Double> boxed(double[] v) {
        List<Double> l = new ArrayList<>(v.length);
        for (double x : v) {
            l.add(x);
        }
        return l;
    }

    private static int countTrue(boolean[] b) {
        int n = 0;
        for (boolean x : b) {
            n += x ? 1 : 0;
        }
        return n;
    }

    private static void check(String name, int want, int got) {
        if (want != got) {
            throw new IllegalArgumentException("series '" + name + "' has " + got + " values, want " + want);
        }
    }
}
