using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Hosting.Processes;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Regions;

namespace Leasehold.Tests.Processes;

/// <summary>
/// A driver and its workers built as separate processes would build them, in the deterministic mode: the driver's
/// cluster with remote workers, and one <see cref="WorkerProcessHost"/> per worker, each with its own counters,
/// joined through the hosts' control messages. Everything crosses the wire codec; nothing but the transport, the
/// one-sided memory (the network) and the store (a shared server) is shared.
/// </summary>
internal sealed class SimulatedProcesses
{
    private readonly List<(string Workflow, Args Args, WorkflowResult? Result)> _submitted = [];
    private int _answered;

    public SimulatedProcesses(int seed, ClusterOptions options, IEnumerable<KeyValuePair<StateKey, byte[]>> initial,
        Func<MemoryStateStore, IStateStore>? wrapStore, WorkflowDefinition[] workflows, Func<int, WorkflowDefinition[]>? workerWorkflows = null,
        Func<ITransport, ITransport>? wrapTransport = null, double timerBias = 0.3)
    {
        Seed = seed;
        Scheduler = new DeterministicScheduler(seed, timerBias);
        Store = new MemoryStateStore();
        Store.Load(initial);
        var limits = Runtime.Transport.Wire.WireLimits.ForValues(options.MaxValueBytes);
        Transport = Transports.Create(TransportKind.InprocSerialising, Scheduler, options.LinkLatency, limits);
        if (wrapTransport is not null) Transport = wrapTransport(Transport);
        Memory = Transports.CreateOneSided(TransportKind.InprocSerialising, Scheduler, options.RemoteOpLatency, limits);
        var store = wrapStore?.Invoke(Store) ?? Store;
        Cluster = SerializableCluster.WithRemoteWorkers(options, Scheduler, store, Transport, Memory, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        foreach (var w in workflows) Cluster.Register(w);
        Hosts = [.. Enumerable.Range(0, options.Workers).Select(i =>
            new WorkerProcessHost(i, $"worker-{i}", Scheduler, store, Transport, Memory, workerWorkflows?.Invoke(i) ?? workflows))];
        foreach (var h in Hosts) h.Join();
    }

    public int Seed { get; }
    public DeterministicScheduler Scheduler { get; }
    public MemoryStateStore Store { get; }
    public ITransport Transport { get; }
    public IOneSided Memory { get; }
    public SerializableCluster Cluster { get; }
    public WorkerProcessHost[] Hosts { get; }
    public IReadOnlyList<(string Workflow, Args Args, WorkflowResult? Result)> Submitted => _submitted;

    public void Submit(string workflow, Args args)
    {
        int index = _submitted.Count;
        _submitted.Add((workflow, args, null));
        Cluster.Submit(workflow, args, r =>
        {
            _submitted[index] = (workflow, args, r);
            _answered++;
        });
    }

    /// <summary>Runs until every request is answered; fails with the seed on a fault or a lost request.</summary>
    public void RunToCompletion(long maxSteps = 20_000_000)
    {
        Scheduler.RunUntil(() => _answered == _submitted.Count || Scheduler.Fault is not null, maxSteps);
        if (Scheduler.Fault is { } fault) throw new Xunit.Sdk.XunitException($"seed {Seed}: protocol fault: {fault}");
        if (_answered != _submitted.Count)
            throw new Xunit.Sdk.XunitException($"seed {Seed}: {_submitted.Count - _answered} of {_submitted.Count} requests never answered; virtual time {Scheduler.VirtualTime.Nanoseconds} ns");
    }

    public long CommittedLong(string table, string key) => Value.ToLong(Store.ReadCommittedAsync(new StateKey(table, key)).AsTask().GetAwaiter().GetResult());
}
