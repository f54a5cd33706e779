using System.Globalization;
using ScottPlot;

namespace Leasehold.Peers;

/// <summary>
/// p99 latency against throughput, one line per system and setting across the client sweep, each point
/// labelled with its client count. Both axes are logarithmic: the systems span two orders of magnitude
/// in throughput and three in latency.
/// </summary>
public static class ThroughputLatencyPlot
{
    public static void Save(IReadOnlyList<Series> series, string title, string path, int width = 1100, int height = 700)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int i = 0;
        foreach (var s in series.Where(s => s.Measured.Count > 0 && !s.OpenLoop))
        {
            var color = palette.GetColor(i++);
            double[] xs = s.Measured.Select(p => Math.Log10(p.Tps)).ToArray();
            double[] ys = s.Measured.Select(p => Math.Log10(Math.Max(p.P99Ms, 0.01))).ToArray();
            var line = plot.Add.Scatter(xs, ys, color);
            line.LegendText = s.Label;
            line.MarkerSize = 7;
            line.LineWidth = 2;
            for (int k = 0; k < xs.Length; k++)
            {
                var text = plot.Add.Text(s.Measured[k].Clients.ToString(CultureInfo.InvariantCulture), xs[k], ys[k]);
                text.LabelFontSize = 10;
                text.LabelFontColor = color;
                text.LabelOffsetX = 4;
                text.LabelOffsetY = -14;
            }
        }
        plot.Axes.Bottom.TickGenerator = LogTicks();
        plot.Axes.Left.TickGenerator = LogTicks();
        plot.XLabel("throughput (committed transactions/s, log scale)");
        plot.YLabel("p99 latency (ms, log scale)");
        plot.Title(title);
        plot.Axes.Margins(0.08, 0.12);
        plot.ShowLegend(Edge.Bottom);
        plot.SavePng(path, width, height);
    }

    /// <summary>Ticks at powers of ten, labelled with the value itself, minor ticks between them.</summary>
    static ScottPlot.TickGenerators.NumericAutomatic LogTicks() => new()
    {
        MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
        IntegerTicksOnly = true,
        LabelFormatter = v => Math.Pow(10, v).ToString("#,0.##", CultureInfo.InvariantCulture),
    };
}
