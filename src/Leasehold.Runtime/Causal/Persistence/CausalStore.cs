using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;

namespace Leasehold.Runtime.Causal.Persistence;

/// <summary>
/// A causal cluster's store (§6): the single writer into an <see cref="IStateStore"/> for the whole
/// cluster, and the reader of its misses. It claims the store (a newer owner fences this one out), takes
/// every write when it becomes visible at its tail, merges them per key under <see cref="CausalVersion.Merge"/>,
/// and writes one store batch at a time (versions, then the fenced commit record), group-committing all
/// that accumulated while the previous batch was in flight. The store holds per key the merge of every
/// persisted write.
/// <para>
/// Why at the tail, not the head: a write in the store can be loaded by a miss on any server, which makes
/// it visible there. At its head a write's causal past may still be on its first lap; at its tail, after
/// two laps, it is visible by the protocol's own rule, so a load shows nothing the ring would not.
/// </para>
/// <para>
/// Writes are persisted in causal order: a write whose deps the store may not hold yet waits (parked)
/// until they are written, in the same batch or an earlier one. Writes reach the store from different
/// tails, so without this a crash could leave a write in the store without a write it depends on — and
/// the next life's miss on it could never load a causal cut.
/// </para>
/// <para>
/// Durability is tracked per head: the writes of one head reach its tail in the order of their own clock
/// entry (one FIFO path), and batches commit in order, so "head h's writes up to entry c are durable" is
/// one number per head — capped below the head's oldest parked write — and a workflow waiting for its
/// writes waits for a vector.
/// </para>
/// </summary>
public sealed class CausalStore
{
    private readonly Lock _lock = new();
    private readonly IStateStore _store;
    private readonly long _epoch;
    private long _nextBatch;
    private IScheduler? _scheduler;
    private Mailbox? _mailbox;
    private int _servers;
    private TimeSpan _latency;
    private Dictionary<StateKey, CausalVersion> _pending = [];
    private long[] _pendingHeads = [];
    private long[] _durable = [];
    private bool _flushing;
    private readonly List<(VectorClock Need, Action Then)> _waiting = [];
    // Per key, the join of the clocks of everything handed to a batch (pending, in flight or committed):
    // a dep at or below it will be in the store no later than a write added to the pending batch now.
    private readonly Dictionary<StateKey, VectorClock> _queued = [];
    private readonly List<Group> _parked = [];
    // Keys read back for a parked write's previous-life deps (PreviousLifeDeps): the clock below which a dep on them counts as stored.
    private readonly Dictionary<StateKey, VectorClock> _final = [];
    private readonly HashSet<StateKey> _fetching = [];

    /// <summary>One write, or one transaction's writes (same head and clock), persisted together.</summary>
    private sealed record Group(StateKey Key, CausalVersion Write, int Head, (StateKey Key, CausalVersion Version)[]? Siblings);
    // What this owner knows the store holds per key: what it committed, and what it read. It saves a read
    // back before each merge and answers "is this version persisted?" for eviction without a round trip.
    private readonly Dictionary<StateKey, CausalVersion> _persisted = [];
    // The join of every clock committed, by any owner: a restarted cluster's servers start their clocks there.
    private readonly byte[]? _clockRow;
    private long[] _high = [];

    /// <summary>
    /// Where the store keeps <see cref="Base"/>, in every batch beside the versions (so it commits with them).
    /// Without it a restarted cluster's clocks start at zero below the stored versions' clocks, and a write that
    /// reads nothing first loses the merge to the version it overwrites: acknowledged, yet never in the store.
    /// </summary>
    public static readonly StateKey ClockKey = new("leasehold.causal", "clock");

    private CausalStore(IStateStore store, long epoch, long nextBatch, byte[]? clockRow, ulong clusterId)
    {
        _store = store;
        _epoch = epoch;
        _nextBatch = nextBatch;
        _clockRow = clockRow;
        ClusterId = clusterId;
    }

    /// <summary>The record holding the id of the cluster whose state the store keeps (8 bytes, little-endian).</summary>
    public const string ClusterRecord = "leasehold.causal.cluster";

    /// <summary>
    /// The id every cluster on this store has (ClusterIdentity): the state outlives a restart, so a session token
    /// kept across one still refers to it. Set by the first cluster that opens the store.
    /// </summary>
    public ulong ClusterId { get; }

    /// <summary>The join of every clock the store has committed (zero for a new store).</summary>
    public VectorClock Base { get; private set; } = VectorClock.Zero(1);

    /// <summary>
    /// Each life (claim epoch e) numbers its writes from (e − 1)·2^32 in every entry, at least from <see cref="Base"/>:
    /// a write-behind write acknowledged by an earlier life and lost in its crash never shares a clock entry with
    /// one of this life, so a clock with every entry below <see cref="LifeStart"/> is an earlier life's, finished.
    /// Every server's clock starts here.
    /// </summary>
    public VectorClock LifeStart { get; private set; } = VectorClock.Zero(1);

    private const long LifeBand = 1L << 32;

    /// <summary>Every entry below this life's start: only an earlier life wrote it, and nothing more of it will come.</summary>
    private bool FromEarlierLife(VectorClock clock)
    {
        for (int i = 0; i < clock.Count; i++)
            if (clock[i] >= LifeStart[i]) return false;
        return true;
    }

    /// <summary>Claims <paramref name="store"/> and drops any batch a previous owner wrote but never committed.</summary>
    /// <param name="time">Mixed into the cluster id drawn when the store has none yet (default: the system clock).</param>
    public static async Task<CausalStore> OpenAsync(IStateStore store, CancellationToken cancellation = default, TimeProvider? time = null)
    {
        long epoch = await store.ClaimAsync(cancellation);
        await store.DiscardUncommittedAsync(cancellation);
        long last = await store.LastCommittedAsync(cancellation);
        var clockRow = await store.ReadCommittedAsync(ClockKey, cancellation);
        ulong cluster = await ClusterIdAsync(store, epoch, time ?? TimeProvider.System, cancellation);
        return new CausalStore(store, epoch, last + 1, clockRow, cluster);
    }

    /// <summary>The store's cluster id; a store without one gets a new one (two openers racing agree on the first set).</summary>
    private static async Task<ulong> ClusterIdAsync(IStateStore store, long epoch, TimeProvider time, CancellationToken cancellation)
    {
        var record = await store.ReadRecordAsync(ClusterRecord, cancellation);
        if (record is null)
        {
            var id = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(id, ClusterIdentity.Draw((int)epoch, time));
            if (!await store.CompareAndSetAsync(ClusterRecord, null, id, cancellation)) record = await store.ReadRecordAsync(ClusterRecord, cancellation);
            else record = id;
        }
        if (record is not { Length: 8 })
            throw new StoreUnavailableException($"{store.Name}: the record {ClusterRecord} (the causal cluster's id) has {record?.Length ?? 0} bytes, not 8: not a causal store this build wrote");
        return System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(record);
    }

    public IStateStore Store => _store;
    public long Epoch => _epoch;
    public long Batches { get; private set; }
    public long VersionsWritten { get; private set; }
    public long Reads { get; private set; }
    /// <summary>Writes that reached the store before a write they depend on, and waited for it.</summary>
    public long Parked { get; private set; }

    /// <summary>True when nothing waits to be written and no batch is in flight.</summary>
    public bool Idle
    {
        get { lock (_lock) return !_flushing && _pending.Count == 0 && _parked.Count == 0; }
    }

    internal void Attach(IScheduler scheduler, CausalOptions options)
    {
        if (_scheduler is not null) throw new InvalidOperationException("a causal store serves one cluster: open it again (a new claim) for another");
        _scheduler = scheduler;
        _servers = options.Servers;
        _latency = options.StoreLatency;
        _pendingHeads = new long[_servers];
        _durable = new long[_servers];
        try
        {
            Base = _clockRow is null ? VectorClock.Zero(_servers) : CausalVersionCodec.Decode(_clockRow, _servers).Clock;
        }
        catch (CausalVersionFormatException e)
        {
            throw new StoreUnavailableException($"{_store.Name}: {ClockKey} (the clock a restarted cluster starts from): {e.Message}", e);
        }
        _high = [.. Base.Entries];
        var start = new long[_servers];
        for (int i = 0; i < start.Length; i++) start[i] = Math.Max(Base[i], (_epoch - 1) * LifeBand);
        LifeStart = VectorClock.Of(start);
        // Every earlier life's writes are as durable as they will ever be: a session token kept across a restart
        // waits for its writes (below LifeStart) to be durable, and no write of this life would ever raise a head
        // that writes nothing to them.
        _durable = [.. LifeStart.Entries];
        _mailbox = scheduler.CreateMailbox("causal-store");
    }

    /// <summary>
    /// On the tail's mailbox: a write of <paramref name="head"/> has just become visible; persist it, with
    /// <paramref name="siblings"/> (a transaction's other writes, same clock) in the same batch. One lock for
    /// all of them: on real threads the store's mailbox may flush between two calls, and a batch holding one
    /// write of a transaction would already count the head's clock entry durable — so a synchronous result
    /// was released while its other writes were not yet in the store.
    /// </summary>
    internal void Enqueue(StateKey key, CausalVersion write, int head, (StateKey Key, CausalVersion Version)[]? siblings = null)
    {
        bool start;
        List<StateKey>? fetch = null;
        lock (_lock)
        {
            var group = new Group(key, write, head, siblings);
            if (!Ready(group))
            {
                _parked.Add(group);
                Parked++;
                fetch = PreviousLifeDeps(group);
                start = false;
            }
            else
            {
                Queue(group);
                ReleaseParked();
                start = !_flushing;
                _flushing = true;
            }
        }
        if (start) _scheduler!.Post(_mailbox!, Flush);
        if (fetch is not null) _scheduler!.Post(_mailbox!, () => Read(_mailbox!, fetch, read =>
        {
            lock (_lock) foreach (var (k, _) in read) _fetching.Remove(k);
            foreach (var (k, v) in read) KnowFinal(k, v);
        }));
    }

    /// <summary>
    /// Under the lock: the deps of a parked group that only a previous life can have written (at or below
    /// <see cref="Base"/>: every write of this life is above it in its head's entry) and that this owner has
    /// neither queued nor read. Nothing this life does would ever cover them — a caller's session token kept
    /// across a restart names such deps — so they are read from the store instead of waited for.
    /// </summary>
    private List<StateKey>? PreviousLifeDeps(Group group)
    {
        List<StateKey>? keys = null;
        foreach (var (_, version) in Writes(group))
            foreach (var (dep, clock) in version.Deps)
                if (FromEarlierLife(clock) && !_final.ContainsKey(dep) && _fetching.Add(dep)) (keys ??= []).Add(dep);
        return keys;
    }

    /// <summary>
    /// A previous life's version of <paramref name="key"/> as the store holds it (null: absent). The previous
    /// lives are over, so whatever of theirs the store does not hold (a write-behind write lost in a crash)
    /// it never will: a dep at or below <see cref="Base"/> counts as stored, rather than park its write forever.
    /// </summary>
    private void KnowFinal(StateKey key, CausalVersion? stored)
    {
        lock (_lock) _final[key] = EarlierLives();
        Know(key, stored); // releases what the read made ready
    }

    /// <summary>The highest clock an earlier life can have written: every entry just below this life's start.</summary>
    private VectorClock EarlierLives()
    {
        var below = new long[LifeStart.Count];
        for (int i = 0; i < below.Length; i++) below[i] = Math.Max(0, LifeStart[i] - 1);
        return VectorClock.Of(below);
    }

    private static IEnumerable<(StateKey Key, CausalVersion Version)> Writes(Group g) => g.Siblings is null ? [(g.Key, g.Write)] : [(g.Key, g.Write), .. g.Siblings];

    /// <summary>Under the lock: every dep of the group is queued or known stored, or is one of the group's own writes.</summary>
    private bool Ready(Group group)
    {
        foreach (var (_, version) in Writes(group))
            foreach (var (dep, clock) in version.Deps)
            {
                if (_queued.TryGetValue(dep, out var queued) && clock.LessOrEqual(queued)) continue;
                if (_persisted.TryGetValue(dep, out var stored) && clock.LessOrEqual(stored.Clock)) continue;
                if (_final.TryGetValue(dep, out var final) && clock.LessOrEqual(final)) continue;
                if (Writes(group).Any(w => w.Key == dep && clock.LessOrEqual(w.Version.Clock))) continue;
                return false;
            }
        return true;
    }

    private void Queue(Group group)
    {
        foreach (var (k, v) in Writes(group))
        {
            _pending[k] = _pending.TryGetValue(k, out var p) ? p.Merge(v) : v;
            _queued[k] = _queued.TryGetValue(k, out var q) ? q.Join(v.Clock) : v.Clock;
        }
        _pendingHeads[group.Head] = Math.Max(_pendingHeads[group.Head], group.Write.Clock[group.Head]);
    }

    /// <summary>Under the lock: queues every parked group that has become ready, in the order they arrived, until none does.</summary>
    private void ReleaseParked()
    {
        for (bool moved = true; moved && _parked.Count > 0;)
        {
            moved = false;
            for (int i = 0; i < _parked.Count; i++)
                if (Ready(_parked[i]))
                {
                    Queue(_parked[i]);
                    _parked.RemoveAt(i--);
                    moved = true;
                }
        }
    }

    /// <summary>Under the lock: per head, the entry up to which every write is durable (a parked write holds its head back).</summary>
    private VectorClock DurableNow()
    {
        if (_parked.Count == 0) return VectorClock.Of(_durable);
        var durable = (long[])_durable.Clone();
        foreach (var g in _parked) durable[g.Head] = Math.Min(durable[g.Head], g.Write.Clock[g.Head] - 1);
        return VectorClock.Of(durable);
    }

    /// <summary>Runs <paramref name="then"/> once every write up to <paramref name="written"/> (per head) is durable; at once if it is.</summary>
    internal void WhenDurable(VectorClock? written, Action then)
    {
        lock (_lock)
            if (written is not null && !written.LessOrEqual(DurableNow()))
            {
                _waiting.Add((written, then));
                return;
            }
        then();
    }

    /// <summary>The version the store holds for <paramref name="key"/>, as far as this owner knows (null: none known).</summary>
    internal CausalVersion? Persisted(StateKey key)
    {
        lock (_lock) return _persisted.GetValueOrDefault(key);
    }

    /// <summary>A version read from the store: it is in the store, so it counts as persisted.</summary>
    internal void Know(StateKey key, CausalVersion? stored)
    {
        bool start = false;
        lock (_lock)
        {
            if (stored is not null) _persisted[key] = _persisted.TryGetValue(key, out var known) ? known.Merge(stored) : stored;
            if (_parked.Count > 0)
            {
                int before = _parked.Count;
                ReleaseParked();
                if (_parked.Count < before && !_flushing) start = _flushing = true;
            }
        }
        if (start) _scheduler!.Post(_mailbox!, Flush);
    }

    /// <summary>
    /// Reads <paramref name="keys"/> (null: absent) and runs <paramref name="then"/> on <paramref name="mailbox"/>. A key
    /// whose stored bytes are not a causal version runs <paramref name="unreadable"/> instead, with the key and the cause,
    /// when given: that is the reader's error to report (a workflow's), not the store's; without it, it faults the run.
    /// </summary>
    internal void Read(Mailbox mailbox, IReadOnlyList<StateKey> keys, Action<List<KeyValuePair<StateKey, CausalVersion?>>> then, Action<string>? unreadable = null) =>
        Then(ReadAsync(keys), mailbox, then, unreadable);

    private async Task<List<KeyValuePair<StateKey, CausalVersion?>>> ReadAsync(IReadOnlyList<StateKey> keys)
    {
        var read = new List<KeyValuePair<StateKey, CausalVersion?>>(keys.Count);
        foreach (var key in keys) read.Add(new(key, await ReadOneAsync(key)));
        return read;
    }

    private async Task<CausalVersion?> ReadOneAsync(StateKey key)
    {
        lock (_lock) Reads++;
        var bytes = await _store.ReadCommittedAsync(key);
        if (bytes is null) return null;
        try
        {
            return CausalVersionCodec.Decode(bytes, _servers);
        }
        catch (CausalVersionFormatException e)
        {
            throw new UnreadableStoredVersionException($"{_store.Name}: the stored bytes of {key} cannot be read as a causal version " +
                $"(was the table written by the serializable engine, or by another build?): {e.Message}", e);
        }
    }

    /// <summary>On the store's mailbox: write what accumulated as one batch; the next starts when it is committed.</summary>
    private void Flush()
    {
        Dictionary<StateKey, CausalVersion> taken;
        long[] heads;
        lock (_lock)
        {
            if (_pending.Count == 0)
            {
                _flushing = false;
                return;
            }
            taken = _pending;
            heads = _pendingHeads;
            _pending = [];
            _pendingHeads = new long[_servers];
        }
        long batch = _nextBatch++;
        Then(WriteBatchAsync(batch, taken), _mailbox!, merged => Committed(merged, heads));
    }

    private async Task<List<KeyValuePair<StateKey, CausalVersion>>> WriteBatchAsync(long batch, Dictionary<StateKey, CausalVersion> taken)
    {
        var merged = new List<KeyValuePair<StateKey, CausalVersion>>(taken.Count);
        foreach (var (key, write) in taken)
        {
            CausalVersion? before;
            lock (_lock) _persisted.TryGetValue(key, out before);
            // A key this owner has not seen yet may hold a previous owner's versions: merge with them, not over them.
            before ??= await ReadOneAsync(key);
            merged.Add(new(key, before is null ? write : before.Merge(write)));
        }
        var rows = merged.Select(m => new KeyValuePair<StateKey, byte[]?>(m.Key, CausalVersionCodec.Encode(m.Value))).ToList();
        long[] high;
        lock (_lock) high = [.. _high];
        foreach (var (_, version) in merged)
            for (int i = 0; i < high.Length; i++) high[i] = Math.Max(high[i], version.Clock[i]);
        rows.Add(new(ClockKey, CausalVersionCodec.Encode(new CausalVersion(null, VectorClock.Of(high), new Dictionary<StateKey, VectorClock>()))));
        await _store.WriteVersionsAsync(batch, rows);
        await _store.CommitAsync(batch, _epoch);
        return merged;
    }

    private void Committed(List<KeyValuePair<StateKey, CausalVersion>> merged, long[] heads)
    {
        List<Action>? ready = null;
        bool more;
        lock (_lock)
        {
            Batches++;
            VersionsWritten += merged.Count;
            foreach (var (key, version) in merged)
            {
                _persisted[key] = _persisted.TryGetValue(key, out var known) ? known.Merge(version) : version;
                for (int i = 0; i < _high.Length; i++) _high[i] = Math.Max(_high[i], version.Clock[i]);
            }
            for (int h = 0; h < heads.Length; h++) _durable[h] = Math.Max(_durable[h], heads[h]);
            var durable = DurableNow();
            for (int w = _waiting.Count - 1; w >= 0; w--)
                if (_waiting[w].Need.LessOrEqual(durable))
                {
                    (ready ??= []).Add(_waiting[w].Then);
                    _waiting.RemoveAt(w);
                }
            more = _pending.Count > 0;
            if (!more) _flushing = false;
        }
        if (ready is not null)
            for (int r = ready.Count - 1; r >= 0; r--) ready[r](); // in the order they began waiting
        if (more) _scheduler!.Post(_mailbox!, Flush);
    }

    /// <summary>
    /// Continues on <paramref name="mailbox"/> after a store call. A store that completes synchronously (the
    /// memory engine) stays on the scheduler's thread; another one continues from the thread pool, which the
    /// deterministic mode cannot allow (it would escape the seed), so there it is refused.
    /// </summary>
    private void Then<T>(Task<T> call, Mailbox mailbox, Action<T> continuation, Action<string>? unreadable = null)
    {
        if (call.IsCompleted)
        {
            Deliver(mailbox, () => Continue(call, continuation, unreadable));
            return;
        }
        if (_scheduler is DeterministicScheduler)
            throw new InvalidOperationException($"the deterministic mode needs a store whose calls complete synchronously (memory), not {_store.Name}: a continuation on another thread would escape the seed");
        call.ContinueWith(done => Deliver(mailbox, () => Continue(done, continuation, unreadable)), TaskScheduler.Default);
    }

    private void Continue<T>(Task<T> done, Action<T> continuation, Action<string>? unreadable)
    {
        if (unreadable is not null && done.Exception?.InnerException is UnreadableStoredVersionException e) unreadable(e.Message);
        else continuation(Result(done));
    }

    private void Deliver(Mailbox mailbox, Action action)
    {
        if (_latency > TimeSpan.Zero) _scheduler!.After(_latency, () => _scheduler.Post(mailbox, action));
        else _scheduler!.Post(mailbox, action);
    }

    /// <summary>A failed store call faults the run (the scheduler's Fault) with its cause named.</summary>
    private T Result<T>(Task<T> call)
    {
        try
        {
            return call.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not StoreFencedException and not StoreUnavailableException and not UnreadableStoredVersionException)
        {
            throw new StoreUnavailableException($"causal store on {_store.Name} failed: {e.Message}", e);
        }
    }
}

/// <summary>A key's stored bytes are not a causal version (another engine's table, another build's format); the message names the key and why.</summary>
public sealed class UnreadableStoredVersionException(string message, Exception inner) : Exception(message, inner);
