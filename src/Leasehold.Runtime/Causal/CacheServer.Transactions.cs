using Leasehold.Runtime.Causal.Messages;

namespace Leasehold.Runtime.Causal;

/// <summary>
/// Read-write transactions (TCC, causal.md §3). A transaction reads the snapshot S fixed when it starts:
/// every write whose clock is ≤ S, and nothing else. Because a write's clock dominates its whole causal
/// past, that set is causally closed, so it is a consistent snapshot on every server at once — no server
/// has to ask another which versions the snapshot holds.
/// <para>
/// S is taken on the transaction's first server as the join of every clock visible there, with the
/// session's deps (the join of visible clocks only, never of writes still on their first lap). Each entry
/// of a visible clock names a write that has finished its first lap, hence is in every server's I-cache
/// or C-cache: any server can integrate up to S without waiting, and then holds every write of the key
/// with a clock ≤ S. Its C-cache version may hold newer ones too; for those reads each server keeps the
/// last <see cref="CausalOptions.TransactionVersions"/> writes merged into each key, and the merge of
/// all older ones. When that older merge already holds a write newer than S, the version the snapshot
/// needs is gone: the read throws <see cref="SnapshotUnavailableException"/> and the attempt is retried.
/// </para>
/// <para>
/// The writes are buffered in the session and committed at the end as one ring message with one clock.
/// Each written version lists every other write of the transaction among its deps, so integrating any
/// one of them integrates all of them in the same atomic step: they become visible together.
/// </para>
/// </summary>
internal sealed partial class CacheServer
{
    private long[]? _frontier;
    private Dictionary<StateKey, KeyHistory>? _history;

    /// <summary>Transactional reads answered from the older versions kept, not the C-cache version (tests show the path is taken).</summary>
    public long OlderReads { get; private set; }

    /// <summary>
    /// Called when a transactional workflow is registered: only from then on does this server track the clocks
    /// visible here (starting from its C-cache's) and, when <see cref="CausalOptions.TransactionVersions"/> &gt; 0,
    /// keep older versions — a cluster without transactions pays for neither on every merge.
    /// </summary>
    public void ServeTransactions()
    {
        if (_frontier is null)
        {
            _frontier = new long[Servers];
            foreach (var version in _c.Values) Join(_frontier, version.Clock);
        }
        if (_options.TransactionVersions > 0) _history ??= [];
    }

    /// <summary>The writes merged into one key's C-cache version: the latest few one by one, everything before merged.</summary>
    private sealed class KeyHistory(CausalVersion initial)
    {
        public CausalVersion Older = initial;
        public readonly Queue<CausalVersion> Recent = new();
        public CausalVersion? Newest;
    }

    /// <summary>Called for every write made visible here, before its merge.</summary>
    private void RecordVisible(StateKey key, CausalVersion write)
    {
        if (_frontier is null) return;
        Join(_frontier, write.Clock);
        if (_history is null) return;
        // A history starts from the C-cache version it is beside, not the initial one: a key merged before versions were
        // kept (a transactional workflow registered later) would otherwise lose its earlier writes from every snapshot.
        if (!_history.TryGetValue(key, out var history)) _history[key] = history = new KeyHistory(Visible(key));
        // A write merged twice in a row (the tail integrates a transaction, then merges its own write) is kept
        // once; an older repeat would only cost a slot, since merging is idempotent.
        if (history.Newest is { } newest && newest.Clock.Equals(write.Clock)) return;
        history.Recent.Enqueue(write);
        history.Newest = write;
        while (history.Recent.Count > _options.TransactionVersions && (history.Recent.Count > MostVersionsKept || IsStable(history.Recent.Peek())))
            history.Older = history.Older.Merge(history.Recent.Dequeue());
    }

    /// <summary>Beyond <see cref="CausalOptions.TransactionVersions"/>, writes not yet stable are kept up to this many per key.</summary>
    private const int MostVersionsKept = 256;

    /// <summary>
    /// Integrated on every server (its clock is below what every server has integrated): every snapshot taken
    /// from now on holds it, so merging it into the older versions costs only transactions already running.
    /// A count alone is not enough — a hot key can take more writes than that while a snapshot travels
    /// (the virtual bench aborted 5% of attempts with four versions and no stability rule).
    /// </summary>
    private bool IsStable(CausalVersion write) => _stable is not null && write.Clock.LessOrEqual(StableSnapshot());

    /// <summary>
    /// A key installed from the store, or evicted: the writes merged into it are no longer known one by one,
    /// so a snapshot older than its version aborts rather than read a merge that may lack a write ≤ it.
    /// </summary>
    private void ForgetVersions(StateKey key, CausalVersion? installed)
    {
        if (_history is null) return;
        if (installed is null) _history.Remove(key);
        else _history[key] = new KeyHistory(installed);
    }

    /// <summary>The snapshot of a transaction starting here (see the type's summary).</summary>
    public VectorClock TakeSnapshot(CausalSession session, VectorClock? hint = null)
    {
        var snapshot = new long[Servers];
        if (_frontier is not null) _frontier.CopyTo(snapshot, 0);
        if (hint is not null) Join(snapshot, hint);
        foreach (var clock in session.Deps.Values) Join(snapshot, clock);
        if (session.Floor is { } floor) Join(snapshot, floor);
        return VectorClock.Of(snapshot);
    }

    /// <summary>
    /// An abort here means this server had merged writes the snapshot did not reach. Every server can serve a
    /// snapshot made of clocks visible anywhere (each of their writes has finished its first lap, so it is in
    /// every I-cache), so the retry joins this server's visible clocks into its own: otherwise a first server
    /// that lags another by more than the kept versions of a hot key would make every retry abort the same way.
    /// </summary>
    public VectorClock? SnapshotHint() => _frontier is null ? null : VectorClock.Of(_frontier);

    private static void Join(long[] into, VectorClock clock)
    {
        var entries = clock.Entries;
        for (int i = 0; i < into.Length; i++) into[i] = Math.Max(into[i], entries[i]);
    }

    /// <summary>A transaction's read: the merge of every write of <paramref name="key"/> with a clock ≤ its snapshot.</summary>
    public CausalVersion ReadInSnapshot(CausalSession session, StateKey key)
    {
        var snapshot = session.Snapshot ?? throw new InvalidOperationException("a transactional read without a snapshot");
        CheckLoaded(key);
        Touched(key);
        if (session.IntegratedAt != Id)
        {
            if (_options.CheckInvariants) Invariants.DepsCovered(this, session);
            Integrate(session.Deps);
            session.IntegratedAt = Id;
        }
        Integrate([new(key, snapshot)]);
        var visible = Visible(key);
        var seen = visible.Clock.LessOrEqual(snapshot) ? visible : Older(key, snapshot);
        if (_options.CheckInvariants && session.Deps.TryGetValue(key, out var before) && !before.LessOrEqual(seen.Clock))
            throw new CausalInvariantException($"server {Id}: a transaction read {key} at {seen.Clock} below its deps {before}");
        if (session.Local.TryGetValue(key, out var mine) && VectorClock.CompareArbitration(seen.Writer, mine.Writer) <= 0) return mine;
        session.AddDep(key, seen.Clock);
        return seen;
    }

    private CausalVersion Older(StateKey key, VectorClock snapshot)
    {
        if (_history is null || !_history.TryGetValue(key, out var history) || !history.Older.Clock.LessOrEqual(snapshot))
            throw new SnapshotUnavailableException($"server {Id} no longer keeps the version of {key} in snapshot {snapshot}");
        OlderReads++;
        // The merge of the older writes and every kept write ≤ the snapshot, built once: the value of the
        // arbitration maximum, the join of the clocks (a hot key keeps many versions; one Merge each allocated).
        var winner = history.Older;
        var clock = (long[])[.. history.Older.Clock.Entries];
        foreach (var write in history.Recent)
        {
            if (!write.Clock.LessOrEqual(snapshot)) continue;
            Join(clock, write.Clock);
            if (VectorClock.CompareArbitration(write.Writer, winner.Writer) > 0) winner = write;
        }
        return new CausalVersion(winner.Value, VectorClock.Of(clock), winner.Deps, winner.Writer);
    }

    /// <summary>
    /// Commits a transaction's buffered writes with this server as their head: one clock joining everything
    /// the transaction saw (its snapshot included), one ring message, each version depending on the others.
    /// </summary>
    public void Commit(CausalSession session)
    {
        if (session.Pending is not { Count: > 0 } pending) return;
        foreach (var clock in session.Clocks) JoinClock(clock);
        if (session.Snapshot is { } snapshot) JoinClock(snapshot);
        _gvc[Id]++;
        var clockOfAll = VectorClock.Of(_gvc);
        var deps = WriteDeps(session);
        var keys = pending.Keys.OrderBy(k => k.Table, StringComparer.Ordinal).ThenBy(k => k.Key, StringComparer.Ordinal).ToArray();
        foreach (var key in keys) deps[key] = clockOfAll;
        var writes = new (StateKey Key, CausalVersion Version)[keys.Length];
        for (int i = 0; i < keys.Length; i++) writes[i] = (keys[i], new CausalVersion(pending[keys[i]].Value, clockOfAll, deps));
        foreach (var (key, version) in writes) AddToICache(key, version);
        foreach (var (k, mine) in session.Local) AddToICache(k, mine);
        SendRing(new RingPropagateMsg(new Propagation(writes[0].Key, writes[0].Version, Id, Lap: 1, StableSnapshot(), writes.Length > 1 ? [.. writes[1..].Select(w => new KeyedVersion(w.Key, w.Version))] : null)));
        foreach (var (key, version) in writes) session.Local[key] = version;
        session.NoteWrite(Id, clockOfAll);
        pending.Clear();
    }
}

/// <summary>A transaction's snapshot needs a version this server no longer keeps: the attempt aborts and is retried.</summary>
public sealed class SnapshotUnavailableException(string message) : Exception(message);
