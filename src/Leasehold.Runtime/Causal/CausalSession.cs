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

    /// <summary>A read-write transaction's snapshot: every write with a clock ≤ it, and nothing else, is what its reads see.</summary>
    internal VectorClock? Snapshot;

    /// <summary>A read-write transaction's buffered writes: the value, and the function that wrote it (the later index wins at a fan-in).</summary>
    internal Dictionary<StateKey, (byte[]? Value, int Function)>? Pending;

    /// <summary>
    /// Per head, the clock entry of the last write this session made through it: what a synchronous
    /// workflow waits to be durable before its result is delivered (CausalStore.WhenDurable).
    /// </summary>
    internal VectorClock? Written;

    internal void NoteWrite(int head, VectorClock clock)
    {
        var entries = new long[clock.Count];
        if (Written is not null) Written.Entries.CopyTo(entries);
        entries[head] = Math.Max(entries[head], clock[head]);
        Written = VectorClock.Of(entries);
    }
    /// <summary>A baseline protocol's own session metadata (immutable; null under CausalMesh), carried in the token unchanged.</summary>
    internal object? Baseline;

    public CausalSession Clone()
    {
        var copy = new CausalSession { Baseline = Baseline };
        foreach (var (k, v) in Deps) copy.Deps[k] = v;
        foreach (var (k, v) in Local) copy.Local[k] = v;
        copy.Floor = Floor;
        copy.Snapshot = Snapshot;
        if (Pending is not null) copy.Pending = new(Pending);
        copy.Written = Written;
        return copy;
    }

    /// <summary>Adds what another branch of the workflow saw and wrote (a fan-in join).</summary>
    public void MergeFrom(CausalSession other)
    {
        foreach (var (k, clock) in other.Deps) AddDep(k, clock);
        if (other.Floor is { } floor) Floor = Floor is null ? floor : Floor.Join(floor);
        if (other.Written is { } written) Written = Written is null ? written : Written.Join(written);
        foreach (var (k, version) in other.Local)
            Local[k] = Local.TryGetValue(k, out var mine) ? mine.Merge(version) : version;
        Snapshot ??= other.Snapshot;
        if (other.Pending is not null)
        {
            Pending ??= [];
            foreach (var (k, write) in other.Pending)
                if (!Pending.TryGetValue(k, out var mine) || mine.Function < write.Function) Pending[k] = write;
        }
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

    internal SessionToken(CausalSession session)
    {
        _session = session.Clone();
        // A transaction's snapshot and buffered writes are its own: the next workflow starts from what it saw and wrote.
        _session.Snapshot = null;
        _session.Pending = null;
    }

    internal CausalSession Open() => _session.Clone();

    public int Entries => _session.Deps.Count + _session.Local.Count;
}
