using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// What a protocol reaches: its worker's engine and region, the node's endpoint and one-sided memory, and
/// the store. Other workers it knows only by index: it sends them messages, and reaches their regions only
/// through one-sided operations on their keys for this incarnation (<see cref="RegionOf"/>).
/// </summary>
internal abstract class WorkerProtocolBase
{
    protected readonly ClusterWorker _worker;
    protected readonly Endpoint _endpoint;
    protected readonly IOneSided _memory;
    protected readonly IStateStore _store;
    protected readonly ClusterCounters _counters;
    protected readonly Generation _generation;
    /// <summary>The workers of the cluster, this one included.</summary>
    protected readonly int _workers;

    protected WorkerProtocolBase(ClusterWorker worker, Endpoint endpoint, IOneSided memory, IStateStore store,
        ClusterCounters counters, Generation generation)
    {
        _worker = worker;
        _endpoint = endpoint;
        _memory = memory;
        _store = store;
        _counters = counters;
        _generation = generation;
        _workers = worker.Workers;
        Id = worker.Id;
        Mailbox = worker.Mailbox;
        Region = worker.Region;
    }

    public int Id { get; }
    public Mailbox Mailbox { get; }
    /// <summary>This worker's own region: it touches its slots directly, never through one-sided operations.</summary>
    protected IRegion Region { get; }

    /// <summary>
    /// The key of worker <paramref name="worker"/>'s region in this incarnation. Once the incarnation is
    /// superseded, that key is retired: whatever this (fenced) worker still writes lands where nobody reads.
    /// </summary>
    protected RegionKey RegionOf(int worker) => new(worker, _generation.Number);
}
