using System.Diagnostics.CodeAnalysis;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Worker.Lease;
using Leasehold.Runtime.Serializable.Worker.NoCC;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// A worker: it runs the workflows routed to it, caches the objects it holds leases on in its memory
/// region, keeps their operation chains, and serves other workers' operations on them. All its state is
/// owned by its mailbox; executors run bodies and post results back. This file holds batch intake and
/// the commit path, execution is in Worker.Execution.cs; the protocol that orders key accesses, lease or
/// nocc, is an <see cref="IWorkerProtocol"/> chosen once from <see cref="ClusterOptions.Protocol"/>.
/// </summary>
internal sealed partial class ClusterWorker : IWorkerInbox
{
    private readonly ClusterOptions _options;
    private readonly Network _network;
    private readonly IStateStore _store;
    private readonly ClusterCounters _counters;
    private readonly Generation _generation;
    private readonly Executor[] _executors;
    private readonly HashSet<Operation> _running = [];
    private bool _watchdogArmed;
    private readonly Dictionary<long, BatchState> _batches = [];
    private KeyState?[] _keys = new KeyState?[1024];
    private int[] _holderNow = [];
    private IDriverInbox? _driver;
    private long _nextToReport;
    private readonly IWorkerProtocol _protocol;

    public ClusterWorker(int id, ClusterOptions options, IScheduler scheduler, Network network, RemoteMemory memory,
        IStateStore store, ClusterCounters counters, Generation generation, long firstBatch)
    {
        _nextToReport = firstBatch;
        _generation = generation;
        Id = id;
        _options = options;
        Scheduler = scheduler;
        _network = network;
        _store = store;
        _counters = counters;
        Mailbox = scheduler.CreateMailbox($"worker-{id}#{generation.Number}");
        Region = memory.Region(id);
        _executors = new Executor[options.ExecutorsPerWorker];
        for (int i = 0; i < _executors.Length; i++) _executors[i] = new Executor(scheduler.CreateMailbox($"worker-{id}/executor-{i}"));
        _protocol = options.Protocol switch
        {
            ProtocolKind.Lease => new LeaseProtocol(this, options, network, memory, store, counters, generation),
            ProtocolKind.NoCC => new NoCCProtocol(this, network, memory, store, counters, generation),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Protocol, "unknown worker protocol"),
        };
    }

    public int Id { get; }
    public IScheduler Scheduler { get; }
    public Mailbox Mailbox { get; }
    public MemoryRegion Region { get; }
    /// <summary>This worker's protocol; a peer's protocol reaches its counterpart here through it.</summary>
    public IWorkerProtocol Protocol => _protocol;

    public void Connect(ClusterWorker[] peers, IDriverInbox driver)
    {
        _driver = driver;
        _protocol.Connect(peers);
    }

    /// <summary>Batches this worker has not yet reported (for tests that look for leaks).</summary>
    public int BatchesInFlight => _batches.Count;

    // ---- batch intake ----------------------------------------------------------------------------

    /// <summary>The driver's plan for batch b: the protocol applies its lease table and builds and starts the operations.</summary>
    public void OnPlan(BatchPlan plan)
    {
        var batch = BatchOf(plan.Id);
        if (batch.Plan is not null) throw new InvalidOperationException($"worker {Id}: batch {plan.Id} planned twice");
        batch.Plan = plan;
        _protocol.Plan(plan, batch);
    }

    /// <summary>The state of a batch not yet reported here, created by the first message for it.</summary>
    public BatchState BatchOf(long id)
    {
        if (!_batches.TryGetValue(id, out var batch))
        {
            if (id < _nextToReport) throw new InvalidOperationException($"worker {Id}: message for batch {id}, already reported");
            _batches.Add(id, batch = new BatchState(id));
        }
        return batch;
    }

    /// <summary>A batch in flight here (planned or told of by a peer, not yet reported).</summary>
    public BatchState Batch(long id) => _batches[id];

    public bool TryGetBatch(long id, [MaybeNullWhen(false)] out BatchState batch) => _batches.TryGetValue(id, out batch);

    public KeyState KeyOf(int id, StateKey key)
    {
        if (id >= _keys.Length) Array.Resize(ref _keys, Math.Max(id + 1, _keys.Length * 2));
        return _keys[id] ??= new KeyState(id, key);
    }

    public KeyState KeyOf(int id) => _keys[id] ?? throw new InvalidOperationException($"worker {Id}: no state for key {id}");

    public void SetHolder(int keyId, int holder)
    {
        if (keyId >= _holderNow.Length) Array.Resize(ref _holderNow, Math.Max(keyId + 1, Math.Max(1024, _holderNow.Length * 2)));
        _holderNow[keyId] = holder;
    }

    /// <summary>Creates the operations of a request routed here, holders resolved from the batch's lease table.</summary>
    public Operation[] BuildOperations(Request request)
    {
        var functions = request.Workflow.Functions;
        var ops = new Operation[functions.Count];
        for (int f = 0; f < ops.Length; f++)
        {
            var accesses = request.Accesses[f];
            var holders = new int[accesses.Length];
            for (int a = 0; a < accesses.Length; a++)
            {
                holders[a] = _holderNow[accesses[a].KeyId];
                _counters.Access(holders[a] == Id);
            }
            ops[f] = new Operation(request, f, accesses, holders);
        }
        request.Operations = ops;
        request.Outputs = new byte[]?[ops.Length];
        request.OperationsOutstanding = ops.Length;
        request.FunctionsRemaining = ops.Length;
        request.MayAbortRemaining = request.Workflow.MayAbortCount;
        return ops;
    }

    // ---- end of batch and commit ---------------------------------------------------------------------

    /// <summary>One of the batch's open items (chain entry, request, pending outcome) is done here.</summary>
    public void Retire(long batchId)
    {
        var batch = _batches[batchId];
        if (--batch.Open < 0) throw new InvalidOperationException($"worker {Id}: batch {batchId} retired more than it opened");
        if (batch.Open == 0) TryReport();
    }

    /// <summary>
    /// Reports finished batches to the driver, strictly in batch order: each writes the values it
    /// dirtied, as they stood when its execution ended here, in one store write, then tells the driver.
    /// </summary>
    public void TryReport()
    {
        while (_batches.TryGetValue(_nextToReport, out var batch) && !batch.Reported && _protocol.IsFinished(batch))
        {
            batch.Reported = true;
            var writes = _protocol.WriteSet(batch);
            long id = batch.Id;
            _nextToReport++;
            if (writes.Count == 0) ReportExecuted(id);
            else
            {
                _generation.Call(() => _store.WriteVersionsAsync(id, writes), Mailbox, () => ReportExecuted(id),
                    e => ReportStoreFailure($"worker {Id} could not write batch {id} to the {_store.Name} store: {e.Message}"));
            }
        }
    }

    /// <summary>The store failed under us: the driver rolls the cluster back to the last commit (§7).</summary>
    public void ReportStoreFailure(string reason)
    {
        var driver = _driver!;
        _network.Send(Mailbox, driver.Mailbox, () => driver.Fail(reason, commitInDoubt: null));
    }

    private void ReportExecuted(long batchId)
    {
        _batches.Remove(batchId);
        var driver = _driver!;
        _network.Send(Mailbox, driver.Mailbox, () => driver.OnWorkerExecuted(batchId, Id));
    }
}
