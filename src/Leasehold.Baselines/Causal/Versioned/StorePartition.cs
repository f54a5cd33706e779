using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Baselines.Causal.Versioned;

/// <summary>
/// One partition of the versioned store, on its own mailbox (so every operation on it is atomic). Per key
/// it keeps the last <see cref="CausalOptions.VersionHistory"/> versions in timestamp order and the
/// lattice merge of every version ever installed (Anna's per-key causal lattice, by
/// <see cref="CausalVersion.Merge"/>). It issues timestamps from a logical clock — encoded so that two
/// partitions never issue the same one (t mod P = the partition) — and promises: no version with a
/// timestamp ≤ <see cref="Promise"/> will ever be installed here, so a cache may treat the latest version
/// it learnt as valid up to it. A prepared, undecided FaaSTCC commit holds the promise below its proposal;
/// its commit timestamp (the largest proposal of its partitions) may fall below versions installed
/// meanwhile, so a version's validity ends before the next one it knows of and never beyond the promise.
/// New versions are sent to every subscriber in one batch per notification interval, with the promise.
/// </summary>
internal sealed class StorePartition
{
    private readonly IScheduler _scheduler;
    private readonly BaselineNet _net;
    private readonly CausalOptions _options;
    private readonly Func<StateKey, byte[]?> _initial;
    private readonly int _partitions;
    private readonly Dictionary<StateKey, KeyHistory> _keys = [];
    private readonly List<Subscriber> _subscribers = [];
    private readonly SortedDictionary<long, int> _prepared = []; // proposal → count of undecided prepares holding it
    private readonly List<Action> _waitingReads = [];
    private long _clock;
    private long _promiseSent = -1;
    private bool _flushScheduled;

    public StorePartition(int index, int partitions, IScheduler scheduler, BaselineNet net, CausalOptions options, Func<StateKey, byte[]?> initial)
    {
        Index = index;
        _partitions = partitions;
        _scheduler = scheduler;
        _net = net;
        _options = options;
        _initial = initial;
        Node = new BaselineNode(scheduler, $"store-{index}");
    }

    public int Index { get; }
    public BaselineNode Node { get; }

    /// <summary>No version with a timestamp at or below this will be installed here.</summary>
    public long Promise => _prepared.Count == 0 ? _clock : Math.Min(_clock, _prepared.Keys.First() - 1);

    private sealed class KeyHistory
    {
        public readonly List<StoredVersion> Versions = []; // ascending timestamp
        public CausalVersion? Merged;
        public bool Pruned; // older versions were dropped: a read below the oldest kept cannot be served
    }

    private sealed record Subscriber(BaselineNode Node, Action<StoreNotification> Deliver)
    {
        public List<StoredVersion> Pending { get; } = [];
    }

    /// <summary>A cache subscribes to every key here (full replication, as CausalMesh's servers hold everything); on this mailbox.</summary>
    public void Subscribe(BaselineNode cache, Action<StoreNotification> deliver) => _subscribers.Add(new Subscriber(cache, deliver));

    /// <summary>The next timestamp of this partition above both its clock and <paramref name="above"/>.</summary>
    private long NextTimestamp(long above)
    {
        long floor = Math.Max(_clock, above);
        return (floor / _partitions + 1) * _partitions + Index;
    }

    // ---- HydroCache: write a transaction's versions (their visibility is atomic through their mutual Needs, not here).

    public void Write(IReadOnlyList<StoredVersion> versions)
    {
        foreach (var v in versions)
        {
            _clock = NextTimestamp(0);
            Install(v with { Timestamp = _clock });
        }
    }

    // ---- Reads.

    /// <summary>An exact version, if it is still kept (null: unknown or dropped).</summary>
    public StoredVersion? ReadExact(VersionId id)
    {
        if (!_keys.TryGetValue(id.Key, out var h)) return null;
        for (int i = h.Versions.Count - 1; i >= 0; i--)
            if (h.Versions[i].Version.Clock.Equals(id.Clock)) return h.Versions[i];
        return null;
    }

    /// <summary>The lattice merge of every version of the key installed here (HydroCache's latest), or the initial version.</summary>
    public CausalVersion Latest(StateKey key) =>
        _keys.TryGetValue(key, out var h) && h.Merged is { } m ? m : CausalVersion.Initial(_initial(key), _options.Servers);

    /// <summary>
    /// FaaSTCC's read: the newest version with a timestamp ≤ <paramref name="high"/>, valid until the next
    /// one (or, the latest, until the promise). A read whose interval starts above the promise first moves
    /// the clock up to it — unless an undecided commit holds the promise down, when the read waits for it.
    /// Null version: the one needed was dropped from the history (the transaction must abort).
    /// </summary>
    public void ReadAt(StateKey key, long low, long high, Action<TimedRead> reply)
    {
        if (low > Promise)
        {
            if (_prepared.Count > 0 && _prepared.Keys.First() <= low)
            {
                _waitingReads.Add(() => ReadAt(key, low, high, reply));
                return;
            }
            _clock = Math.Max(_clock, low);
            ScheduleFlush(); // the promise moved: the caches learn it
        }
        reply(TimedAt(key, high));
    }

    private TimedRead TimedAt(StateKey key, long high)
    {
        long promise = Promise;
        if (!_keys.TryGetValue(key, out var h) || h.Versions.Count == 0)
            return new TimedRead(StoredVersion.Initial(key, _initial(key), _options.Servers), promise, promise);
        for (int i = h.Versions.Count - 1; i >= 0; i--)
        {
            var v = h.Versions[i];
            if (v.Timestamp > high) continue;
            // Bounded by the promise even below a newer version: a commit decided late may still land in between —
            // but not at this version's own timestamp (unique per key), so it is valid at least there, even above the promise.
            long until = Math.Max(v.Timestamp, i + 1 < h.Versions.Count ? Math.Min(h.Versions[i + 1].Timestamp - 1, promise) : promise);
            return new TimedRead(v, until, promise);
        }
        if (h.Pruned) return new TimedRead(null, -1, promise);
        return new TimedRead(StoredVersion.Initial(key, _initial(key), _options.Servers), Math.Min(h.Versions[0].Timestamp - 1, promise), promise);
    }

    // ---- FaaSTCC: two-phase commit. The coordinator takes the largest proposal as the commit timestamp.

    /// <summary>Phase one: propose a timestamp above the transaction's reads and everything here, and hold the promise below it.</summary>
    public long Prepare(long above)
    {
        long proposal = NextTimestamp(above);
        _clock = proposal;
        _prepared[proposal] = _prepared.GetValueOrDefault(proposal) + 1;
        return proposal;
    }

    /// <summary>Phase two: install the versions at the commit timestamp and release the promise.</summary>
    public void Decide(long proposal, long commit, IReadOnlyList<StoredVersion> versions)
    {
        if (_prepared.TryGetValue(proposal, out int n))
        {
            if (n == 1) _prepared.Remove(proposal);
            else _prepared[proposal] = n - 1;
        }
        _clock = Math.Max(_clock, commit);
        foreach (var v in versions) Install(v with { Timestamp = commit });
        ScheduleFlush();
        if (_waitingReads.Count > 0)
        {
            var waiting = _waitingReads.ToArray();
            _waitingReads.Clear();
            foreach (var read in waiting) read();
        }
    }

    private void Install(StoredVersion v)
    {
        if (!_keys.TryGetValue(v.Key, out var h)) _keys[v.Key] = h = new KeyHistory();
        int at = h.Versions.Count;
        while (at > 0 && h.Versions[at - 1].Timestamp > v.Timestamp) at--; // a commit decided late may land below a newer one
        h.Versions.Insert(at, v);
        if (h.Versions.Count > _options.VersionHistory)
        {
            h.Versions.RemoveAt(0);
            h.Pruned = true;
        }
        h.Merged = h.Merged is null ? v.Version : h.Merged.Merge(v.Version);
        foreach (var s in _subscribers) s.Pending.Add(v);
        ScheduleFlush();
    }

    // ---- Change notifications, batched.

    private void ScheduleFlush()
    {
        if (_flushScheduled || _subscribers.Count == 0) return;
        _flushScheduled = true;
        Node.Mailbox.PostAfter(_options.NotificationInterval, Flush);
    }

    /// <summary>Sends each subscriber what is new since the last batch and the promise; stops when nothing changed (so a run can go quiet).</summary>
    private void Flush()
    {
        _flushScheduled = false;
        long promise = Promise;
        bool any = promise != _promiseSent;
        foreach (var s in _subscribers) any |= s.Pending.Count > 0;
        if (!any) return;
        _promiseSent = promise;
        foreach (var s in _subscribers)
        {
            var batch = new StoreNotification(Index, [.. s.Pending], promise);
            s.Pending.Clear();
            var deliver = s.Deliver;
            _net.Send(Node.Mailbox, s.Node, () => deliver(batch), units: batch.Versions.Count);
        }
        ScheduleFlush(); // one more round: if nothing changes by then, the partition goes quiet
    }
}
