using Leasehold.Runtime.Serializable.Driver;

namespace Leasehold.Runtime.Serializable;

/// <summary>What the driver sends each worker for a batch: the requests routed to it and the batch's whole lease table.</summary>
internal sealed class BatchPlan(long id, long firstTs, DateTimeOffset time, Request[] requests, LeaseEntry[] leases)
{
    public long Id { get; } = id;
    /// <summary>The lowest timestamp in the batch: lease transitions sort just before it.</summary>
    public long FirstTs { get; } = firstTs;
    public DateTimeOffset Time { get; } = time;
    public Request[] Requests { get; } = requests;
    public LeaseEntry[] Leases { get; } = leases;
}
