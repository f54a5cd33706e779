namespace Leasehold.Checkers.Causal;

/// <summary>Counts violations by kind and keeps the first few of each, explained (the explanation is built only for those).</summary>
internal sealed class CausalAnomalyLog(int examplesPerKind)
{
    private readonly Dictionary<string, long> _counts = CausalAnomalyKinds.All.ToDictionary(k => k, _ => 0L, StringComparer.Ordinal);
    private readonly List<(string Kind, string Explanation, int[] Functions)> _examples = [];

    /// <param name="explain">the explanation and the functions involved; called only while the kind has room for examples</param>
    public void Add(string kind, Func<(string Explanation, IEnumerable<int> Functions)> explain)
    {
        long n = ++_counts[kind];
        if (n > examplesPerKind) return;
        var (text, functions) = explain();
        _examples.Add((kind, text, [.. functions.Distinct()]));
    }

    public IReadOnlyDictionary<string, long> Counts => _counts;

    public long Total => _counts.Values.Sum();

    public IReadOnlyList<(string Kind, string Explanation, int[] Functions)> Examples => _examples;
}
