using Leasehold.Baselines.Causal.Versioned;

namespace Leasehold.Baselines.Causal;

/// <summary>A version a workflow read, and the cache that served it (hydro-opt fetches what it needs from there).</summary>
internal readonly record struct ReadEntry(StoredVersion Version, int Server);

/// <summary>
/// What travels along a baseline workflow's edges (one attempt, one transaction): the read set with the
/// versions read, the buffered writes (visible only at commit, all at once), and FaaSTCC's snapshot
/// interval [Low, High]. Owned by one function at a time; copied to each child, joined at fan-in.
/// </summary>
internal sealed class Flow
{
    public Dictionary<StateKey, ReadEntry> Reads { get; } = [];
    public Dictionary<StateKey, (byte[]? Value, int Function)> Writes { get; } = [];
    public long Low { get; set; }
    public long High { get; set; } = long.MaxValue;

    public Flow Clone()
    {
        var copy = new Flow { Low = Low, High = High };
        foreach (var (k, v) in Reads) copy.Reads[k] = v;
        foreach (var (k, v) in Writes) copy.Writes[k] = v;
        return copy;
    }

    /// <summary>
    /// The fan-in join: read sets unite, writes to one key keep the later function's (a deterministic
    /// choice), intervals intersect. A key read at two different versions on two branches, or an empty
    /// interval, is no snapshot: the reason, and the attempt aborts.
    /// </summary>
    public static Flow Join(IEnumerable<Flow> flows, out string? conflict)
    {
        conflict = null;
        var joined = new Flow();
        foreach (var f in flows)
        {
            foreach (var (k, r) in f.Reads)
            {
                if (joined.Reads.TryGetValue(k, out var other) && !other.Version.SameAs(r.Version))
                    conflict ??= $"two branches read {k} at different versions ({other.Version} and {r.Version})";
                joined.Reads[k] = r;
            }
            foreach (var (k, w) in f.Writes)
                if (!joined.Writes.TryGetValue(k, out var mine) || mine.Function < w.Function) joined.Writes[k] = w;
            joined.Low = Math.Max(joined.Low, f.Low);
            joined.High = Math.Min(joined.High, f.High);
        }
        if (joined.Low > joined.High) conflict ??= $"the branches' snapshot intervals do not meet ([{joined.Low}, {joined.High}])";
        return joined;
    }
}
