// peers-plot DIR [--title TEXT]: reads DIR/points/*.json (written by bench/peers/compare.sh), prints the
// summary tables (Markdown) to stdout and to DIR/summary.md, and renders DIR/throughput-latency.png.
using Leasehold.Peers;

string? dir = null, title = null;
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--title" && i + 1 < args.Length) title = args[++i];
    else if (args[i].StartsWith('-') || dir is not null) return Usage($"unexpected argument '{args[i]}'");
    else dir = args[i];
}
if (dir is null) return Usage("no directory given");
string pointsDir = Path.Combine(dir, "points");
if (!Directory.Exists(pointsDir)) return Usage($"no {pointsDir} (run bench/peers/compare.sh --out {dir})");
var files = Directory.GetFiles(pointsDir, "*.json").Order(StringComparer.Ordinal).ToList();
if (files.Count == 0) return Usage($"{pointsDir} holds no point files");

List<Point> points;
try { points = files.Select(Point.Read).ToList(); }
catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
{
    Console.Error.WriteLine($"peers-plot: {e.Message}");
    return 1;
}
var series = Series.Group(points);
string summary = Summary.Render(series);
Console.Write(summary);
File.WriteAllText(Path.Combine(dir, "summary.md"), summary);
string png = Path.Combine(dir, "throughput-latency.png");
ThroughputLatencyPlot.Save(series, title ?? "Banking, closed loop: p99 latency vs throughput across 16-1,024 clients", png);
Console.WriteLine();
Console.WriteLine($"plot: {png}");
return 0;

static int Usage(string why)
{
    Console.Error.WriteLine($"peers-plot: {why}; usage: peers-plot DIR [--title TEXT]");
    return 2;
}
