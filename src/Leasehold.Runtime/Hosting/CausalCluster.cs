using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Causal.Workflows;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Hosting;

/// <summary>
/// N cache servers in a ring, each co-located with a worker, running causal workflows (causal.md). This
/// class only wires the parts: the servers and their ring links, the modelled CPUs, the store, and the
/// <see cref="CausalWorkflowEngine"/> that runs the workflows over them. The same code runs on real
/// threads and in the deterministic mode.
/// </summary>
public sealed class CausalCluster : ICausalRuntime, IAsyncDisposable
{
    private readonly CausalWorkflowEngine _engine;
    private readonly Network _network;
    private readonly List<RingLink> _links = [];
    private readonly ServerCpu[] _cpus;
    private readonly CausalStore? _store;

    /// <param name="store">The store to persist into and load misses from (§6; <see cref="CausalStore.OpenAsync"/>); needs a durability other than None.</param>
    public CausalCluster(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial = null, CausalStore? store = null)
    {
        options.Validate();
        if ((store is null) != (options.Durability == CausalDurability.None))
            throw new ArgumentException(store is null ? $"durability {options.Durability} needs a store" : "a store needs durability write-behind or synchronous");
        _store = store;
        store?.Attach(scheduler, options);
        Options = options;
        Scheduler = scheduler;
        initial ??= static _ => null;
        _network = new Network(scheduler, options.LinkLatency);
        // Created before the servers' mailboxes, as it always was: the deterministic mode's schedule depends on the order.
        var client = scheduler.CreateMailbox("causal-clients");
        int n = options.Servers;
        Identity = new ClusterIdentity(store?.ClusterId ?? ClusterIdentity.Draw(options.Seed, scheduler.Time), n);
        var jitter = new Random(options.Seed ^ 0x5eed);
        _cpus = new ServerCpu[n];
        ICacheServer[] all;
        if (options.Protocol == CausalProtocol.CausalMesh)
        {
            var servers = Enumerable.Range(0, n).Select(i => new CacheServer(i, options, scheduler, initial)).ToArray();
            for (int i = 0; i < n; i++) _cpus[i] = new ServerCpu(scheduler, servers[i].Mailbox);
            for (int i = 0; i < n; i++)
            {
                var next = servers[(i + 1) % n];
                var link = NewLink(servers[i].Mailbox, next.Mailbox, jitter, _cpus[(i + 1) % n]);
                servers[i].Connect(link, next);
            }
            if (store is not null) foreach (var s in servers) s.AttachStore(store);
            CacheServers = servers;
            all = servers;
        }
        else
        {
            var servers = Enumerable.Range(0, n).Select(i => new EventualServer(i, n, scheduler, initial)).ToArray();
            for (int i = 0; i < n; i++) _cpus[i] = new ServerCpu(scheduler, servers[i].Mailbox);
            for (int i = 0; i < n; i++)
            {
                var next = servers[(i + 1) % n];
                servers[i].Connect(NewLink(servers[i].Mailbox, next.Mailbox, jitter, _cpus[(i + 1) % n]), next);
            }
            CacheServers = [];
            all = servers;
        }
        _engine = new CausalWorkflowEngine(options, scheduler, _network, client, all, CacheServers, _cpus, store, Identity);
    }

    private RingLink NewLink(Mailbox from, Mailbox to, Random jitter, ServerCpu cpu)
    {
        var link = new RingLink(Scheduler, _network, from, to, Options.LinkLatency, Options.RingJitter, Options.RingJitter > TimeSpan.Zero ? new Random(jitter.Next()) : null,
            cpu, Options.MessageServiceTime);
        _links.Add(link);
        return link;
    }

    public CausalOptions Options { get; }
    /// <summary>The store the cluster persists into (null: none).</summary>
    public CausalStore? Store => _store;
    /// <summary>Keys loaded from the store on a miss, and keys evicted, over all servers (read when the run is quiet).</summary>
    public long Misses => CacheServers.Sum(s => s.Misses);
    public long Evictions => CacheServers.Sum(s => s.Evictions);
    public IScheduler Scheduler { get; }
    /// <summary>Which cluster this is: it admits only session tokens it issued (or, with a store, that a cluster on the same store issued).</summary>
    public ClusterIdentity Identity { get; }
    /// <summary>The CausalMesh servers, for the invariant checks (empty under another protocol).</summary>
    internal IReadOnlyList<CacheServer> CacheServers { get; }
    /// <summary>
    /// Every message sent: ring traffic, workflow hops, client requests and replies. A ring link without jitter
    /// sends through the network, which counts it; with jitter it schedules its own deliveries, so those are added.
    /// </summary>
    public long Messages => _network.Messages + _links.Sum(l => Options.RingJitter > TimeSpan.Zero && !l.ToSelf ? l.Sent : 0);
    public long RingMessages => _links.Sum(l => l.Sent);
    /// <summary>Modelled busy time of each server (deterministic mode with service times).</summary>
    public IReadOnlyList<TimeSpan> ServerBusy => [.. _cpus.Select(c => c.Busy)];

    /// <summary>Result callbacks (Submit's onDone) that threw; the cluster caught them and went on.</summary>
    public long CallbackFailures => _engine.Callbacks.Failures;
    /// <summary>The exception of the latest result callback that threw, or null.</summary>
    public Exception? LastCallbackFailure => _engine.Callbacks.LastFailure;

    /// <summary>Called once per function execution when set (the history recorder); on the server's mailbox.</summary>
    public Action<CausalFunctionRecord>? OnFunction
    {
        get => _engine.OnFunction;
        set => _engine.OnFunction = value;
    }

    public void Register(WorkflowDefinition workflow) => _engine.Register(workflow);

    /// <summary>
    /// Runs a workflow; the callback gets its result (with the session token for the next one). Thread-safe. If the
    /// callback throws, the exception is caught and counted (<see cref="CallbackFailures"/>); no other request is affected.
    /// </summary>
    public void Submit(string workflow, Args args, Action<CausalResult> onDone, CausalInvocation? invocation = null) =>
        _engine.Submit(workflow, args, onDone, invocation);

    public Task<CausalResult> InvokeAsync(string workflow, Args args, CausalInvocation? invocation = null) =>
        _engine.InvokeAsync(workflow, args, invocation);

    /// <summary>
    /// Stops the cluster; idempotent. Workflows submitted from now on are Rejected. Those in flight finish
    /// normally; any still running after <paramref name="drainTimeout"/> (30 s unless given) is answered
    /// Unknown, since the writes of its finished functions may already be visible. Completes once every
    /// caller is answered. The store, if any, belongs to the caller, who disposes it after this.
    /// </summary>
    public Task StopAsync(TimeSpan? drainTimeout = null) => _engine.StopAsync(drainTimeout);

    /// <summary>As <see cref="StopAsync"/> with its default drain timeout.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());
}
