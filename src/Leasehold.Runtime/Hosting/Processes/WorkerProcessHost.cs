using System.Text.Json;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Serializable.Worker;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Runtime.Hosting.Processes;

/// <summary>
/// A worker process's host: it joins the driver with the workflows deployed here, builds this process's worker
/// node for each incarnation the driver starts (its region, its store gate, the worker), and retires it when told.
/// All its state is owned by its mailbox. It ends when the driver shuts the cluster down, refuses the join, or its
/// link is lost (<see cref="Stopped"/> says why).
/// </summary>
public sealed class WorkerProcessHost : IMessageSink
{
    private readonly int _worker;
    private readonly string _process;
    private readonly IScheduler _scheduler;
    private readonly IStateStore _store;
    private readonly ITransport _transport;
    private readonly IOneSided _memory;
    private readonly Func<RegionKey, int, IRegion> _createRegion;
    private readonly Dictionary<string, WorkflowDefinition> _deployed = new(StringComparer.Ordinal);
    /// <summary>The seeding workflows, made on first use by any of the worker's threads.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, WorkflowDefinition> _seeds = new(StringComparer.Ordinal);
    private readonly Mailbox _mailbox;
    private readonly Endpoint _endpoint;
    private readonly TaskCompletionSource<HostStop> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (int Number, Generation Gate, ClusterWorker Worker)? _live;
    private readonly Func<long>? _wireBytesSent;
    private readonly Func<string>? _describeLinks;

    /// <param name="wireBytesSent">the bytes this process's links have sent (its report at shutdown carries them).</param>
    /// <param name="describeLinks">what this process's links refused or dropped, for the driver's question of what a stuck worker waits for.</param>
    /// <param name="createRegion">makes this worker's region of an incarnation (a shared-memory file, say), sized for the given maximum value,
    /// and registers it in <paramref name="memory"/>; null: a region in this process's memory.</param>
    public WorkerProcessHost(int worker, string process, IScheduler scheduler, IStateStore store, ITransport transport, IOneSided memory,
        IEnumerable<WorkflowDefinition> workflows, Func<RegionKey, int, IRegion>? createRegion = null, Func<long>? wireBytesSent = null,
        Func<string>? describeLinks = null)
    {
        _wireBytesSent = wireBytesSent;
        _describeLinks = describeLinks;
        _worker = worker;
        _process = process;
        _scheduler = scheduler;
        _store = store;
        _transport = transport;
        _memory = memory;
        _createRegion = createRegion ?? ((key, maxValueBytes) =>
        {
            var region = new RegionMemory(key.Node, maxValueBytes);
            memory.Register(key, region);
            return region;
        });
        foreach (var w in workflows)
            if (!_deployed.TryAdd(w.Name, w)) throw new WorkflowDefinitionException($"a workflow named '{w.Name}' is deployed twice");
        _mailbox = scheduler.CreateMailbox($"worker-host-{worker}");
        _endpoint = transport.Register(NodeId.WorkerHost(worker), new Incarnation(0), _mailbox, this);
    }

    /// <summary>
    /// A host that only joins: the process runs no serializable worker (a causal worker process: its cache servers are built
    /// beside it), so it holds no store or memory. It joins with its workflows and stops on the driver's shutdown, a refusal
    /// or a lost driver link; a <see cref="StartIncarnationMsg"/> stops it with a reason, since it cannot build a worker.
    /// </summary>
    public WorkerProcessHost(int worker, string process, IScheduler scheduler, ITransport transport, IEnumerable<WorkflowDefinition> workflows)
        : this(worker, process, scheduler, store: null!, transport, memory: null!, workflows)
    {
        _joinOnly = true;
    }

    /// <summary>Whether this host only joins (never dereferences its store or memory, which are null).</summary>
    private readonly bool _joinOnly;

    /// <summary>This process's counters (its worker's operations); the driver's bench reads the driver's own.</summary>
    public ClusterCounters Counters { get; } = new();

    /// <summary>Completes when the host stops for good: shut down by the driver, refused, or cut off.</summary>
    public Task<HostStop> Stopped => _stopped.Task;

    /// <summary>The incarnation whose worker runs here (-1: none yet).</summary>
    public int Incarnation
    {
        get { lock (_stopped) return _live?.Number ?? -1; }
    }

    /// <summary>Asks the driver to admit this worker with the workflows deployed here.</summary>
    public void Join() => _mailbox.Post(() =>
    {
        var names = _deployed.Keys.Order(StringComparer.Ordinal).ToArray();
        _endpoint.Send(NodeId.DriverHost, new JoinMsg(_worker, _process, names, [.. names.Select(n => WorkflowFingerprint.Of(_deployed[n]))]));
    });

    /// <summary>
    /// A link to another process was lost. To the driver's: this worker can do nothing more, so it stops. To another
    /// worker's: the batches in flight cannot finish, so the driver hears of it and stops the cluster.
    /// </summary>
    public void LinkLost(bool toDriver, string reason) => _mailbox.Post(() =>
    {
        if (toDriver) Stop(false, $"the link to the driver was lost: {reason}");
        else _endpoint.Send(NodeId.DriverHost, new PeerLostMsg(reason));
    });

    public void Receive(Message message)
    {
        if (message.From != NodeId.DriverHost)
            throw new InvalidOperationException($"worker-{_worker}'s host: {message.GetType().Name} from {message.From}, not the driver's host");
        switch (message)
        {
            case StartIncarnationMsg start: OnStart(start); break;
            case SupersedeMsg supersede: OnSupersede(supersede.Number); break;
            case JoinRefusedMsg refused: Stop(false, refused.Reason); break;
            case DescribeMsg: OnDescribe(); break;
            case ReportRequestMsg: _endpoint.Send(NodeId.DriverHost, Report(final: false)); break;
            case ShutdownMsg shutdown:
                if (_live is { } live) OnSupersede(live.Number);
                // A join-only host ran no worker: it has no counters to report, and no memory to ask.
                if (!_joinOnly) _endpoint.Send(NodeId.DriverHost, Report(final: true));
                Stop(true, shutdown.Reason);
                break;
            default: throw new InvalidOperationException($"worker-{_worker}'s host: unexpected {message.GetType().Name}");
        }
    }

    private void OnStart(StartIncarnationMsg start)
    {
        if (_joinOnly)
        {
            Stop(false, $"the driver started incarnation {start.Number}, but process '{_process}' runs no serializable worker (it was started for the causal mode): start the workers with the driver's --mode");
            return;
        }
        ClusterOptions options;
        try
        {
            options = JsonSerializer.Deserialize<ClusterOptions>(start.Options) ?? throw new JsonException("null");
            options.Validate();
        }
        catch (Exception e) when (e is JsonException or ArgumentException or NotSupportedException)
        {
            Stop(false, $"the driver's options could not be read: {e.Message}");
            return;
        }
        if (_live is { } previous && previous.Number >= start.Number)
            throw new InvalidOperationException($"worker-{_worker}'s host: incarnation {start.Number} after {previous.Number}");
        if (_live is { } unretired) OnSupersede(unretired.Number); // the driver supersedes first; this is a safety net
        var key = new RegionKey(_worker, start.Number);
        var region = _createRegion(key, options.MaxValueBytes);
        var gate = new Generation(start.Number);
        var worker = new ClusterWorker(_worker, options, _scheduler, _transport, _memory, region, _store, Counters, gate, start.FirstBatch, FindWorkflow);
        lock (_stopped) _live = (start.Number, gate, worker);
        _endpoint.Send(NodeId.DriverHost, new IncarnationStartedMsg(start.Number));
    }

    private WorkerReportMsg Report(bool final) => new(Counters.LocalAccesses, Counters.RemoteAccesses, Counters.LeaseTransfers,
        _memory.Operations, _wireBytesSent?.Invoke() ?? 0, (long)Environment.CpuUsage.TotalTime.TotalMicroseconds, final);

    /// <summary>Answers the driver with what the live worker waits for, read on the worker's own mailbox, and what the links refused.</summary>
    private void OnDescribe()
    {
        string links = _describeLinks?.Invoke() is { } l ? $"; links: {l}" : "";
        if (_live is not { } live)
        {
            _endpoint.Send(NodeId.DriverHost, new DescriptionMsg($"worker {_worker}: no incarnation running{links}"));
            return;
        }
        var worker = live.Worker;
        _scheduler.Post(worker.Mailbox, () =>
        {
            string text = FunctionRunner.Clip($"incarnation {live.Number}: {worker.Describe()}{links}", 16 << 10);
            _scheduler.Post(_mailbox, () => _endpoint.Send(NodeId.DriverHost, new DescriptionMsg(text)));
        });
    }

    /// <summary>Fences the incarnation's region key at once and its store calls as they finish; frees the region of the one before.</summary>
    private void OnSupersede(int number)
    {
        if (_live is not { } live || live.Number != number) return;
        _memory.RetireIncarnation(number);
        // As in one process: a superseded worker's queued work may still read its own region, so it is freed one incarnation later.
        if (number > 0) _memory.DropIncarnation(number - 1);
        live.Gate.Supersede(() => _endpoint.Send(NodeId.DriverHost, new QuietMsg(number)));
    }

    private void Stop(bool cleanly, string reason) => _stopped.TrySetResult(new HostStop(cleanly, reason));

    private WorkflowDefinition? FindWorkflow(string name)
    {
        if (_deployed.TryGetValue(name, out var w)) return w;
        if (SeedWorkflow.TableOf(name) is not { } table || table == ResultRecord.Table) return null;
        return _seeds.GetOrAdd(table, SeedWorkflow.For);
    }
}

/// <summary>Why a worker process's host stopped: shut down by the driver (clean), or refused or cut off.</summary>
public sealed record HostStop(bool Clean, string Reason);
