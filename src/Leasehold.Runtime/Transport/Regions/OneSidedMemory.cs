using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Transport.Regions;

/// <summary>
/// One-sided operations on registered regions, addressed by <see cref="RegionKey"/> and slot. Each operation
/// takes <see cref="OperationLatency"/> of waiting time: it is applied to the target region when it "arrives",
/// by the scheduler's timer context outside every mailbox (as a NIC would, without the target's executors),
/// or inline when operations take no time; its completion is then posted to the requester's mailbox.
/// <para>
/// Completions take a handler and a state object: with a handler bound once and a state the requester has
/// anyway, a zero-latency write allocates nothing, and a read its copy and one small completion.
/// </para>
/// <para>
/// <b>Rotation.</b> An operation through a retired key still lands in the retired region and completes as a
/// success: a fenced process can only write into memory nobody reads, as after an RDMA fence. An operation
/// through a key never registered is a bug in the caller, not a network event, so it throws at issue
/// (<see cref="UnknownRegionKeyException"/>): from protocol code, running on a mailbox, that becomes the
/// scheduler's <see cref="IScheduler.Fault"/> and voids the run, and no completion ever carries a status
/// every caller would have to check.
/// </para>
/// <para>
/// <b>Dropping.</b> A retired incarnation's regions are freed by <see cref="DropIncarnation"/>. From then on
/// its keys lead nowhere: an operation through one completes as a success that changed nothing, and a read
/// sees an empty slot (<see cref="RegionMemory.NoOwner"/>, null). RDMA would fail such an operation instead;
/// here only a fenced process can still hold the key, and whatever it concludes is refused anyway, so a
/// failure would add a status every caller must check and protect nothing.
/// </para>
/// </summary>
public sealed class OneSidedMemory(IScheduler scheduler, TimeSpan operationLatency) : IOneSided
{
    private readonly Lock _registering = new();
    /// <summary>Copied on every registration, which is rare; operations read it without a lock.</summary>
    private Dictionary<RegionKey, Registration> _registrations = [];
    /// <summary>Incarnations whose regions were dropped: their keys lead <see cref="Registration.Nowhere"/>. Copied on write, like the registrations.</summary>
    private HashSet<int> _dropped = [];
    private long _operations, _landedInRetired;

    public TimeSpan OperationLatency { get; } = operationLatency;

    /// <summary>Operations issued.</summary>
    public long Operations => Interlocked.Read(ref _operations);

    /// <summary>Operations that landed in a retired region (a fenced incarnation's late work).</summary>
    public long LandedInRetired => Interlocked.Read(ref _landedInRetired);

    public void Register(RegionKey key, IRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        lock (_registering)
        {
            if (_registrations.ContainsKey(key) || _dropped.Contains(key.Incarnation))
                throw new InvalidOperationException($"{key} is already registered: each incarnation registers fresh regions under its own key");
            Volatile.Write(ref _registrations, new Dictionary<RegionKey, Registration>(_registrations) { [key] = new Registration(key, region) });
        }
    }

    /// <summary>
    /// Retires one key. Its region stays registered, memory and all, so operations still in flight or issued
    /// later land there unseen, until <see cref="DropIncarnation"/> frees it.
    /// </summary>
    public void Retire(RegionKey key) => Find(key).Retire();

    /// <summary>Retires every key registered by <paramref name="incarnation"/>; the number retired.</summary>
    public int RetireIncarnation(int incarnation)
    {
        int retired = 0;
        foreach (var registration in Volatile.Read(ref _registrations).Values)
        {
            if (registration.Key.Incarnation != incarnation) continue;
            registration.Retire();
            retired++;
        }
        return retired;
    }

    public bool IsRetired(RegionKey key) => Find(key).Retired;

    /// <summary>
    /// Frees the regions of <paramref name="incarnation"/>, which must all be retired: nothing references them
    /// here any more, and an operation already in flight finishes on the region it resolved at issue. Later
    /// operations through its keys lead nowhere (see the class remarks). The number of regions dropped.
    /// </summary>
    public int DropIncarnation(int incarnation)
    {
        lock (_registering)
        {
            var kept = new Dictionary<RegionKey, Registration>(_registrations.Count);
            int dropped = 0;
            foreach (var (key, registration) in _registrations)
            {
                if (key.Incarnation != incarnation) kept.Add(key, registration);
                else if (!registration.Retired) throw new InvalidOperationException($"{key} is still in service: retire an incarnation before dropping its regions");
                else dropped++;
            }
            Volatile.Write(ref _registrations, kept);
            Volatile.Write(ref _dropped, new HashSet<int>(_dropped) { incarnation });
            return dropped;
        }
    }

    /// <summary>Whether <paramref name="key"/> leads to a region (in service or retired), not nowhere.</summary>
    public bool HoldsRegion(RegionKey key) => Volatile.Read(ref _registrations).ContainsKey(key);

    /// <summary>Regions registered and not dropped, in service or retired.</summary>
    public int RegionCount => Volatile.Read(ref _registrations).Count;

    /// <summary>Reads the flag and a copy of the value in one operation; <paramref name="onDone"/>(<paramref name="state"/>, snapshot) runs on <paramref name="replyTo"/>.</summary>
    public void Read(RegionKey key, int slot, Mailbox replyTo, Action<object, SlotSnapshot> onDone, object state)
    {
        var target = Issue(key, slot);
        if (OperationLatency <= TimeSpan.Zero) ApplyRead(target, slot, replyTo, onDone, state);
        else scheduler.After(OperationLatency, LaterRead(target, slot, replyTo, onDone, state));
    }

    /// <summary>
    /// A read that lands at once when operations take no time: the requester continues where it is, with no
    /// completion posted back to its own mailbox. False (nothing read) when the read must wait its latency.
    /// </summary>
    public bool TryReadAtOnce(RegionKey key, int slot, out SlotSnapshot snapshot)
    {
        if (OperationLatency > TimeSpan.Zero)
        {
            snapshot = default;
            return false;
        }
        var target = Issue(key, slot);
        snapshot = target.Region?.Read(slot) ?? Empty;
        Landed(target);
        return true;
    }

    /// <summary>
    /// Writes the value, then the flag, in one operation. The region copies <paramref name="value"/> when the
    /// operation lands: the caller must not change the array before its completion runs.
    /// </summary>
    public void WriteValueThenFlag(RegionKey key, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        var target = Issue(key, slot, value);
        if (OperationLatency <= TimeSpan.Zero) ApplyWriteValueThenFlag(target, slot, value, flag, replyTo, onDone, state);
        else scheduler.After(OperationLatency, LaterWriteValueThenFlag(target, slot, value, flag, replyTo, onDone, state));
    }

    /// <summary>Writes the value and leaves the flag; the array is copied when the operation lands.</summary>
    public void WriteValue(RegionKey key, int slot, byte[]? value, Mailbox replyTo, Action<object> onDone, object state)
    {
        var target = Issue(key, slot, value);
        if (OperationLatency <= TimeSpan.Zero) ApplyWriteValue(target, slot, value, replyTo, onDone, state);
        else scheduler.After(OperationLatency, LaterWriteValue(target, slot, value, replyTo, onDone, state));
    }

    public void WriteFlag(RegionKey key, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        var target = Issue(key, slot);
        if (OperationLatency <= TimeSpan.Zero) ApplyWriteFlag(target, slot, flag, replyTo, onDone, state);
        else scheduler.After(OperationLatency, LaterWriteFlag(target, slot, flag, replyTo, onDone, state));
    }

    /// <summary>Sets the flag to <paramref name="desired"/> if it is <paramref name="expected"/>; the completion gets whether it did.</summary>
    public void CompareAndSwapFlag(RegionKey key, int slot, int expected, int desired, Mailbox replyTo, Action<object, bool> onDone, object state)
    {
        var target = Issue(key, slot);
        if (OperationLatency <= TimeSpan.Zero) ApplyCompareAndSwapFlag(target, slot, expected, desired, replyTo, onDone, state);
        else scheduler.After(OperationLatency, LaterCompareAndSwapFlag(target, slot, expected, desired, replyTo, onDone, state));
    }

    /// <summary>Adds <paramref name="delta"/> to the slot's sequence; the completion gets the sequence before the addition.</summary>
    public void FetchAndAdd(RegionKey key, int slot, ulong delta, Mailbox replyTo, Action<object, ulong> onDone, object state)
    {
        var target = Issue(key, slot);
        if (OperationLatency <= TimeSpan.Zero) ApplyFetchAndAdd(target, slot, delta, replyTo, onDone, state);
        else scheduler.After(OperationLatency, LaterFetchAndAdd(target, slot, delta, replyTo, onDone, state));
    }







    private void ApplyRead(Registration target, int slot, Mailbox replyTo, Action<object, SlotSnapshot> onDone, object state)
    {
        var snapshot = target.Region?.Read(slot) ?? Empty;
        Landed(target);
        scheduler.Post(replyTo, Completion<SlotSnapshot>.Deliver, new Completion<SlotSnapshot>(onDone, state, snapshot));
    }

    private void ApplyWriteValueThenFlag(Registration target, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        target.Region?.WriteValueThenFlag(slot, value, flag);
        Landed(target);
        scheduler.Post(replyTo, onDone, state);
    }

    private void ApplyWriteValue(Registration target, int slot, byte[]? value, Mailbox replyTo, Action<object> onDone, object state)
    {
        target.Region?.WriteValue(slot, value);
        Landed(target);
        scheduler.Post(replyTo, onDone, state);
    }

    private void ApplyWriteFlag(Registration target, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        target.Region?.WriteFlag(slot, flag);
        Landed(target);
        scheduler.Post(replyTo, onDone, state);
    }

    private void ApplyCompareAndSwapFlag(Registration target, int slot, int expected, int desired, Mailbox replyTo, Action<object, bool> onDone, object state)
    {
        bool swapped = target.Region?.CompareAndSwapFlag(slot, expected, desired) ?? false;
        Landed(target);
        scheduler.Post(replyTo, Completion<bool>.Deliver, new Completion<bool>(onDone, state, swapped));
    }

    private void ApplyFetchAndAdd(Registration target, int slot, ulong delta, Mailbox replyTo, Action<object, ulong> onDone, object state)
    {
        ulong old = target.Region?.FetchAndAdd(slot, delta) ?? 0;
        Landed(target);
        scheduler.Post(replyTo, Completion<ulong>.Deliver, new Completion<ulong>(onDone, state, old));
    }

    // The delayed forms build their closures here: a lambda in the public methods would capture their
    // parameters, and the compiler would allocate that closure on every call, zero latency included.
    private Action LaterRead(Registration target, int slot, Mailbox replyTo, Action<object, SlotSnapshot> onDone, object state) =>
        () => ApplyRead(target, slot, replyTo, onDone, state);

    private Action LaterWriteValueThenFlag(Registration target, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state) =>
        () => ApplyWriteValueThenFlag(target, slot, value, flag, replyTo, onDone, state);

    private Action LaterWriteValue(Registration target, int slot, byte[]? value, Mailbox replyTo, Action<object> onDone, object state) =>
        () => ApplyWriteValue(target, slot, value, replyTo, onDone, state);

    private Action LaterWriteFlag(Registration target, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state) =>
        () => ApplyWriteFlag(target, slot, flag, replyTo, onDone, state);

    private Action LaterCompareAndSwapFlag(Registration target, int slot, int expected, int desired, Mailbox replyTo, Action<object, bool> onDone, object state) =>
        () => ApplyCompareAndSwapFlag(target, slot, expected, desired, replyTo, onDone, state);

    private Action LaterFetchAndAdd(Registration target, int slot, ulong delta, Mailbox replyTo, Action<object, ulong> onDone, object state) =>
        () => ApplyFetchAndAdd(target, slot, delta, replyTo, onDone, state);

    /// <summary>
    /// The registration an operation goes to, resolved when it is issued: a key retired while the operation is
    /// in flight still reaches its (now retired) region. A negative slot or an oversized value is refused here,
    /// before anything is scheduled, so the caller sees the error at its call.
    /// </summary>
    private Registration Issue(RegionKey key, int slot, byte[]? value = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        var target = Find(key);
        target.Region?.CheckValueSize(value);
        Interlocked.Increment(ref _operations);
        return target;
    }

    private Registration Find(RegionKey key)
    {
        if (Volatile.Read(ref _registrations).TryGetValue(key, out var registration)) return registration;
        if (Volatile.Read(ref _dropped).Contains(key.Incarnation)) return Registration.Nowhere;
        throw new UnknownRegionKeyException(key);
    }

    private static readonly SlotSnapshot Empty = new(RegionMemory.NoOwner, null);

    private void Landed(Registration target)
    {
        if (target.Retired) Interlocked.Increment(ref _landedInRetired);
    }

    private sealed class Registration(RegionKey key, IRegion? region)
    {
        /// <summary>Where a dropped incarnation's keys lead: retired, with no memory behind it.</summary>
        public static readonly Registration Nowhere = CreateNowhere();

        private volatile bool _retired;
        public RegionKey Key { get; } = key;
        /// <summary>Null only for <see cref="Nowhere"/>.</summary>
        public IRegion? Region { get; } = region;
        public bool Retired => _retired;
        public void Retire() => _retired = true;

        private static Registration CreateNowhere()
        {
            var nowhere = new Registration(new RegionKey(-1, -1), null);
            nowhere.Retire();
            return nowhere;
        }
    }

    /// <summary>A result on its way to the requester's mailbox, posted as its own state.</summary>
    private sealed class Completion<T>(Action<object, T> onDone, object state, T result)
    {
        public static readonly Action<object> Deliver = static completion => ((Completion<T>)completion).Run();

        private void Run() => onDone(state, result);
    }
}
