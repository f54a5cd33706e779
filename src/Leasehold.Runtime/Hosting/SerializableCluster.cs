using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Serializable.Worker;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Hosting;

/// <summary>
/// One driver and N workers in one process, wired over the in-process transport. The same cluster
/// runs on real threads (<see cref="ThreadPoolScheduler"/>) or deterministically
/// (<see cref="DeterministicScheduler"/>); nothing inside knows which.
/// </summary>
public sealed class SerializableCluster
{
    private readonly Dictionary<string, WorkflowDefinition> _workflows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Consistency> _tables = new(StringComparer.Ordinal);
    private readonly ClusterDriver _driver;
    private readonly ClusterWorker[] _workers;
    private readonly RemoteMemory _memory;
    private readonly Network _network;

    public SerializableCluster(ClusterOptions options, IScheduler scheduler, IStateStore store)
    {
        options.Validate();
        Options = options;
        Scheduler = scheduler;
        Store = store;
        var regions = Enumerable.Range(0, options.Workers).Select(i => new MemoryRegion(i)).ToArray();
        _memory = new RemoteMemory(scheduler, regions, options.RemoteOpLatency);
        _network = new Network(scheduler, options.LinkLatency);
        _driver = new ClusterDriver(options, scheduler, _network, store, Counters);
        _workers = Enumerable.Range(0, options.Workers)
            .Select(i => new ClusterWorker(i, options, scheduler, _network, _memory, store, Counters))
            .ToArray();
        foreach (var w in _workers) w.Connect(_workers, _driver);
        _driver.Connect(_workers);
    }

    public ClusterOptions Options { get; }
    public IScheduler Scheduler { get; }
    public IStateStore Store { get; }
    public ClusterCounters Counters { get; } = new();
    public long RemoteOperations => _memory.Operations;
    public long Messages => _network.Messages;
    public int Outstanding => _driver.Outstanding;
    public long LastCommittedBatch => _driver.LastCommitted;
    public int DriverBatchesInFlight => _driver.BatchesInFlight;
    public int WorkerBatchesInFlight => _workers.Sum(w => w.BatchesInFlight);
    public int StatisticsRows => _driver.Statistics.RowCount;

    /// <summary>Registers a workflow. A table belongs to one consistency level; names are unique.</summary>
    public void Register(WorkflowDefinition workflow)
    {
        if (workflow.Consistency != Consistency.Serializable)
            throw new WorkflowDefinitionException($"workflow '{workflow.Name}' asks for {workflow.Consistency} consistency; this cluster runs serializable workflows (causal mode is a separate engine)");
        if (_workflows.ContainsKey(workflow.Name))
            throw new WorkflowDefinitionException($"a workflow named '{workflow.Name}' is already registered");
        foreach (var f in workflow.Functions)
            foreach (var a in f.Accesses)
                if (_tables.TryGetValue(a.Table, out var level) && level != workflow.Consistency)
                    throw new WorkflowDefinitionException($"workflow '{workflow.Name}' uses table '{a.Table}' {workflow.Consistency}ly, but it is {level} already");
        foreach (var f in workflow.Functions)
            foreach (var a in f.Accesses)
                _tables[a.Table] = workflow.Consistency;
        _workflows.Add(workflow.Name, workflow);
    }

    public WorkflowDefinition Workflow(string name) =>
        _workflows.TryGetValue(name, out var w) ? w : throw new KeyNotFoundException($"no workflow named '{name}' is registered");

    /// <summary>Submits without waiting for room: a full queue refuses (the callback gets a Rejected result at once). Thread-safe.</summary>
    public void Submit(string workflow, Args args, Action<WorkflowResult> onDone)
    {
        if (!_workflows.TryGetValue(workflow, out var definition))
        {
            onDone(WorkflowResult.Rejected($"no workflow named '{workflow}' is registered"));
            return;
        }
        if (!_driver.TryAdmit(definition, args, onDone, out var refusal))
            onDone(WorkflowResult.Rejected(refusal!));
    }

    /// <summary>Submits, waiting while the admission queue is full, and completes after the batch commits.</summary>
    public async Task<WorkflowResult> InvokeAsync(string workflow, Args args, CancellationToken cancellation = default)
    {
        if (!_workflows.TryGetValue(workflow, out var definition))
            return WorkflowResult.Rejected($"no workflow named '{workflow}' is registered");
        var done = new TaskCompletionSource<WorkflowResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        var refusal = await _driver.AdmitAsync(definition, args, r => done.TrySetResult(r), cancellation).ConfigureAwait(false);
        if (refusal is not null) return WorkflowResult.Rejected(refusal);
        return await done.Task.ConfigureAwait(false);
    }
}
