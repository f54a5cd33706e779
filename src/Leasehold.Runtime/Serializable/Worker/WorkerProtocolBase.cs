using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// What a protocol reaches: its worker's engine and region, the node's network, one-sided memory and
/// store, and the same protocol on the other workers, typed, so a message names its handler directly.
/// </summary>
internal abstract class WorkerProtocolBase<TPeer> where TPeer : class, IWorkerProtocol
{
    protected readonly ClusterWorker _worker;
    protected readonly Network _network;
    protected readonly RemoteMemory _memory;
    protected readonly IStateStore _store;
    protected readonly ClusterCounters _counters;
    protected readonly Generation _generation;
    protected TPeer[] _peers = [];

    protected WorkerProtocolBase(ClusterWorker worker, Network network, RemoteMemory memory, IStateStore store,
        ClusterCounters counters, Generation generation)
    {
        _worker = worker;
        _network = network;
        _memory = memory;
        _store = store;
        _counters = counters;
        _generation = generation;
        Id = worker.Id;
        Mailbox = worker.Mailbox;
        Region = worker.Region;
    }

    public int Id { get; }
    public Mailbox Mailbox { get; }
    protected MemoryRegion Region { get; }

    public void Connect(ClusterWorker[] peers) =>
        _peers = Array.ConvertAll(peers, p => p.Protocol as TPeer
            ?? throw new InvalidOperationException($"worker {Id}: peer {p.Id} runs {p.Protocol.GetType().Name}, not {typeof(TPeer).Name}"));
}
