using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Transport;

/// <summary>
/// One-sided operations on other workers' regions. Each operation takes <see cref="OperationLatency"/>
/// of waiting time: it is parked, applied to the remote memory when it "arrives" (by the scheduler's
/// timer context, as a NIC would, without the remote executors), and its completion is posted to the
/// requester's mailbox. The requester is notified; it never polls.
/// </summary>
public sealed class RemoteMemory
{
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
        Issue(() =>
        {
            var contents = _regions[region][slot].Read();
            _scheduler.Post(replyTo, () => onDone(contents));
        });

    /// <summary>Writes the value, then the flag, in one operation (the flag sits after the value in the slot).</summary>
    public void WriteValueThenFlag(int region, int slot, byte[]? value, int flag, Mailbox replyTo, Action onDone) =>
        Issue(() =>
        {
            _regions[region][slot].WriteValueThenFlag(value, flag);
            _scheduler.Post(replyTo, onDone);
        });

    public void WriteValue(int region, int slot, byte[]? value, Mailbox replyTo, Action onDone) =>
        Issue(() =>
        {
            _regions[region][slot].WriteValue(value);
            _scheduler.Post(replyTo, onDone);
        });

    public void WriteFlag(int region, int slot, int flag, Mailbox replyTo, Action onDone) =>
        Issue(() =>
        {
            _regions[region][slot].WriteFlag(flag);
            _scheduler.Post(replyTo, onDone);
        });

    public void CompareAndSwapFlag(int region, int slot, int expected, int desired, Mailbox replyTo, Action<bool> onDone) =>
        Issue(() =>
        {
            bool swapped = _regions[region][slot].CompareAndSwapFlag(expected, desired);
            _scheduler.Post(replyTo, () => onDone(swapped));
        });

    private void Issue(Action apply)
    {
        Interlocked.Increment(ref _operations);
        if (OperationLatency <= TimeSpan.Zero) apply();
        else _scheduler.After(OperationLatency, apply);
    }
}
