using System.Diagnostics.CodeAnalysis;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Serializable.Worker.Lease;
using Leasehold.Runtime.Serializable.Worker.NoCC;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// A worker: it runs the workflows routed to it, caches the objects it holds leases on in its memory
/// region, keeps their operation chains, and serves other workers' operations on them. All its state is
/// owned by its mailbox; executors run bodies and post results back. This file holds batch intake and
/// the commit path, execution is in Worker.Execution.cs; the protocol that orders key accesses, lease or
/// nocc, is an <see cref="IWorkerProtocol"/> chosen once from <see cref="ClusterOptions.Protocol"/>.
/// </summary>
internal sealed partial class ClusterWorker : IMessageSink
{
    private readonly ClusterOptions _options;
    private readonly Endpoint _endpoint;
    private readonly Func<string, WorkflowDefinition?> _workflows;
    // The workflows of the batches in flight here, by timestamp: messages name operations by (ts, position).
    private readonly Dictionary<long, WorkflowRun> _runs = [];
    private readonly Dictionary<string, WorkflowDefinition> _deployed = new(StringComparer.Ordinal);
    private readonly IStateStore _store;
    private readonly ClusterCounters _counters;
    private readonly Generation _generation;
    private readonly Executor[] _executors;
    private readonly HashSet<Operation> _running = [];
    private bool _watchdogArmed;
    private readonly Dictionary<long, BatchState> _batches = [];
    private KeyState?[] _keys = new KeyState?[1024];
    private int[] _holderNow = [];
    private long _nextToReport;
    private readonly IWorkerProtocol _protocol;

    /// <param name="region">this worker's own memory region, registered for its incarnation in <paramref name="memory"/>.</param>
    /// <param name="workflows">the workflows deployed with this worker, by name: code, not shared state.</param>
    public ClusterWorker(int id, ClusterOptions options, IScheduler scheduler, ITransport transport, IOneSided memory, IRegion region,
        IStateStore store, ClusterCounters counters, Generation generation, long firstBatch, Func<string, WorkflowDefinition?> workflows)
    {
        _nextToReport = firstBatch;
        _generation = generation;
        Id = id;
        _options = options;
        Scheduler = scheduler;
        _workflows = workflows;
        _store = store;
        _counters = counters;
        Mailbox = scheduler.CreateMailbox($"worker-{id}#{generation.Number}");
        Region = region;
        _executors = new Executor[options.ExecutorsPerWorker];
        for (int i = 0; i < _executors.Length; i++) _executors[i] = new Executor(scheduler.CreateMailbox($"worker-{id}/executor-{i}"));
        _endpoint = transport.Register(NodeId.Worker(id), new Incarnation(generation.Number), Mailbox, this);
        _protocol = options.Protocol switch
        {
            ProtocolKind.Lease => new LeaseProtocol(this, options, _endpoint, memory, store, counters, generation),
            ProtocolKind.NoCC => new NoCCProtocol(this, _endpoint, memory, store, counters, generation),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Protocol, "unknown worker protocol"),
        };
    }

    public int Id { get; }
    public IScheduler Scheduler { get; }
    public Mailbox Mailbox { get; }
    public IRegion Region { get; }
    public int Workers => _options.Workers;

    /// <summary>The worker's one dispatch point: the driver's plans here, every other message to the protocol.</summary>
    public void Receive(Message message)
    {
        if (message is PlanMsg plan)
        {
            if (message.From != NodeId.Driver) throw new InvalidOperationException($"worker {Id}: a plan from {message.From}");
            OnPlan(plan);
        }
        else if (message.From.Role != NodeRole.Worker || message.From.Index >= _options.Workers || !_protocol.Receive(message))
            throw new InvalidOperationException($"worker {Id}: unexpected {message.GetType().Name} from {message.From}");
    }

    /// <summary>
    /// What this worker waits for, for a cluster that stopped answering: each batch not yet reported (planned or
    /// not, whose records are in, how many entries are open) and, for an open batch, the heads of its keys' chains.
    /// Read it on the worker's mailbox.
    /// </summary>
    public string Describe()
    {
        if (_batches.Count == 0) return $"worker {Id}: no batch in flight (next to report: {_nextToReport})";
        var parts = new List<string>();
        foreach (var batch in _batches.Values.OrderBy(b => b.Id))
        {
            string state = $"batch {batch.Id}: {(batch.Plan is null ? "not planned" : "planned")}, records from {batch.Markers} of {Workers - 1} peers, "
                + $"{(batch.IsOpen ? "open" : "not open")}, {batch.Open} entries open{(batch.Reported ? ", reported (writing)" : "")}";
            if (batch.IsOpen && batch.Open > 0)
            {
                var heads = batch.Keys.Distinct().Select(k => _keys[k]).Where(k => k?.Chain.Head is not null).Take(6)
                    .Select(k => $"key {k!.Id} ({k.Key}) head {k.Chain.Head}{(k.Chain.Head!.Active ? " active" : " idle")} peer {k.Chain.Head.Peer}"
                        + $" value {(k.ValueReady ? "ready" : "absent")}, {k.ArrivalsPending} arrivals pending, tentative {k.TentativeTs}, chain {k.Chain.Count}");
                state += ": " + string.Join("; ", heads);
                // The workflows of the batch not yet decided here, operation by operation: which waits for what.
                var undecided = batch.Runs.Where(r => r.Outcome is null).Take(3)
                    .Select(r => $"{r}: " + string.Join(", ", r.Operations.Select(Describe)));
                state += " | undecided: " + string.Join("; ", undecided);
            }
            parts.Add(state);
        }
        return $"worker {Id}: " + string.Join(" | ", parts);
    }

    private static string Describe(Operation op) =>
        $"({op.Position}) {op.State}, {op.KeysToAcquire} keys to acquire, {op.KeysToRelease} to release, {op.ParentsRemaining} parents remaining"
        + (op.RunningOn is { } executor ? $", on {executor.Mailbox.Name} ({executor.Queued} queued, {(Volatile.Read(ref op.StartedAt) == 0 ? "not started" : Volatile.Read(ref op.Returned) ? "returned" : "running")})" : "")
        + (op.RemoteHeld is { } held ? $", remote held [{string.Join(",", held)}]" : "")
        + (op.Run.ReleasesInFlight > 0 ? $", {op.Run.ReleasesInFlight} releases in flight" : "");

    /// <summary>Batches this worker has not yet reported (for tests that look for leaks).</summary>
    public int BatchesInFlight => _batches.Count;

    // ---- batch intake ----------------------------------------------------------------------------

    /// <summary>The driver's plan for batch b: the protocol applies its lease table and builds and starts the operations.</summary>
    private void OnPlan(PlanMsg plan)
    {
        var batch = BatchOf(plan.Batch);
        if (batch.Plan is not null) throw new InvalidOperationException($"worker {Id}: batch {plan.Batch} planned twice");
        var runs = new WorkflowRun[plan.Workflows.Length];
        for (int i = 0; i < runs.Length; i++)
        {
            var planned = plan.Workflows[i];
            var workflow = Deployed(planned.Workflow)
                ?? throw new InvalidOperationException($"worker {Id}: batch {plan.Batch} runs workflow '{planned.Workflow}', which is not deployed here");
            if (planned.Accesses.Length != workflow.Functions.Count)
                throw new InvalidOperationException($"worker {Id}: workflow '{planned.Workflow}' at {planned.Ts} has accesses for {planned.Accesses.Length} functions, its definition {workflow.Functions.Count}");
            runs[i] = new WorkflowRun(workflow, planned.Ts, plan.Batch, planned.Args, planned.Accesses);
            _runs.Add(planned.Ts, runs[i]);
        }
        batch.Plan = plan;
        batch.Runs = runs;
        _protocol.Plan(plan, batch);
    }

    /// <summary>A workflow deployed with this worker, looked up once per name and then kept here.</summary>
    private WorkflowDefinition? Deployed(string name)
    {
        if (_deployed.TryGetValue(name, out var workflow)) return workflow;
        workflow = _workflows(name);
        if (workflow is not null) _deployed.Add(name, workflow);
        return workflow;
    }

    /// <summary>The operation a message names by (ts, position): one of a workflow in flight here.</summary>
    public Operation OperationAt(long ts, int position) =>
        _runs.TryGetValue(ts, out var run) && (uint)position < (uint)run.Operations.Length
            ? run.Operations[position]
            : throw new InvalidOperationException($"worker {Id}: no operation ({ts}, {position}) in flight here");

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

    /// <summary>Creates the operations of a workflow routed here, holders resolved from the batch's lease table.</summary>
    public Operation[] BuildOperations(WorkflowRun run)
    {
        var functions = run.Workflow.Functions;
        var ops = new Operation[functions.Count];
        for (int f = 0; f < ops.Length; f++)
        {
            var accesses = run.Accesses[f];
            var holders = new int[accesses.Length];
            for (int a = 0; a < accesses.Length; a++)
            {
                holders[a] = _holderNow[accesses[a].KeyId];
                _counters.Access(holders[a] == Id);
            }
            ops[f] = new Operation(run, f, accesses, holders);
        }
        run.Operations = ops;
        return ops;
    }

    // ---- end of batch and commit ---------------------------------------------------------------------

    /// <summary>One of the batch's open items (chain entry, run, pending outcome) is done here.</summary>
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
    public void ReportStoreFailure(string reason) => _endpoint.Send(NodeId.Driver, new WorkerFailedMsg(FunctionRunner.Clip(reason)));

    /// <summary>The batch is executed and its writes are in the store: the driver hears every outcome, in plan order.</summary>
    private void ReportExecuted(long batchId)
    {
        _batches.Remove(batchId, out var batch);
        var runs = batch!.Runs;
        var outcomes = new WorkflowOutcome[runs.Length];
        for (int i = 0; i < runs.Length; i++)
        {
            outcomes[i] = runs[i].ToOutcome();
            _runs.Remove(runs[i].Ts);
        }
        _endpoint.Send(NodeId.Driver, new ExecutedMsg(batchId, outcomes));
    }
}
