using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Transport.SharedMemory;

/// <summary>
/// One-sided operations between processes of one host. This process's regions are registered (usually
/// <see cref="SharedRegion"/>s made by <see cref="CreateRegion"/>); an operation on another node's key maps
/// that node's file for that incarnation (<see cref="ShmRegions.PathFor"/>) on first use, keeps the mapping,
/// and applies the operation in the caller's context as loads, stores and interlocked operations on it, so the
/// target's executors never run. Its completion is posted to <c>replyTo</c>, as <see cref="OneSidedMemory"/> does.
/// <para>
/// <b>Rotation.</b> Each incarnation has its own files, so a fenced incarnation's late write lands in a file the
/// next incarnation never maps. Retiring an incarnation here retires its keys, local and remote, including
/// ones first used later: they still land, counted in <see cref="LandedInRetired"/>.
/// <see cref="DropIncarnation"/> unmaps its files here and deletes this process's own; from then on its keys
/// lead nowhere, completing as successes that change nothing, exactly as in <see cref="OneSidedMemory"/>.
/// Another process's mapping of a deleted file stays valid until that process drops the incarnation too.
/// </para>
/// <para>
/// <b>A key with no file</b> (its node not started yet, or its incarnation dropped and its file removed by its
/// owner, while this process has not dropped it) throws <see cref="RegionFileException"/> at issue, as a key
/// never registered throws in process: membership starts every node's regions before any batch, so this is a
/// bug or a peer that vanished, and from a mailbox it faults the run, which fails the batch. A read of a slot
/// whose writer died mid-write throws <see cref="SlotWriteStuckException"/> in the caller, with the same effect.
/// </para>
/// </summary>
public sealed class ShmOneSided : IOneSided, IDisposable
{
    private readonly IScheduler _scheduler;
    private readonly Lock _registering = new();
    /// <summary>Copied on every change, which is rare; operations read it without a lock.</summary>
    private Dictionary<RegionKey, Registration> _registrations = [];
    private HashSet<int> _retired = [];
    private HashSet<int> _dropped = [];
    private long _operations, _landedInRetired;

    public ShmOneSided(IScheduler scheduler, string cluster, string directory = ShmRegions.DefaultDirectory, TimeSpan operationLatency = default, SharedRegionSize? size = null)
    {
        ShmRegions.CheckClusterName(cluster);
        _scheduler = scheduler;
        Cluster = cluster;
        Directory = directory;
        OperationLatency = operationLatency;
        Size = size ?? SharedRegionSize.Default;
    }

    public string Cluster { get; }
    public string Directory { get; }
    public SharedRegionSize Size { get; }
    public TimeSpan OperationLatency { get; }
    public long Operations => Interlocked.Read(ref _operations);
    public long LandedInRetired => Interlocked.Read(ref _landedInRetired);

    /// <summary>
    /// The factory a process calls for each of its nodes' regions: creates the file of <paramref name="key"/>
    /// (which must not exist: remove stale files at start, <see cref="ShmRegions.RemoveStale"/>) and registers it.
    /// </summary>
    public SharedRegion CreateRegion(RegionKey key, int maxValueBytes)
    {
        var region = SharedRegion.Create(ShmRegions.PathFor(Directory, Cluster, key), new RegionFileIdentity(Cluster, key), maxValueBytes, Size, Environment.ProcessId);
        try
        {
            Add(key, new Registration(key, region, local: true));
        }
        catch
        {
            region.DisposeAndDelete();
            throw;
        }
        return region;
    }

    public void Register(RegionKey key, IRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        Add(key, new Registration(key, region, local: true));
    }

    public void Retire(RegionKey key) => Find(key).Retire();

    public int RetireIncarnation(int incarnation)
    {
        lock (_registering)
        {
            Volatile.Write(ref _retired, new HashSet<int>(_retired) { incarnation });
            int retired = 0;
            foreach (var registration in _registrations.Values)
            {
                if (registration.Key.Incarnation != incarnation) continue;
                registration.Retire();
                retired++;
            }
            return retired;
        }
    }

    public bool IsRetired(RegionKey key) => Find(key).Retired;

    /// <summary>
    /// Unmaps the regions of <paramref name="incarnation"/> here (after the operations in flight on them) and
    /// deletes this process's own files; its local regions must be retired. The number of regions dropped.
    /// </summary>
    public int DropIncarnation(int incarnation)
    {
        List<Registration> dropped = [];
        lock (_registering)
        {
            var kept = new Dictionary<RegionKey, Registration>(_registrations.Count);
            foreach (var (key, registration) in _registrations)
            {
                if (key.Incarnation != incarnation) kept.Add(key, registration);
                else if (registration.Local && !registration.Retired) throw new InvalidOperationException($"{key} is still in service: retire an incarnation before dropping its regions");
                else dropped.Add(registration);
            }
            Volatile.Write(ref _registrations, kept);
            Volatile.Write(ref _dropped, new HashSet<int>(_dropped) { incarnation });
        }
        foreach (var registration in dropped) registration.Release();
        return dropped.Count;
    }

    public bool HoldsRegion(RegionKey key) =>
        Volatile.Read(ref _registrations).ContainsKey(key)
        || (!Volatile.Read(ref _dropped).Contains(key.Incarnation) && File.Exists(ShmRegions.PathFor(Directory, Cluster, key)));

    /// <summary>Regions registered here or mapped from other processes, and not dropped.</summary>
    public int RegionCount => Volatile.Read(ref _registrations).Count;

    public void Read(RegionKey key, int slot, Mailbox replyTo, Action<object, SlotSnapshot> onDone, object state)
    {
        var target = Issue(key, slot);
        if (OperationLatency <= TimeSpan.Zero) ApplyRead(target, slot, replyTo, onDone, state);
        else _scheduler.After(OperationLatency, () => ApplyRead(target, slot, replyTo, onDone, state));
    }

    public bool TryReadAtOnce(RegionKey key, int slot, out SlotSnapshot snapshot)
    {
        if (OperationLatency > TimeSpan.Zero)
        {
            snapshot = default;
            return false;
        }
        var target = Issue(key, slot);
        snapshot = target.Apply(static (r, s) => r.Read(s), slot, Empty);
        Landed(target);
        return true;
    }

    public void WriteValueThenFlag(RegionKey key, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        var target = Issue(key, slot, value);
        if (OperationLatency <= TimeSpan.Zero) ApplyWriteValueThenFlag(target, slot, value, flag, replyTo, onDone, state);
        else _scheduler.After(OperationLatency, () => ApplyWriteValueThenFlag(target, slot, value, flag, replyTo, onDone, state));
    }

    public void WriteValue(RegionKey key, int slot, byte[]? value, Mailbox replyTo, Action<object> onDone, object state)
    {
        var target = Issue(key, slot, value);
        if (OperationLatency <= TimeSpan.Zero) ApplyWriteValue(target, slot, value, replyTo, onDone, state);
        else _scheduler.After(OperationLatency, () => ApplyWriteValue(target, slot, value, replyTo, onDone, state));
    }

    public void WriteFlag(RegionKey key, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        var target = Issue(key, slot);
        if (OperationLatency <= TimeSpan.Zero) ApplyWriteFlag(target, slot, flag, replyTo, onDone, state);
        else _scheduler.After(OperationLatency, () => ApplyWriteFlag(target, slot, flag, replyTo, onDone, state));
    }

    public void CompareAndSwapFlag(RegionKey key, int slot, int expected, int desired, Mailbox replyTo, Action<object, bool> onDone, object state)
    {
        var target = Issue(key, slot);
        if (OperationLatency <= TimeSpan.Zero) ApplyCompareAndSwapFlag(target, slot, expected, desired, replyTo, onDone, state);
        else _scheduler.After(OperationLatency, () => ApplyCompareAndSwapFlag(target, slot, expected, desired, replyTo, onDone, state));
    }

    public void FetchAndAdd(RegionKey key, int slot, ulong delta, Mailbox replyTo, Action<object, ulong> onDone, object state)
    {
        var target = Issue(key, slot);
        if (OperationLatency <= TimeSpan.Zero) ApplyFetchAndAdd(target, slot, delta, replyTo, onDone, state);
        else _scheduler.After(OperationLatency, () => ApplyFetchAndAdd(target, slot, delta, replyTo, onDone, state));
    }

    /// <summary>Unmaps everything mapped here and deletes this process's own region files.</summary>
    public void Dispose()
    {
        Dictionary<RegionKey, Registration> all;
        lock (_registering)
        {
            all = _registrations;
            Volatile.Write(ref _registrations, []);
        }
        foreach (var registration in all.Values.OrderBy(r => r.Key.Incarnation).ThenBy(r => r.Key.Node)) registration.Release();
    }

    private void ApplyRead(Registration target, int slot, Mailbox replyTo, Action<object, SlotSnapshot> onDone, object state)
    {
        var snapshot = target.Apply(static (r, s) => r.Read(s), slot, Empty);
        Landed(target);
        _scheduler.Post(replyTo, Completion<SlotSnapshot>.Deliver, new Completion<SlotSnapshot>(onDone, state, snapshot));
    }

    private void ApplyWriteValueThenFlag(Registration target, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        target.Apply(r => { r.WriteValueThenFlag(slot, value, flag); return true; });
        Landed(target);
        _scheduler.Post(replyTo, onDone, state);
    }

    private void ApplyWriteValue(Registration target, int slot, byte[]? value, Mailbox replyTo, Action<object> onDone, object state)
    {
        target.Apply(r => { r.WriteValue(slot, value); return true; });
        Landed(target);
        _scheduler.Post(replyTo, onDone, state);
    }

    private void ApplyWriteFlag(Registration target, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        target.Apply(r => { r.WriteFlag(slot, flag); return true; });
        Landed(target);
        _scheduler.Post(replyTo, onDone, state);
    }

    private void ApplyCompareAndSwapFlag(Registration target, int slot, int expected, int desired, Mailbox replyTo, Action<object, bool> onDone, object state)
    {
        bool swapped = target.Apply(r => r.CompareAndSwapFlag(slot, expected, desired));
        Landed(target);
        _scheduler.Post(replyTo, Completion<bool>.Deliver, new Completion<bool>(onDone, state, swapped));
    }

    private void ApplyFetchAndAdd(Registration target, int slot, ulong delta, Mailbox replyTo, Action<object, ulong> onDone, object state)
    {
        ulong old = target.Apply(r => r.FetchAndAdd(slot, delta));
        Landed(target);
        _scheduler.Post(replyTo, Completion<ulong>.Deliver, new Completion<ulong>(onDone, state, old));
    }

    private Registration Issue(RegionKey key, int slot, byte[]? value = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        var target = Find(key);
        target.Region?.CheckValueSize(value);
        Interlocked.Increment(ref _operations);
        return target;
    }

    /// <summary>The registration of <paramref name="key"/>: registered here, mapped before, or mapped now from its node's file.</summary>
    private Registration Find(RegionKey key)
    {
        if (Volatile.Read(ref _registrations).TryGetValue(key, out var registration)) return registration;
        if (Volatile.Read(ref _dropped).Contains(key.Incarnation)) return Registration.Nowhere;
        lock (_registering)
        {
            if (_registrations.TryGetValue(key, out registration)) return registration;
            if (_dropped.Contains(key.Incarnation)) return Registration.Nowhere;
            var region = SharedRegion.Open(ShmRegions.PathFor(Directory, Cluster, key), new RegionFileIdentity(Cluster, key));
            registration = new Registration(key, region, local: false);
            if (_retired.Contains(key.Incarnation)) registration.Retire();
            Volatile.Write(ref _registrations, new Dictionary<RegionKey, Registration>(_registrations) { [key] = registration });
            return registration;
        }
    }

    private void Add(RegionKey key, Registration registration)
    {
        lock (_registering)
        {
            if (_registrations.ContainsKey(key) || _dropped.Contains(key.Incarnation))
                throw new InvalidOperationException($"{key} is already registered: each incarnation registers fresh regions under its own key");
            if (_retired.Contains(key.Incarnation)) registration.Retire();
            Volatile.Write(ref _registrations, new Dictionary<RegionKey, Registration>(_registrations) { [key] = registration });
        }
    }

    private static readonly SlotSnapshot Empty = new(RegionMemory.NoOwner, null);

    private void Landed(Registration target)
    {
        if (target.Retired) Interlocked.Increment(ref _landedInRetired);
    }

    private sealed class Registration(RegionKey key, IRegion? region, bool local)
    {
        public static readonly Registration Nowhere = CreateNowhere();

        private volatile bool _retired;
        public RegionKey Key { get; } = key;
        public IRegion? Region { get; } = region;
        /// <summary>Registered by this process (its file is this process's to delete), not mapped from another's.</summary>
        public bool Local { get; } = local;
        public bool Retired => _retired;
        public void Retire() => _retired = true;

        /// <summary>
        /// Runs the operation on the region. A region unmapped here since the operation resolved it (its
        /// incarnation dropped) leads nowhere: the operation changes nothing and yields <paramref name="nowhere"/>.
        /// </summary>
        public T Apply<T>(Func<IRegion, int, T> operation, int slot, T nowhere)
        {
            if (Region is null) return nowhere;
            try
            {
                return operation(Region, slot);
            }
            catch (ObjectDisposedException)
            {
                return nowhere;
            }
        }

        public T Apply<T>(Func<IRegion, T> operation) where T : struct => Apply((r, _) => operation(r), 0, default(T));

        /// <summary>Unmaps the region here; a local shared region's file is deleted too.</summary>
        public void Release()
        {
            if (Region is not SharedRegion shared) return;
            if (Local) shared.DisposeAndDelete();
            else shared.Dispose();
        }

        private static Registration CreateNowhere()
        {
            var nowhere = new Registration(new RegionKey(-1, -1), null, local: false);
            nowhere.Retire();
            return nowhere;
        }
    }

    private sealed class Completion<T>(Action<object, T> onDone, object state, T result)
    {
        public static readonly Action<object> Deliver = static completion => ((Completion<T>)completion).Run();

        private void Run() => onDone(state, result);
    }
}
