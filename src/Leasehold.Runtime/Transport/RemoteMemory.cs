using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Transport;

/// <summary>
/// One-sided operations on other workers' regions. Each operation takes <see cref="OperationLatency"/>
/// of waiting time: it is parked, applied to the remote memory when it "arrives" (by the scheduler's
/// timer context, as a NIC would, without the remote executors), and its completion is posted to the
/// requester's mailbox. The requester is notified; it never polls.
/// <para>
/// Completions take a handler and a state object: with a handler bound once and a state the requester
/// has anyway, a zero-latency write allocates nothing and a read one small object.
/// </para>
/// </summary>
public sealed class RemoteMemory
{
    private static readonly Action<object, SlotContents> RunReadAction = static (done, contents) => ((Action<SlotContents>)done)(contents);
    private readonly IScheduler _scheduler;
    private readonly MemoryRegion[] _regions;
    private long _operations;

    public RemoteMemory(IScheduler scheduler, IReadOnlyList<MemoryRegion> regions, TimeSpan operationLatency)
    {
        _scheduler = scheduler;
        _regions = [.. regions];
        OperationLatency = operationLatency;
    }

    public TimeSpan OperationLatency { get; }
    public long Operations => Interlocked.Read(ref _operations);
    public MemoryRegion Region(int worker) => _regions[worker];

    public void Read(int region, int slot, Mailbox replyTo, Action<SlotContents> onDone) =>
        Read(region, slot, replyTo, RunReadAction, onDone);

    /// <summary>Reads flag and value in one operation; <paramref name="onDone"/>(<paramref name="state"/>, contents) runs on <paramref name="replyTo"/>.</summary>
    public void Read(int region, int slot, Mailbox replyTo, Action<object, SlotContents> onDone, object state)
    {
        var read = new PendingRead(this, region, slot, replyTo, onDone, state);
        Interlocked.Increment(ref _operations);
        if (OperationLatency <= TimeSpan.Zero) read.Apply();
        else _scheduler.After(OperationLatency, read.Apply);
    }

    /// <summary>
    /// A read that lands at once when operations take no time: the requester continues where it is, with no
    /// completion posted back to its own mailbox. False (nothing read) when the read must wait its latency.
    /// </summary>
    public bool TryReadAtOnce(int region, int slot, out SlotContents contents)
    {
        if (OperationLatency > TimeSpan.Zero)
        {
            contents = default;
            return false;
        }
        Interlocked.Increment(ref _operations);
        contents = _regions[region][slot].Read();
        return true;
    }

    /// <summary>Writes the value, then the flag, in one operation (the flag sits after the value in the slot).</summary>
    public void WriteValueThenFlag(int region, int slot, byte[]? value, int flag, Mailbox replyTo, Action onDone) =>
        WriteValueThenFlag(region, slot, value, flag, replyTo, MailboxItem.RunAction, onDone);

    public void WriteValueThenFlag(int region, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        Interlocked.Increment(ref _operations);
        if (OperationLatency <= TimeSpan.Zero) ApplyWriteValueThenFlag(region, slot, value, flag, replyTo, onDone, state);
        else _scheduler.After(OperationLatency, Deferred(region, slot, value, flag, replyTo, onDone, state));
    }

    public void WriteValue(int region, int slot, byte[]? value, Mailbox replyTo, Action onDone) =>
        Issue(() =>
        {
            _regions[region][slot].WriteValue(value);
            _scheduler.Post(replyTo, onDone);
        });

    public void WriteFlag(int region, int slot, int flag, Mailbox replyTo, Action onDone) =>
        WriteFlag(region, slot, flag, replyTo, MailboxItem.RunAction, onDone);

    public void WriteFlag(int region, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        Interlocked.Increment(ref _operations);
        if (OperationLatency <= TimeSpan.Zero) ApplyWriteFlag(region, slot, flag, replyTo, onDone, state);
        else _scheduler.After(OperationLatency, Deferred(region, slot, flag, replyTo, onDone, state));
    }

    public void CompareAndSwapFlag(int region, int slot, int expected, int desired, Mailbox replyTo, Action<bool> onDone) =>
        Issue(() =>
        {
            bool swapped = _regions[region][slot].CompareAndSwapFlag(expected, desired);
            _scheduler.Post(replyTo, () => onDone(swapped));
        });

    private void ApplyWriteValueThenFlag(int region, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        _regions[region][slot].WriteValueThenFlag(value, flag);
        _scheduler.Post(replyTo, onDone, state);
    }

    private void ApplyWriteFlag(int region, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state)
    {
        _regions[region][slot].WriteFlag(flag);
        _scheduler.Post(replyTo, onDone, state);
    }

    // The delayed forms build their closures here: a lambda in the caller would capture its parameters, and
    // the compiler would allocate that closure on every call, zero latency included.
    private Action Deferred(int region, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state) =>
        () => ApplyWriteValueThenFlag(region, slot, value, flag, replyTo, onDone, state);

    private Action Deferred(int region, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state) =>
        () => ApplyWriteFlag(region, slot, flag, replyTo, onDone, state);

    private void Issue(Action apply)
    {
        Interlocked.Increment(ref _operations);
        if (OperationLatency <= TimeSpan.Zero) apply();
        else _scheduler.After(OperationLatency, apply);
    }

    /// <summary>A read in flight: applied when it arrives, then posted to the requester as its own state.</summary>
    private sealed class PendingRead(RemoteMemory memory, int region, int slot, Mailbox replyTo, Action<object, SlotContents> onDone, object state)
    {
        private static readonly Action<object> Complete = static read => ((PendingRead)read).Deliver();
        private SlotContents _contents;

        public void Apply()
        {
            _contents = memory._regions[region][slot].Read();
            memory._scheduler.Post(replyTo, Complete, this);
        }

        private void Deliver() => onDone(state, _contents);
    }
}
