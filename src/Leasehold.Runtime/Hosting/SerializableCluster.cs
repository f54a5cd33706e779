using Leasehold.Runtime.Hosting.Processes;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Serializable.Recovery;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Hosting;

/// <summary>
/// One driver and N workers in one process, wired over the in-process transport. The same cluster
/// runs on real threads (<see cref="ThreadPoolScheduler"/>) or deterministically
/// (<see cref="DeterministicScheduler"/>); nothing inside knows which.
/// <para>
/// This class holds the registry and admission; the <see cref="IncarnationSupervisor"/> recovers from the
/// store (§7) and replaces the driver and workers when a batch cannot commit. Only a store that keeps
/// failing stops the cluster.
/// </para>
/// </summary>
public sealed partial class SerializableCluster : IAsyncDisposable
{
    private readonly Dictionary<string, WorkflowDefinition> _workflows = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Consistency> _tables = new(StringComparer.Ordinal);
    private readonly ITransport _transport;
    /// <summary>The workers' one-sided memory, for the cluster's life: retired incarnations' keys stay known to it.</summary>
    private readonly IOneSided _memory;
    private readonly SemaphoreSlim _admission;
    private readonly IncarnationSupervisor _supervisor;
    private readonly object _gate = new();
    /// <summary>What the driver's and workers' messages may carry: a request's parameters are checked against it at submission.</summary>
    private readonly WireLimits _limits;

    /// <param name="ownsStore">true when the cluster disposes <paramref name="store"/> as it stops; false (the default) leaves it to the caller</param>
    public SerializableCluster(ClusterOptions options, IScheduler scheduler, IStateStore store, bool ownsStore = false)
        : this(options, scheduler, store, ownsStore, remote: null)
    {
    }

    private SerializableCluster(ClusterOptions options, IScheduler scheduler, IStateStore store, bool ownsStore, RemoteWorkersSetup? remote)
    {
        _ownsStore = ownsStore;
        options.Validate();
        Options = options;
        Scheduler = scheduler;
        Store = store;
        // A value may be as large as the regions take, and a frame must hold one with room for its fields.
        _limits = WireLimits.ForValues(options.MaxValueBytes);
        _transport = remote?.Transport ?? Transports.Create(options.Transport, scheduler, options.LinkLatency, _limits);
        _admission = new SemaphoreSlim(options.MaxOutstanding, options.MaxOutstanding);
        _memory = remote?.Memory ?? Transports.CreateOneSided(options.Transport, scheduler, options.RemoteOpLatency, _limits);
        if (remote is not null)
            _fleet = new RemoteWorkerFleet(options.Workers, scheduler, _transport, DeployedFingerprints, remote.JoinTimeout, remote.StartTimeout,
                peerLost: reason => _supervisor!.LinkLost(reason));
        _supervisor = new IncarnationSupervisor(options, scheduler, store, Counters, _transport, _memory, _admission, FindWorkflow, _fleet);
    }

    /// <summary>
    /// A driver whose workers run in other processes (<see cref="Processes.WorkerProcessHost"/>), reached over
    /// <paramref name="transport"/> and <paramref name="memory"/>, which this process's nodes share with nothing
    /// else. Register every workflow before <see cref="StartAsync"/>: the workers must deploy the same ones, and
    /// the start waits until each has joined (<paramref name="joinTimeout"/>, 60 s by default) and each incarnation
    /// until each has built its node (<paramref name="startTimeout"/>, 30 s by default). Deterministic tests give
    /// <see cref="Timeout.InfiniteTimeSpan"/>: time may pass there while work is pending, so any deadline can expire first.
    /// </summary>
    public static SerializableCluster WithRemoteWorkers(ClusterOptions options, IScheduler scheduler, IStateStore store, ITransport transport, IOneSided memory,
        TimeSpan? joinTimeout = null, TimeSpan? startTimeout = null, bool ownsStore = false) =>
        new(options, scheduler, store, ownsStore, new RemoteWorkersSetup(transport, memory, joinTimeout ?? TimeSpan.FromSeconds(60), startTimeout ?? TimeSpan.FromSeconds(30)));

    private sealed record RemoteWorkersSetup(ITransport Transport, IOneSided Memory, TimeSpan JoinTimeout, TimeSpan StartTimeout);

    /// <summary>The worker processes' hosts, when the workers are remote (null: they run in this process).</summary>
    private readonly RemoteWorkerFleet? _fleet;

    /// <summary>
    /// The link to another process of the cluster was lost; <paramref name="nodes"/> are the nodes that process ran.
    /// The batches in flight fail (a one-sided operation whose reply was lost has an unknown effect), and if the
    /// process ran a worker, the cluster stops: static membership cannot replace it.
    /// </summary>
    public void LinkLost(IEnumerable<NodeId> nodes, string reason)
    {
        var workers = nodes.Where(n => n.Role == NodeRole.Worker).Select(n => (int)n.Index).ToArray();
        if (workers.Length > 0) _fleet?.Lost(workers, reason);
        _supervisor.LinkLost(reason);
    }

    /// <summary>Completes once the worker processes' shutdown messages are sent (at once in one process): close the links after it.</summary>
    public Task WorkerShutdownSent => _fleet?.ShutdownSent ?? Task.CompletedTask;

    /// <summary>What the worker processes reported as they shut down (after <see cref="StopAsync"/>; empty in one process).</summary>
    public IReadOnlyList<WorkerReport> WorkerReports => _fleet?.Reports ?? [];

    /// <summary>Worker processes that have joined (empty when the workers run in this process).</summary>
    public IReadOnlyList<int> JoinedWorkers => _fleet?.Joined ?? [];

    /// <summary>The fingerprints of the registered workflows, read when a worker joins (workflows may be registered until then).</summary>
    private IReadOnlyDictionary<string, string> DeployedFingerprints()
    {
        lock (_gate)
            return _workflows.Where(w => SeedWorkflow.TableOf(w.Key) is null)
                .ToDictionary(w => w.Key, w => WorkflowFingerprint.Of(w.Value), StringComparer.Ordinal);
    }

    public ClusterOptions Options { get; }
    public IScheduler Scheduler { get; }
    public IStateStore Store { get; }
    public ClusterCounters Counters { get; } = new();
    public long RemoteOperations => _supervisor.RemoteOperations;
    public long Messages => _transport.Messages;
    /// <summary>The transport the driver and workers talk over (tests look at what crossed it).</summary>
    internal ITransport Transport => _transport;
    /// <summary>Mailbox posts and thread wake-ups of the scheduler (zero on a scheduler that does not count them).</summary>
    public long MailboxPosts => (Scheduler as ICountsHandoffs)?.Handoffs.Posts ?? 0;
    public long Wakeups => (Scheduler as ICountsHandoffs)?.Handoffs.Wakeups ?? 0;
    /// <summary>Admitted requests not yet answered.</summary>
    public int Outstanding => Options.MaxOutstanding - _admission.CurrentCount;
    public long LastCommittedBatch => _supervisor.Driver?.LastCommitted ?? 0;
    public int DriverBatchesInFlight => _supervisor.Driver?.BatchesInFlight ?? 0;
    public int WorkerBatchesInFlight => _supervisor.Workers.Sum(w => w.BatchesInFlight);
    /// <summary>
    /// The worker processes' counters now (<see cref="WorkerReport"/>, one per live worker), or null when they did not all
    /// answer within <paramref name="patience"/>; none in process. Where a measured window starts.
    /// </summary>
    public Task<IReadOnlyList<WorkerReport>?> WorkerReportsNowAsync(TimeSpan patience)
    {
        if (_fleet is null) return Task.FromResult<IReadOnlyList<WorkerReport>?>([]);
        var reported = new TaskCompletionSource<IReadOnlyList<WorkerReport>?>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (patience != Timeout.InfiniteTimeSpan) Scheduler.After(patience, () => reported.TrySetResult(null));
        _fleet.RequestReports(reports => reported.TrySetResult(reports));
        return reported.Task;
    }

    /// <summary>
    /// What the driver and every worker wait for, one line each (<see cref="Serializable.Driver.ClusterDriver.Describe(Action{string})"/>,
    /// <see cref="Serializable.Worker.ClusterWorker.Describe"/>), for a cluster that stopped answering; a part that does
    /// not answer within <paramref name="patience"/> is named as such (<see cref="Timeout.InfiniteTimeSpan"/>: wait for every
    /// answer, as the deterministic mode must, where time may pass while an answer is on its way).
    /// </summary>
    public Task<IReadOnlyList<string>> DescribeAsync(TimeSpan patience)
    {
        // Every part is asked at once and answers on its own mailbox (or a timer names it silent): nothing here waits on
        // a thread, so the deterministic mode runs it like any other message.
        var driver = _supervisor.Driver;
        var workers = _fleet is null ? _supervisor.Workers : [];
        var parts = new string[]?[_fleet is null ? 1 + workers.Count : 2];
        var described = new TaskCompletionSource<IReadOnlyList<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        int due = parts.Length;
        void Answer(int part, params string[] lines)
        {
            lock (parts)
            {
                if (parts[part] is not null) return;
                parts[part] = lines;
                if (--due > 0) return;
            }
            described.TrySetResult([.. parts.SelectMany(p => p!)]);
        }
        void Bound(int part, string who)
        {
            if (patience != Timeout.InfiniteTimeSpan) Scheduler.After(patience, () => Answer(part, $"{who} did not answer within {patience.TotalSeconds:0} s"));
        }

        if (driver is null) Answer(0, "no driver is running");
        else
        {
            Bound(0, "the driver's mailbox");
            driver.Describe(text => Answer(0, "driver: " + text));
        }
        // The fleet bounds its own wait, so a silent worker process is named among those that answered.
        _fleet?.Describe(patience, lines => Answer(1, [.. lines]));
        for (int i = 0; i < workers.Count; i++)
        {
            var (worker, part) = (workers[i], 1 + i);
            Bound(part, $"worker {worker.Id}'s mailbox");
            Scheduler.Post(worker.Mailbox, () => Answer(part, worker.Describe()));
        }
        return described.Task;
    }
    public int StatisticsRows => _supervisor.Driver?.Statistics.RowCount ?? 0;
    /// <summary>
    /// Why the cluster stopped for good (a store that kept failing, or a recovery that could not run), or
    /// null while it serves. Once set, every request is refused with this reason.
    /// </summary>
    public string? StopReason => _supervisor.StopReason;

    /// <summary>Registers a workflow. A table belongs to one consistency level; names are unique.</summary>
    public void Register(WorkflowDefinition workflow)
    {
        if (workflow.Consistency != Consistency.Serializable)
            throw new WorkflowDefinitionException($"workflow '{workflow.Name}' asks for {workflow.Consistency} consistency; this cluster runs serializable workflows (causal mode is a separate engine)");
        lock (_gate)
        {
            if (_workflows.ContainsKey(workflow.Name))
                throw new WorkflowDefinitionException($"a workflow named '{workflow.Name}' is already registered");
            if (SeedWorkflow.TableOf(workflow.Name) is not null)
                throw new WorkflowDefinitionException($"workflow names starting with '{SeedWorkflow.Prefix}' are reserved for SeedAsync; rename '{workflow.Name}'");
            foreach (var f in workflow.Functions)
                foreach (var a in f.Accesses)
                {
                    if (a.AnyKey)
                        throw new WorkflowDefinitionException($"workflow '{workflow.Name}' reads any key of table '{a.Table}'; serializable workflows declare their keys, so the driver can lease them before they run");
                    if (a.Table == ResultRecord.Table)
                        throw new WorkflowDefinitionException($"workflow '{workflow.Name}' declares table '{a.Table}', which Leasehold reserves for idempotency records");
                    if (_tables.TryGetValue(a.Table, out var level) && level != workflow.Consistency)
                        throw new WorkflowDefinitionException($"workflow '{workflow.Name}' uses table '{a.Table}' {workflow.Consistency}ly, but it is {level} already");
                }
            foreach (var f in workflow.Functions)
                foreach (var a in f.Accesses)
                    _tables[a.Table] = workflow.Consistency;
            _workflows.Add(workflow.Name, workflow);
        }
    }

    public WorkflowDefinition Workflow(string name) =>
        FindWorkflow(name) ?? throw new KeyNotFoundException($"no workflow named '{name}' is registered");

    private WorkflowDefinition? FindWorkflow(string name)
    {
        lock (_gate)
            if (_workflows.TryGetValue(name, out var w)) return w;
        return SeedWorkflow.TableOf(name) is { } table && table != ResultRecord.Table ? SeedWorkflowFor(table) : null;
    }

    /// <summary>
    /// Recovers from the store and opens for requests; the first request does this too. Register every
    /// workflow first: a logged batch that names an unregistered one cannot be re-executed.
    /// </summary>
    public Task StartAsync() => _supervisor.StartAsync();

    /// <summary>
    /// Submits without waiting for room: a full queue refuses (the callback gets a Rejected result at once).
    /// With an <paramref name="idempotencyKey"/>, a retry of a request that ran returns its first result
    /// and never runs it twice, across rollbacks and restarts. Thread-safe. <paramref name="onDone"/> runs on
    /// the cluster's threads: keep it short; if it throws, the exception is caught and counted
    /// (<see cref="ClusterCounters.CallbackFailures"/>) and no other request is affected.
    /// </summary>
    public void Submit(string workflow, Args args, Action<WorkflowResult> onDone, string? idempotencyKey = null)
    {
        ArgumentNullException.ThrowIfNull(onDone);
        if (Refusal(workflow, args, idempotencyKey, out var definition) is { } refusal)
        {
            Counters.Callbacks.Deliver(onDone, WorkflowResult.Rejected(refusal));
            return;
        }
        if (!_admission.Wait(0))
        {
            Counters.Callbacks.Deliver(onDone, WorkflowResult.Rejected($"admission queue full ({Options.MaxOutstanding} requests outstanding)"));
            return;
        }
        _supervisor.Route(NewRequest(definition!, args, onDone, idempotencyKey));
    }

    /// <summary>Submits, waiting while the admission queue is full, and completes after the batch commits.</summary>
    public Task<WorkflowResult> InvokeAsync(string workflow, Args args, CancellationToken cancellation = default) =>
        InvokeAsync(workflow, args, idempotencyKey: null, cancellation);

    /// <summary>As <see cref="InvokeAsync(string, Args, CancellationToken)"/>; a retry with the same key returns the first result.</summary>
    public Task<WorkflowResult> InvokeAsync(string workflow, Args args, string? idempotencyKey, CancellationToken cancellation = default)
    {
        try
        {
            if (Refusal(workflow, args, idempotencyKey, out var definition) is { } refusal) return Task.FromResult(WorkflowResult.Rejected(refusal));
            // Room in the queue (the usual case): no async state machine, only the task the caller awaits.
            if (!cancellation.IsCancellationRequested && _admission.Wait(0)) return Admitted(definition!, args, idempotencyKey);
            return AdmitWhenRoomAsync(definition!, args, idempotencyKey, cancellation);
        }
        catch (Exception e) // as from an async method: every failure reaches the caller through the task
        {
            return Task.FromException<WorkflowResult>(e);
        }
    }

    private async Task<WorkflowResult> AdmitWhenRoomAsync(WorkflowDefinition definition, Args args, string? idempotencyKey, CancellationToken cancellation)
    {
        await _admission.WaitAsync(cancellation).ConfigureAwait(false);
        return await Admitted(definition, args, idempotencyKey).ConfigureAwait(false);
    }

    /// <summary>Routes a request that holds an admission permit; the task completes with its result.</summary>
    private Task<WorkflowResult> Admitted(WorkflowDefinition definition, Args args, string? idempotencyKey)
    {
        var done = new ResultSource();
        _supervisor.Route(NewRequest(definition, args, done.Deliver, idempotencyKey));
        return done.Task;
    }

    /// <summary>The task of one invocation; <see cref="Deliver"/> as a method group needs no closure.</summary>
    private sealed class ResultSource() : TaskCompletionSource<WorkflowResult>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public void Deliver(WorkflowResult result) => TrySetResult(result);
    }

    private string? Refusal(string workflow, Args args, string? idempotencyKey, out WorkflowDefinition? definition)
    {
        definition = FindWorkflow(workflow);
        if (definition is null) return $"no workflow named '{workflow}' is registered";
        ArgumentNullException.ThrowIfNull(args);
        if (ArgsBounds.Refusal(args, _limits) is { } badArgs) return badArgs;
        if (idempotencyKey is { Length: 0 or > 512 }) return $"an idempotency key must have 1 to 512 characters, not {idempotencyKey.Length}";
        if (_supervisor.Stopping) return IncarnationSupervisor.StoppedRefusal;
        if (_supervisor.StopReason is { } halted) return $"the cluster stopped: {halted}";
        if (Scheduler.Fault is { } fault) return $"the cluster stopped after an internal error: {fault.Message}";
        StartAsync();
        return null;
    }

    private Request NewRequest(WorkflowDefinition workflow, Args args, Action<WorkflowResult> onDone, string? key) =>
        new(workflow, args, onDone, Scheduler.Time.GetTimestamp(), key, holdsPermit: true);

    /// <summary>The driver in service (or the last one), for tests that look inside.</summary>
    internal ClusterDriver? Driver => _supervisor.Driver;

    /// <summary>The workers' one-sided memory, for tests that look inside.</summary>
    internal IOneSided Memory => _memory;
}
