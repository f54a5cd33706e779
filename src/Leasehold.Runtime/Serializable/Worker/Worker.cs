using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// A worker: it runs the workflows routed to it, caches the objects it holds leases on in its memory
/// region, keeps their operation chains, and serves other workers' operations on them. All its state is
/// owned by its mailbox; executors run bodies and post results back. This file holds batch intake and
/// the commit path; the protocols live in Worker.Lease.cs and Worker.NoCC.cs, execution in
/// Worker.Execution.cs.
/// </summary>
internal sealed partial class ClusterWorker : IWorkerInbox
{
    private readonly ClusterOptions _options;
    private readonly Network _network;
    private readonly RemoteMemory _memory;
    private readonly IStateStore _store;
    private readonly ClusterCounters _counters;
    private readonly Generation _generation;
    private readonly Executor[] _executors;
    private readonly HashSet<Operation> _running = [];
    private bool _watchdogArmed;
    private readonly Dictionary<long, BatchState> _batches = [];
    private KeyState?[] _keys = new KeyState?[1024];
    private int[] _holderNow = [];
    private ClusterWorker[] _peers = [];
    private IDriverInbox? _driver;
    private long _nextToReport;
    private readonly Handlers _handlers;

    public ClusterWorker(int id, ClusterOptions options, IScheduler scheduler, Network network, RemoteMemory memory,
        IStateStore store, ClusterCounters counters, Generation generation, long firstBatch)
    {
        _nextToReport = firstBatch;
        _handlers = new Handlers(this);
        _generation = generation;
        Id = id;
        _options = options;
        Scheduler = scheduler;
        _network = network;
        _memory = memory;
        _store = store;
        _counters = counters;
        Mailbox = scheduler.CreateMailbox($"worker-{id}#{generation.Number}");
        Region = memory.Region(id);
        _executors = new Executor[options.ExecutorsPerWorker];
        for (int i = 0; i < _executors.Length; i++) _executors[i] = new Executor(scheduler.CreateMailbox($"worker-{id}/executor-{i}"));
    }

    public int Id { get; }
    public IScheduler Scheduler { get; }
    public Mailbox Mailbox { get; }
    public MemoryRegion Region { get; }
    private bool IsLease => _options.Protocol == ProtocolKind.Lease;

    public void Connect(ClusterWorker[] peers, IDriverInbox driver)
    {
        _peers = peers;
        _driver = driver;
    }

    /// <summary>Batches this worker has not yet reported (for tests that look for leaks).</summary>
    public int BatchesInFlight => _batches.Count;

    // ---- batch intake ----------------------------------------------------------------------------

    /// <summary>The driver's plan for batch b: apply its lease table, build the operations, send records to leaseholders.</summary>
    public void OnPlan(BatchPlan plan)
    {
        var batch = BatchOf(plan.Id);
        if (batch.Plan is not null) throw new InvalidOperationException($"worker {Id}: batch {plan.Id} planned twice");
        batch.Plan = plan;
        if (IsLease) PlanLease(plan, batch);
        else PlanNoCC(plan, batch);
    }

    private BatchState BatchOf(long id)
    {
        if (!_batches.TryGetValue(id, out var batch))
        {
            if (id < _nextToReport) throw new InvalidOperationException($"worker {Id}: message for batch {id}, already reported");
            _batches.Add(id, batch = new BatchState(id));
        }
        return batch;
    }

    private KeyState KeyOf(int id, StateKey key)
    {
        if (id >= _keys.Length) Array.Resize(ref _keys, Math.Max(id + 1, _keys.Length * 2));
        return _keys[id] ??= new KeyState(id, key);
    }

    private KeyState KeyOf(int id) => _keys[id] ?? throw new InvalidOperationException($"worker {Id}: no state for key {id}");

    private void SetHolder(int keyId, int holder)
    {
        if (keyId >= _holderNow.Length) Array.Resize(ref _holderNow, Math.Max(keyId + 1, Math.Max(1024, _holderNow.Length * 2)));
        _holderNow[keyId] = holder;
    }

    /// <summary>Creates the operations of a request routed here, holders resolved from the batch's lease table.</summary>
    private Operation[] BuildOperations(Request request)
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

    /// <summary>A write of this workflow must still be held back from later workflows (the outcome barrier).</summary>
    private bool HoldsWrites(Request request) =>
        request.Outcome is null
        && (_options.WriteGating == WriteGating.Strict || request.MayAbortRemaining > 0 || request.PendingFailure is not null);

    // ---- end of batch and commit ---------------------------------------------------------------------

    private void Retire(long batchId)
    {
        var batch = _batches[batchId];
        if (--batch.Open < 0) throw new InvalidOperationException($"worker {Id}: batch {batchId} retired more than it opened");
        if (batch.Open == 0) TryReport();
    }

    /// <summary>
    /// Reports finished batches to the driver, strictly in batch order: each writes the values it
    /// dirtied, as they stood when its execution ended here, in one store write, then tells the driver.
    /// </summary>
    private void TryReport()
    {
        while (_batches.TryGetValue(_nextToReport, out var batch) && !batch.Reported && IsFinished(batch))
        {
            batch.Reported = true;
            var writes = IsLease ? LeaseWriteSet(batch) : NoCCWriteSet(batch);
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

    private bool IsFinished(BatchState batch) => IsLease ? batch.IsOpen && batch.Open == 0 : NoCCFinished(batch);

    /// <summary>The store failed under us: the driver rolls the cluster back to the last commit (§7).</summary>
    private void ReportStoreFailure(string reason)
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
