using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Transport.Regions;

/// <summary>
/// The one-sided operations protocol code issues on registered regions, addressed by <see cref="RegionKey"/>
/// and slot. <see cref="OneSidedMemory"/> applies them in place; <see cref="SerialisingOneSided"/> carries
/// each through the wire codec first. Latency, ordering and rotation are <see cref="OneSidedMemory"/>'s
/// (see there): an operation lands after <see cref="OperationLatency"/> outside every mailbox, its completion
/// runs on the requester's mailbox, and one through a retired key lands unseen and reports success.
/// </summary>
public interface IOneSided
{
    TimeSpan OperationLatency { get; }

    /// <summary>Operations issued.</summary>
    long Operations { get; }

    /// <summary>Operations that landed in a retired region (a fenced incarnation's late work).</summary>
    long LandedInRetired { get; }

    void Register(RegionKey key, IRegion region);

    void Retire(RegionKey key);

    /// <summary>Retires every key registered by <paramref name="incarnation"/>; the number retired.</summary>
    int RetireIncarnation(int incarnation);

    bool IsRetired(RegionKey key);

    /// <summary>Frees the regions of a retired <paramref name="incarnation"/>: later operations through its keys lead nowhere. The number dropped.</summary>
    int DropIncarnation(int incarnation);

    /// <summary>Whether <paramref name="key"/> leads to a region (in service or retired), not nowhere.</summary>
    bool HoldsRegion(RegionKey key);

    /// <summary>Regions registered and not dropped, in service or retired.</summary>
    int RegionCount { get; }

    /// <summary>Reads the flag and a copy of the value in one operation; <paramref name="onDone"/>(<paramref name="state"/>, snapshot) runs on <paramref name="replyTo"/>.</summary>
    void Read(RegionKey key, int slot, Mailbox replyTo, Action<object, SlotSnapshot> onDone, object state);

    /// <summary>A read that lands at once when operations take no time, with no completion posted; false (nothing read) otherwise.</summary>
    bool TryReadAtOnce(RegionKey key, int slot, out SlotSnapshot snapshot);

    /// <summary>Writes the value, then the flag, in one operation; the caller must not change the array before its completion runs.</summary>
    void WriteValueThenFlag(RegionKey key, int slot, byte[]? value, int flag, Mailbox replyTo, Action<object> onDone, object state);

    void WriteValue(RegionKey key, int slot, byte[]? value, Mailbox replyTo, Action<object> onDone, object state);

    void WriteFlag(RegionKey key, int slot, int flag, Mailbox replyTo, Action<object> onDone, object state);

    /// <summary>Sets the flag to <paramref name="desired"/> if it is <paramref name="expected"/>; the completion gets whether it did.</summary>
    void CompareAndSwapFlag(RegionKey key, int slot, int expected, int desired, Mailbox replyTo, Action<object, bool> onDone, object state);

    /// <summary>Adds <paramref name="delta"/> to the slot's sequence; the completion gets the sequence before the addition.</summary>
    void FetchAndAdd(RegionKey key, int slot, ulong delta, Mailbox replyTo, Action<object, ulong> onDone, object state);
}

/// <summary>
/// Closure forms of the one-sided operations, for callers off the hot path: the delegate is the state, run by a
/// handler bound once. One definition for every <see cref="IOneSided"/>.
/// </summary>
public static class OneSidedClosures
{
    public static void Read(this IOneSided memory, RegionKey key, int slot, Mailbox replyTo, Action<SlotSnapshot> onDone) =>
        memory.Read(key, slot, replyTo, Run<SlotSnapshot>.Action, onDone);

    public static void WriteValueThenFlag(this IOneSided memory, RegionKey key, int slot, byte[]? value, int flag, Mailbox replyTo, Action onDone) =>
        memory.WriteValueThenFlag(key, slot, value, flag, replyTo, MailboxItem.RunAction, onDone);

    public static void WriteValue(this IOneSided memory, RegionKey key, int slot, byte[]? value, Mailbox replyTo, Action onDone) =>
        memory.WriteValue(key, slot, value, replyTo, MailboxItem.RunAction, onDone);

    public static void WriteFlag(this IOneSided memory, RegionKey key, int slot, int flag, Mailbox replyTo, Action onDone) =>
        memory.WriteFlag(key, slot, flag, replyTo, MailboxItem.RunAction, onDone);

    public static void CompareAndSwapFlag(this IOneSided memory, RegionKey key, int slot, int expected, int desired, Mailbox replyTo, Action<bool> onDone) =>
        memory.CompareAndSwapFlag(key, slot, expected, desired, replyTo, Run<bool>.Action, onDone);

    public static void FetchAndAdd(this IOneSided memory, RegionKey key, int slot, ulong delta, Mailbox replyTo, Action<ulong> onDone) =>
        memory.FetchAndAdd(key, slot, delta, replyTo, Run<ulong>.Action, onDone);

    /// <summary>The handler that runs a closure completion passed as the state.</summary>
    internal static class Run<T>
    {
        public static readonly Action<object, T> Action = static (onDone, result) => ((Action<T>)onDone)(result);
    }
}
