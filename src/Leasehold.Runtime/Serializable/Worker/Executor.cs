using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// One executor of a worker: a mailbox that runs bodies one at a time. A body that overruns its time
/// limit cannot be killed, so the worker replaces its executor with a fresh one and abandons it.
/// </summary>
internal sealed class Executor(Mailbox mailbox)
{
    public Mailbox Mailbox { get; } = mailbox;
    /// <summary>Operations dispatched here and not yet returned.</summary>
    public int Queued;
}
