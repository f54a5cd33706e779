namespace Leasehold.Peers.Tests;

/// <summary>Point files as compare.sh writes them, in a temporary directory removed on dispose.</summary>
public sealed class PointFiles : IDisposable
{
    public string Dir { get; } = Directory.CreateTempSubdirectory("peers-plot-tests-").FullName;

    public string Measured(string system, string setting, int clients, double tps, double p50 = 1, double p99 = 5,
        bool invariantOk = true, bool asArray = false)
    {
        string ok = invariantOk ? "true" : "false";
        string result = FormattableString.Invariant(
            $"{{\"throughput_tps\": {tps}, \"latency_ms\": {{\"p50\": {p50}, \"p90\": 3, \"p99\": {p99}}}, \"invariant\": {{\"ok\": {ok}, \"detail\": \"d\"}}}}");
        if (asArray) result = $"[{result}]";
        return Write(system, setting, clients, $"\"result\": {result}");
    }

    public string Missing(string system, string setting, int clients, string reason) =>
        Write(system, setting, clients, $"\"missing\": \"{reason}\"");

    public string Write(string system, string setting, int clients, string body)
    {
        string path = Path.Combine(Dir, $"{system}-{setting}-c{clients}.json");
        File.WriteAllText(path, $$"""{"system": "{{system}}", "setting": "{{setting}}", "label": "{{system}} {{setting}}", "clients": {{clients}}, {{body}}}""");
        return path;
    }

    public IReadOnlyList<Series> Series() =>
        Peers.Series.Group(Directory.GetFiles(Dir, "*.json").Order(StringComparer.Ordinal).Select(Point.Read));

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
