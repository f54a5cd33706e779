using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Transport.Conformance;

/// <summary>One-sided operations as tasks, their completions run on <c>replyTo</c> and handed to the test thread.</summary>
internal static class OneSidedTasks
{
    public static Task<SlotSnapshot> ReadAsync(this IOneSided memory, RegionKey key, int slot, Mailbox replyTo)
    {
        var done = new TaskCompletionSource<SlotSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        memory.Read(key, slot, replyTo, static (s, r) => ((TaskCompletionSource<SlotSnapshot>)s).SetResult(r), done);
        return done.Task;
    }

    public static Task<bool> CompareAndSwapAsync(this IOneSided memory, RegionKey key, int slot, int expected, int desired, Mailbox replyTo)
    {
        var done = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        memory.CompareAndSwapFlag(key, slot, expected, desired, replyTo, static (s, r) => ((TaskCompletionSource<bool>)s).SetResult(r), done);
        return done.Task;
    }

    public static Task<ulong> FetchAndAddAsync(this IOneSided memory, RegionKey key, int slot, ulong delta, Mailbox replyTo)
    {
        var done = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        memory.FetchAndAdd(key, slot, delta, replyTo, static (s, r) => ((TaskCompletionSource<ulong>)s).SetResult(r), done);
        return done.Task;
    }

    public static Task WriteValueThenFlagAsync(this IOneSided memory, RegionKey key, int slot, byte[]? value, int flag, Mailbox replyTo)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        memory.WriteValueThenFlag(key, slot, value, flag, replyTo, static s => ((TaskCompletionSource)s).SetResult(), done);
        return done.Task;
    }
}

/// <summary>A node's sink that keeps what it received, for a test thread to read.</summary>
internal sealed class Recorder : IMessageSink
{
    private readonly List<Message> _received = [];
    private readonly Lock _gate = new();
    private TaskCompletionSource? _reached;
    private int _target = int.MaxValue;

    public void Receive(Message message)
    {
        TaskCompletionSource? reached = null;
        lock (_gate)
        {
            _received.Add(message);
            if (_received.Count >= _target) reached = _reached;
        }
        reached?.TrySetResult();
    }

    public IReadOnlyList<Message> Received
    {
        get { lock (_gate) return _received.ToArray(); }
    }

    public Task Reached(int count)
    {
        lock (_gate)
        {
            _target = count;
            _reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_received.Count >= count) _reached.TrySetResult();
            return _reached.Task;
        }
    }
}
