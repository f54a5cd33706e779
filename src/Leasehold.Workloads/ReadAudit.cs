namespace Leasehold.Workloads;

/// <summary>
/// Counts the committed reads a workload checked and the bad ones, keeping the first few described so an
/// invariant failure shows what was seen, not only how often. Thread-safe: the bench observes from many threads.
/// </summary>
public sealed class ReadAudit
{
    private readonly Lock _lock = new();
    private readonly List<string> _firstBad = [];
    private readonly int _keep;
    private long _checked;
    private long _bad;

    public ReadAudit(int keep = 3) => _keep = keep;

    public long Checked => Interlocked.Read(ref _checked);
    public long Bad => Interlocked.Read(ref _bad);

    public IReadOnlyList<string> FirstBad
    {
        get { lock (_lock) return [.. _firstBad]; }
    }

    /// <summary>Records one checked read; <paramref name="problem"/> is null when the read was good.</summary>
    public void Record(string? problem)
    {
        Interlocked.Increment(ref _checked);
        if (problem is null) return;
        Interlocked.Increment(ref _bad);
        lock (_lock)
            if (_firstBad.Count < _keep) _firstBad.Add(problem);
    }

    /// <summary>"N reads checked, M bad" plus the first bad ones, for an invariant's detail.</summary>
    public string Describe()
    {
        var text = $"{Checked} reads checked, {Bad} bad";
        var first = FirstBad;
        return first.Count == 0 ? text : $"{text} (first: {string.Join("; ", first)})";
    }
}
