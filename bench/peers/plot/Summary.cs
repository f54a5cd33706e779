using System.Globalization;
using System.Text;

namespace Leasehold.Peers;

/// <summary>The run's tables in Markdown: each system at its best client count, the target ratios, and
/// Leasehold at the README's default client count.</summary>
public static class Summary
{
    public const int DefaultClients = 64;

    /// <summary>The bound on p99 at half of peak, open loop, on the durable default (issue 14).</summary>
    public const double HalfPeakP99BoundMs = 10;

    public static string Render(IReadOnlyList<Series> all)
    {
        var series = all.Where(s => !s.OpenLoop).ToList();
        var inv = CultureInfo.InvariantCulture;
        // The sweep as run, missing points included: a column per client count asked for.
        var clients = series.SelectMany(s => s.Points).Select(p => p.Clients).Distinct().Order().ToList();
        var md = new StringBuilder();
        md.AppendLine("### Each system at its best client count");
        md.AppendLine();
        md.AppendLine($"| system, setting | best clients | tx/s | p50 ms | p99 ms | invariant | tx/s at {string.Join(" / ", clients)} clients |");
        md.AppendLine("|---|---:|---:|---:|---:|---|---|");
        foreach (var s in series)
        {
            if (s.Best is not { } b)
            {
                md.AppendLine($"| {s.Label} | — | missing: {s.Missing} | | | | |");
                continue;
            }
            var sweep = clients.Select(c => s.At(c) is { } p ? Tps(p.Tps) : "—");
            md.AppendLine(string.Create(inv, $"| {s.Label} | {b.Clients} | {Tps(b.Tps)} | {Ms(b.P50Ms)} | {Ms(b.P99Ms)} | {(b.InvariantOk ? "holds" : "BROKEN")} | {string.Join(" / ", sweep)} |"));
        }

        md.AppendLine();
        md.AppendLine("### The targets (Leasehold's best ÷ the other's best)");
        md.AppendLine();
        md.AppendLine("| comparison | Leasehold tx/s (clients) | other tx/s (clients) | ratio | target | met |");
        md.AppendLine("|---|---:|---:|---:|---:|---|");
        var byId = series.ToDictionary(s => s.Id, StringComparer.Ordinal);
        foreach (var t in Target.All)
        {
            var lh = byId.GetValueOrDefault(t.Leasehold)?.Best;
            var peer = byId.GetValueOrDefault(t.Peer)?.Best;
            string target = string.Create(inv, $"≥ {t.AtLeast:0.0#}×");
            if (lh is null || peer is null)
            {
                string why = string.Join("; ", new[] { (lh, t.Leasehold), (peer, t.Peer) }
                    .Where(side => side.Item1 is null).Select(side => $"{side.Item2}: {Why(byId, side.Item2)}"));
                md.AppendLine($"| {t.Name} | {(lh is null ? "—" : At(lh))} | {(peer is null ? "—" : At(peer))} | — | {target} | not measured: {why} |");
                continue;
            }
            double ratio = lh.Tps / peer.Tps;
            // A throughput whose run broke its invariant proves nothing, whatever the ratio.
            string met = !lh.InvariantOk || !peer.InvariantOk ? "**no**: an invariant broke"
                : ratio >= t.AtLeast ? "yes" : "**no**";
            md.AppendLine(string.Create(inv, $"| {t.Name} | {At(lh)} | {At(peer)} | {ratio:0.00}× | {target} | {met} |"));
        }

        md.AppendLine();
        md.AppendLine($"### Leasehold at the README's default {DefaultClients} clients");
        md.AppendLine();
        md.AppendLine("| setting | tx/s | p50 ms | p99 ms |");
        md.AppendLine("|---|---:|---:|---:|");
        foreach (var s in series.Where(s => s.Id.StartsWith("leasehold/", StringComparison.Ordinal)))
        {
            md.AppendLine(s.At(DefaultClients) is { } p
                ? $"| {s.Label} | {Tps(p.Tps)} | {Ms(p.P50Ms)} | {Ms(p.P99Ms)} |"
                : $"| {s.Label} | not measured at {DefaultClients} clients | | |");
        }
        var open = all.Where(s => s.OpenLoop).ToList();
        if (open.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("### Open loop at half of peak");
            md.AppendLine();
            md.AppendLine($"| setting | offered tx/s | committed tx/s | p50 ms | p99 ms | p99 < {HalfPeakP99BoundMs:0} ms |");
            md.AppendLine("|---|---:|---:|---:|---:|---|");
            foreach (var s in open)
            {
                md.AppendLine(s.Measured.FirstOrDefault() is { } p
                    ? $"| {s.Label} | {(p.Rate is { } r ? Tps(r) : "—")} | {Tps(p.Tps)} | {Ms(p.P50Ms)} | {Ms(p.P99Ms)} | {(p.P99Ms < HalfPeakP99BoundMs && p.InvariantOk ? "yes" : "**no**")} |"
                    : $"| {s.Label} | missing: {s.Missing} | | | | |");
            }
        }
        return md.ToString();
    }

    static string Why(Dictionary<string, Series> byId, string id) =>
        byId.TryGetValue(id, out var s) ? s.Missing ?? "no measured point" : "not in this run";

    static string At(Point p) => $"{Tps(p.Tps)} ({p.Clients})";

    static string Tps(double tps) => tps.ToString("N0", CultureInfo.InvariantCulture);

    static string Ms(double ms) => ms.ToString(ms < 10 ? "0.00" : "0.0", CultureInfo.InvariantCulture);
}
