using Leasehold.Runtime.Scheduling;

namespace Leasehold.Benchmarks;

/// <summary>
/// The least a scheduler can do: run posted work and timers at once, on the caller's thread. Used to
/// separate the cost of <c>RemoteMemory</c> itself from the cost of a real scheduler's queues.
/// </summary>
internal sealed class InlineScheduler : IScheduler
{

    public TimeProvider Time => TimeProvider.System;
    public Exception? Fault => null;

    public Mailbox CreateMailbox(string name) => new(this, name);

    public void Post(Mailbox mailbox, Action work) => work();

    public void After(TimeSpan delay, Action action) => action();
}
