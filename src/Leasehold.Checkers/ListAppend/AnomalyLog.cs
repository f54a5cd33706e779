namespace Leasehold.Checkers.ListAppend;

/// <summary>Counts anomalies by kind and keeps the first few of each, explained, with the transactions involved.</summary>
internal sealed class AnomalyLog(int examplesPerKind)
{
    private readonly Dictionary<string, long> _counts = AnomalyKinds.All.ToDictionary(k => k, _ => 0L, StringComparer.Ordinal);
    private readonly List<(string Kind, string Explanation, int[] Txns)> _examples = [];

    public void Add(string kind, int[] txns, Func<string> explain)
    {
        long n = ++_counts[kind];
        if (n <= examplesPerKind) _examples.Add((kind, explain(), txns));
    }

    public IReadOnlyDictionary<string, long> Counts => _counts;

    public long Total => _counts.Values.Sum();

    public IReadOnlyList<(string Kind, string Explanation, int[] Txns)> Examples => _examples;
}
