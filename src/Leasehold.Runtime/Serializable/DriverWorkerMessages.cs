using Leasehold.Runtime.Scheduling;

namespace Leasehold.Runtime.Serializable;

/// <summary>
/// What a worker may tell its driver: the messages of the driver–worker boundary, delivered on
/// <see cref="Mailbox"/>. Workers know their driver only through this, so the two sides stay separable.
/// </summary>
internal interface IDriverInbox
{
    Mailbox Mailbox { get; }

    /// <summary>The worker finished executing its part of batch <paramref name="batchId"/>.</summary>
    void OnWorkerExecuted(long batchId, int worker);

    /// <summary>The store failed under the worker: the driver rolls the cluster back (§7).</summary>
    void Fail(string reason, long? commitInDoubt, bool fenced = false);
}

/// <summary>What a driver may tell a worker: the messages of the driver–worker boundary, delivered on <see cref="Mailbox"/>.</summary>
internal interface IWorkerInbox
{
    Mailbox Mailbox { get; }

    /// <summary>The worker's share of a batch: its requests and the batch's lease table.</summary>
    void OnPlan(BatchPlan plan);
}
