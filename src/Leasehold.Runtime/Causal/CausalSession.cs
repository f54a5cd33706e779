namespace Leasehold.Runtime.Causal;

/// <summary>
/// A workflow's causal metadata (§1): the clock of every version it read, per key (deps, compacted to
/// the latest clock per key), and every version it wrote (local). It travels with the workflow from
/// function to function and merges at fan-in; owned by one function at a time.
/// </summary>
public sealed class CausalSession
{
    public Dictionary<StateKey, VectorClock> Deps { get; } = [];
    public Dictionary<StateKey, CausalVersion> Local { get; } = [];

    /// <summary>
    /// The server whose C-cache already covers these deps (-1: none). A function runs atomically on one
    /// server and its reads only add deps from that server's C-cache — a causal cut — so the deps are
    /// integrated once when the function arrives, not again at every read.
    /// </summary>
    internal int IntegratedAt = -1;

    /// <summary>The join of every clock pruned from this session: a later write's clock must still dominate it.</summary>
    internal VectorClock? Floor;

    /// <summary>A baseline protocol's own session metadata (immutable; null under CausalMesh), carried in the token unchanged.</summary>
    internal object? Baseline;

    public CausalSession Clone()
    {
        var copy = new CausalSession { Baseline = Baseline };
        foreach (var (k, v) in Deps) copy.Deps[k] = v;
        foreach (var (k, v) in Local) copy.Local[k] = v;
        copy.Floor = Floor;
        return copy;
    }

    /// <summary>Adds what another branch of the workflow saw and wrote (a fan-in join).</summary>
    public void MergeFrom(CausalSession other)
    {
        foreach (var (k, clock) in other.Deps) AddDep(k, clock);
        if (other.Floor is { } floor) Floor = Floor is null ? floor : Floor.Join(floor);
        foreach (var (k, version) in other.Local)
            Local[k] = Local.TryGetValue(k, out var mine) ? mine.Merge(version) : version;
    }

    public void AddDep(StateKey key, VectorClock clock)
    {
        if (clock.IsZero) return;
        Deps[key] = Deps.TryGetValue(key, out var mine) ? mine.Join(clock) : clock;
    }

    /// <summary>Every clock the session holds, deps and local: what a write's clock must dominate.</summary>
    public IEnumerable<VectorClock> Clocks => Deps.Values.Concat(Local.Values.Select(v => v.Clock)).Concat(Floor is null ? [] : [Floor]);

    public static CausalSession Merge(IEnumerable<CausalSession> sessions)
    {
        var merged = new CausalSession();
        foreach (var s in sessions) merged.MergeFrom(s);
        return merged;
    }
}

/// <summary>
/// What a caller keeps between workflows for read-your-writes across them: the finished workflow's
/// metadata. Pass it to the next invocation; immutable.
/// </summary>
public sealed class SessionToken
{
    private readonly CausalSession _session;

    internal SessionToken(CausalSession session) => _session = session.Clone();

    internal CausalSession Open() => _session.Clone();

    public int Entries => _session.Deps.Count + _session.Local.Count;
}
