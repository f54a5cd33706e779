using System.Text.Json;

namespace Leasehold.Peers;

/// <summary>
/// One measured point of the sweep: a system in one setting at one client count. Exactly one of
/// <see cref="Missing"/> (the system is not on this machine, or its run failed: why) and a measurement.
/// Clients 0 is an open-loop point, run at a fixed arrival <see cref="Rate"/> instead of a client count.
/// </summary>
public sealed record Point(
    string System, string Setting, string Label, int Clients,
    double Tps, double P50Ms, double P99Ms, bool InvariantOk, string? Missing, double? Rate = null)
{
    /// <summary>The line of the table and of the plot this point belongs to.</summary>
    public string Series => $"{System}/{Setting}";

    public bool Measured => Missing is null;

    public bool OpenLoop => Clients == 0;

    /// <summary>
    /// Reads one point file: {"system", "setting", "label", "clients", and either "missing": reason or
    /// "result": the tool's own JSON, which must carry throughput_tps, latency_ms.p50/p99 and invariant.ok}.
    /// </summary>
    public static Point Read(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        string system = String(root, "system", path), setting = String(root, "setting", path);
        string label = root.TryGetProperty("label", out var l) ? l.GetString() ?? setting : setting;
        int clients = root.TryGetProperty("clients", out var c) ? c.GetInt32() : throw Bad(path, "clients");
        if (root.TryGetProperty("missing", out var missing))
            return new Point(system, setting, label, clients, 0, 0, 0, false, missing.GetString() ?? "missing");
        if (!root.TryGetProperty("result", out var result)) throw Bad(path, "result or missing");
        // A bench run with several variants writes an array; the harness runs one variant per point.
        if (result.ValueKind == JsonValueKind.Array) result = result[0];
        var latency = result.GetProperty("latency_ms");
        double? rate = result.TryGetProperty("rate", out var r) && r.ValueKind == JsonValueKind.Number ? r.GetDouble() : null;
        return new Point(system, setting, label, clients,
            result.GetProperty("throughput_tps").GetDouble(),
            latency.GetProperty("p50").GetDouble(), latency.GetProperty("p99").GetDouble(),
            result.GetProperty("invariant").GetProperty("ok").GetBoolean(), null, rate);
    }

    static string String(JsonElement root, string name, string path) =>
        root.TryGetProperty(name, out var v) && v.GetString() is { Length: > 0 } s ? s : throw Bad(path, name);

    static InvalidDataException Bad(string path, string field) => new($"{path}: no '{field}' field (not a point written by compare.sh?)");
}
