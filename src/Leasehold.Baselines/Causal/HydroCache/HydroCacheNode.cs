using Leasehold.Baselines.Causal.Versioned;
using Leasehold.Runtime.Causal;

namespace Leasehold.Baselines.Causal.HydroCache;

/// <summary>
/// One HydroCache cache, co-located with a worker. It learns new versions from the store's batched change
/// notifications and keeps a strict causal cut: a version is installed only when every exact version it
/// needs (its <see cref="StoredVersion.Needs"/>: what its transaction read, its session's earlier writes, and
/// its sibling writes) is installed — so a transaction's writes appear together (atomic visibility) and the
/// cut is downward closed. A key's served version is the arbitration maximum of the versions installed
/// (<see cref="VectorClock.CompareArbitration"/>, CausalVersion.Merge's rule), the same on every cache that
/// installed the same versions. Versions served to in-flight workflows are pinned until they end.
/// Everything runs on the cache's mailbox.
/// </summary>
internal sealed class HydroCacheNode
{
    private readonly CausalOptions _options;
    private readonly Func<StateKey, byte[]?> _initial;
    private readonly VersionedStore _store;
    private readonly BaselineNet _net;
    private readonly Dictionary<long, List<Action>> _waitingForPins = [];
    private readonly Dictionary<StateKey, KeyCut> _cut = [];
    private readonly Dictionary<VectorClock, Group> _groups = [];            // pending versions by transaction (one clock each)
    private readonly Dictionary<VersionId, List<Group>> _waitingOn = [];     // a missing version → the transactions that need it
    private int _pendingCount;
    private readonly List<(IReadOnlyList<VersionId> Needed, Action Done)> _waiters = [];
    private readonly HashSet<VersionId> _fetching = [];
    private readonly Dictionary<long, Dictionary<StateKey, StoredVersion>> _pins = [];
    private long _counter;

    public HydroCacheNode(int id, CausalOptions options, BaselineNode node, VersionedStore store, BaselineNet net, Func<StateKey, byte[]?> initial)
    {
        Id = id;
        _net = net;
        _options = options;
        Node = node;
        _store = store;
        _initial = initial;
    }

    public int Id { get; }
    public BaselineNode Node { get; }
    /// <summary>How many versions this cache installed (tests).</summary>
    public long InstalledCount { get; private set; }
    public int PendingCount => _pendingCount;

    private sealed class KeyCut
    {
        public readonly List<StoredVersion> Versions = []; // installed, ascending arbitration, the last few
        public readonly HashSet<VectorClock> Ids = [];    // every version ever installed (the cut's membership)
        public bool Trimmed;
    }

    public bool IsInstalled(VersionId id) => id.Clock.IsZero || (_cut.TryGetValue(id.Key, out var c) && c.Ids.Contains(id.Clock));

    /// <summary>The version this cache serves for a key: the arbitration maximum of its cut (the initial version if none).</summary>
    public StoredVersion Winner(StateKey key) =>
        _cut.TryGetValue(key, out var c) && c.Versions.Count > 0 ? c.Versions[^1] : StoredVersion.Initial(key, _initial(key), _options.Servers);

    /// <summary>An installed or pinned version by id (what an upstream cache serves a downstream one).</summary>
    public StoredVersion? Find(VersionId id)
    {
        if (_cut.TryGetValue(id.Key, out var c))
            for (int i = c.Versions.Count - 1; i >= 0; i--)
                if (c.Versions[i].Version.Clock.Equals(id.Clock)) return c.Versions[i];
        foreach (var (_, pinned) in _pins)
            if (pinned.TryGetValue(id.Key, out var v) && v.Version.Clock.Equals(id.Clock)) return v;
        return Pending(id);
    }

    /// <summary>
    /// Installed versions of <paramref name="key"/> that arbitrate after <paramref name="than"/> and may be in
    /// the causal past of <paramref name="of"/> (their clock ≤ its clock: a write's clock dominates its past,
    /// so this over-approximates, which only costs aborts). A key whose older versions were trimmed answers
    /// conservatively.
    /// </summary>
    public bool NewerInPastOf(StateKey key, StoredVersion than, StoredVersion of)
    {
        if (!_cut.TryGetValue(key, out var c)) return false;
        for (int i = c.Versions.Count - 1; i >= 0; i--)
        {
            var x = c.Versions[i];
            if (VectorClock.CompareArbitration(x.Version.Clock, than.Version.Clock) <= 0) return false;
            if (x.Version.Clock.LessOrEqual(of.Version.Clock)) return true;
        }
        return c.Trimmed; // every version kept arbitrates after it; the dropped ones might be in the past
    }

    /// <summary>The strict causal cut, for tests: every version kept here has everything it needs installed here too; the first break, or null.</summary>
    public string? CutViolation()
    {
        foreach (var (key, c) in _cut)
            foreach (var v in c.Versions)
                foreach (var need in v.Needs)
                    if (!IsInstalled(need)) return $"cache {Id}: {v} is installed but {need}, which it needs, is not";
        return null;
    }

    // ---- Learning versions.

    public void Receive(StoreNotification notification)
    {
        foreach (var v in notification.Versions) Offer(v);
    }

    /// <summary>
    /// The pending versions of one transaction (they share its clock) and what they still miss: a sibling not
    /// arrived yet, or a version of another transaction not installed here. With nothing missing, all of
    /// them are installed in one step — the transaction's atomic visibility.
    /// </summary>
    private sealed class Group(VectorClock clock)
    {
        public readonly VectorClock Clock = clock;
        public readonly Dictionary<StateKey, StoredVersion> Members = [];
        public readonly HashSet<VersionId> Missing = [];
    }

    private StoredVersion? Pending(VersionId id) =>
        _groups.TryGetValue(id.Clock, out var g) ? g.Members.GetValueOrDefault(id.Key) : null;

    /// <summary>A version learnt (notification, fetch, or carried by a workflow): pending until its transaction's needs are in, installed then.</summary>
    private void Offer(StoredVersion v)
    {
        if (IsInstalled(v.Id)) return;
        if (!_groups.TryGetValue(v.Version.Clock, out var g)) _groups[v.Version.Clock] = g = new Group(v.Version.Clock);
        if (!g.Members.TryAdd(v.Key, v)) return;
        _pendingCount++;
        g.Missing.Remove(v.Id);
        foreach (var need in v.Needs)
        {
            if (need.Clock.Equals(g.Clock))
            {
                if (!g.Members.ContainsKey(need.Key)) g.Missing.Add(need);
            }
            else if (!IsInstalled(need) && g.Missing.Add(need))
            {
                if (!_waitingOn.TryGetValue(need, out var list)) _waitingOn[need] = list = [];
                list.Add(g);
            }
        }
        if (g.Missing.Count == 0) InstallFrom(g);
    }

    /// <summary>Installs a complete transaction, then every transaction that was waiting only for it, and so on; then wakes the waiters.</summary>
    private void InstallFrom(Group first)
    {
        var ready = new Stack<Group>();
        ready.Push(first);
        while (ready.TryPop(out var g))
        {
            if (!_groups.Remove(g.Clock)) continue;
            foreach (var (_, v) in g.Members.OrderBy(m => m.Key.Table, StringComparer.Ordinal).ThenBy(m => m.Key.Key, StringComparer.Ordinal))
            {
                Install(v);
                _pendingCount--;
                if (!_waitingOn.Remove(v.Id, out var waiting)) continue;
                foreach (var w in waiting)
                    if (w.Missing.Remove(v.Id) && w.Missing.Count == 0) ready.Push(w);
            }
        }
        Wake();
    }

    private void Install(StoredVersion v)
    {
        if (!_cut.TryGetValue(v.Key, out var c)) _cut[v.Key] = c = new KeyCut();
        if (!c.Ids.Add(v.Version.Clock)) return;
        InstalledCount++;
        int at = c.Versions.Count;
        while (at > 0 && VectorClock.CompareArbitration(c.Versions[at - 1].Version.Clock, v.Version.Clock) > 0) at--;
        c.Versions.Insert(at, v);
        if (c.Versions.Count > _options.VersionHistory)
        {
            c.Versions.RemoveAt(0);
            c.Trimmed = true;
        }
    }

    private void Wake()
    {
        for (int i = 0; i < _waiters.Count; i++)
        {
            var (needed, done) = _waiters[i];
            if (!needed.All(IsInstalled)) continue;
            _waiters.RemoveAt(i--);
            done();
        }
    }

    /// <summary>
    /// Calls <paramref name="done"/> once every version in <paramref name="needed"/> is installed here. What
    /// is missing is offered from <paramref name="known"/> (versions the caller carries), and what those need
    /// is fetched — from the cache that served it when <paramref name="servedBy"/> names one, else from the
    /// store — recursively; a version the store no longer has arrives by notification.
    /// </summary>
    public void Ensure(IReadOnlyList<VersionId> needed, IEnumerable<StoredVersion> known, Func<VersionId, HydroCacheNode?> servedBy, Action done)
    {
        foreach (var v in known) Offer(v);
        if (needed.All(IsInstalled))
        {
            done();
            return;
        }
        _waiters.Add((needed, done));
        var seen = new HashSet<VersionId>();
        foreach (var id in needed) Chase(id, servedBy(id), seen);
    }

    /// <summary>Walks from a missing version to what it needs, fetching every version neither installed nor pending.</summary>
    private void Chase(VersionId id, HydroCacheNode? from, HashSet<VersionId> seen)
    {
        if (IsInstalled(id) || !seen.Add(id)) return;
        if (Pending(id) is { } pending)
        {
            foreach (var need in pending.Needs) Chase(need, from, seen);
            return;
        }
        if (!_fetching.Add(id)) return;
        void Got(StoredVersion? v)
        {
            _fetching.Remove(id);
            if (v is not null)
            {
                Offer(v);
                var next = new HashSet<VersionId>();
                foreach (var need in v.Needs) Chase(need, null, next);
            }
        }
        if (from is not null && from != this)
        {
            var upstream = from;
            _net.Send(Node.Mailbox, upstream.Node, () =>
            {
                var v = upstream.Find(id);
                _net.Send(upstream.Node.Mailbox, Node, () => { if (v is null) _store.ReadExact(Node, id, Got); else Got(v); });
            });
        }
        else _store.ReadExact(Node, id, Got);
    }

    // ---- Pins and commits.

    public void Pin(long attempt, StateKey key, StoredVersion version)
    {
        if (!_pins.TryGetValue(attempt, out var pinned)) _pins[attempt] = pinned = [];
        pinned[key] = version;
    }

    /// <summary>hydro-con: a whole snapshot pinned for an attempt; functions of it that arrived first run now.</summary>
    public void PinAll(long attempt, IReadOnlyDictionary<StateKey, StoredVersion> snapshot)
    {
        _pins[attempt] = new Dictionary<StateKey, StoredVersion>(snapshot);
        if (_waitingForPins.Remove(attempt, out var waiting))
            foreach (var run in waiting) run();
    }

    /// <summary>Runs <paramref name="run"/> with the attempt's pinned snapshot, now or once it is pinned.</summary>
    public void WithPins(long attempt, Action<IReadOnlyDictionary<StateKey, StoredVersion>> run)
    {
        if (_pins.TryGetValue(attempt, out var pinned))
        {
            run(pinned);
            return;
        }
        if (!_waitingForPins.TryGetValue(attempt, out var waiting)) _waitingForPins[attempt] = waiting = [];
        waiting.Add(() => run(_pins[attempt]));
    }

    public void Unpin(long attempt) => _pins.Remove(attempt);

    public int PinnedWorkflows => _pins.Count;

    /// <summary>
    /// The clock of a transaction committed here: the join of every clock it depends on (so it dominates its
    /// causal past and arbitrates after it), with this cache's own entry ticked past its counter (unique).
    /// </summary>
    public VectorClock CommitClock(IEnumerable<VectorClock> past)
    {
        var entries = new long[_options.Servers];
        foreach (var clock in past)
            for (int i = 0; i < entries.Length; i++) entries[i] = Math.Max(entries[i], clock[i]);
        _counter = Math.Max(_counter, entries[Id]) + 1;
        entries[Id] = _counter;
        return VectorClock.Of(entries);
    }
}
