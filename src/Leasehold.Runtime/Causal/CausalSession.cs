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
/// metadata, and the cluster it belongs to (only that cluster admits it). Pass it to the next invocation;
/// immutable. <see cref="Serialize"/> and <see cref="Parse"/> carry it outside the process (SessionTokenCodec).
/// </summary>
public sealed class SessionToken
{
    private readonly CausalSession _session;

    internal SessionToken(CausalSession session, ClusterIdentity cluster)
    {
        _session = session.Clone();
        // A transaction's snapshot and buffered writes are its own: the next workflow starts from what it saw and wrote.
        _session.Snapshot = null;
        _session.Pending = null;
        _session.IntegratedAt = -1;
        ClusterId = cluster.Id;
        Servers = cluster.Servers;
    }

    internal CausalSession Open() => _session.Clone();

    public int Entries => _session.Deps.Count + _session.Local.Count;
    /// <summary>The id of the cluster that issued the token (<see cref="ClusterIdentity"/>).</summary>
    public ulong ClusterId { get; }
    /// <summary>How many servers that cluster has: every clock in the token has this many entries.</summary>
    public int Servers { get; }

    /// <summary>The token's versioned binary form (format <see cref="SessionTokenCodec.Format"/>).</summary>
    /// <exception cref="NotSupportedException">A baseline protocol's token: those live in the process only.</exception>
    public byte[] Serialize() => SessionTokenCodec.Encode(_session, ClusterId, Servers);

    /// <summary>The binary form as base64 text, for clients that carry it in headers or JSON.</summary>
    public string ToBase64() => Convert.ToBase64String(Serialize());

    /// <summary>A token from its binary form. Whether it belongs to the cluster it is passed to is checked when it is used.</summary>
    /// <exception cref="SessionTokenFormatException">The bytes are not a token this build reads; the message names why.</exception>
    public static SessionToken Parse(ReadOnlySpan<byte> bytes) => SessionTokenCodec.Decode(bytes);

    /// <summary>As <see cref="Parse"/>; false, with <paramref name="error"/> naming why, for bytes that are not a token.</summary>
    public static bool TryParse(ReadOnlySpan<byte> bytes, out SessionToken? token, out string? error)
    {
        try
        {
            token = Parse(bytes);
            error = null;
            return true;
        }
        catch (SessionTokenFormatException e)
        {
            token = null;
            error = e.Message;
            return false;
        }
    }

    /// <summary>A token from its base64 text form.</summary>
    /// <exception cref="SessionTokenFormatException">Not base64, or not a token; the message names why.</exception>
    public static SessionToken ParseBase64(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        byte[] bytes;
        try { bytes = Convert.FromBase64String(text); }
        catch (FormatException) { throw new SessionTokenFormatException("the text is not base64"); }
        return Parse(bytes);
    }
}
