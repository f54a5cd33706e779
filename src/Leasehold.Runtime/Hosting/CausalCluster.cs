using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Causal.Workflows;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;

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
    private readonly ITransport _transport;
    private readonly ICacheServer[] _servers;
    private readonly ServerCpu[] _cpus;
    private readonly CausalServerNode[] _nodes;
    private readonly CausalStore? _store;

    /// <param name="store">The store to persist into and load misses from (§6; <see cref="CausalStore.OpenAsync"/>); needs a durability other than None.</param>
    public CausalCluster(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial = null, CausalStore? store = null)
        : this(options, scheduler, initial, store, wrapTransport: null)
    {
    }

    /// <param name="wrapTransport">wraps the transport the nodes register on (tests: to watch every message that crosses).</param>
    internal CausalCluster(CausalOptions options, IScheduler scheduler, Func<StateKey, byte[]?>? initial, CausalStore? store, Func<ITransport, ITransport>? wrapTransport)
    {
        options.Validate();
        if ((store is null) != (options.Durability == CausalDurability.None))
            throw new ArgumentException(store is null ? $"durability {options.Durability} needs a store" : "a store needs durability write-behind or synchronous");
        _store = store;
        store?.Attach(scheduler, options);
        Options = options;
        Scheduler = scheduler;
        initial ??= static _ => null;
        int n = options.Servers;
        // Clocks have one entry per server: the codec refuses a larger one.
        _transport = Transports.Create(options.Transport, scheduler, options.LinkLatency, new WireLimits { MaxServers = n });
        var nodes = wrapTransport?.Invoke(_transport) ?? _transport;
        // Created before the servers' mailboxes, as it always was: the deterministic mode's schedule depends on the order.
        var client = scheduler.CreateMailbox("causal-clients");
        Identity = new ClusterIdentity(store?.ClusterId ?? ClusterIdentity.Draw(options.Seed, scheduler.Time), n);
        if (options.Protocol == CausalProtocol.CausalMesh)
        {
            var servers = Enumerable.Range(0, n).Select(i => new CacheServer(i, options, scheduler, initial)).ToArray();
            if (store is not null) foreach (var s in servers) s.AttachStore(store);
            CacheServers = servers;
            _servers = servers;
        }
        else
        {
            CacheServers = [];
            _servers = [.. Enumerable.Range(0, n).Select(i => new EventualServer(i, n, scheduler, initial))];
        }
        var workflows = new CausalWorkflowTable();
        _cpus = new ServerCpu[n];
        _nodes = new CausalServerNode[n];
        for (int i = 0; i < n; i++)
        {
            var server = _servers[i];
            _cpus[i] = new ServerCpu(scheduler, server.Mailbox);
            var node = _nodes[i] = new CausalServerNode(server, _cpus[i], options, workflows, scheduler.Time);
            var endpoint = nodes.Register(NodeId.CacheServer(i), ServersIncarnation, server.Mailbox, node);
            node.Attach(endpoint);
            server.Connect(endpoint, NodeId.CacheServer((i + 1) % n));
        }
        // The deterministic mode's reorderings: each ring link delays its ring messages at random, in order; a workflow's
        // hop between the same two servers is not held behind them (it may overtake a write's lap, as on two connections).
        if (options.RingJitter > TimeSpan.Zero && n > 1)
        {
            var jitter = new Random(options.Seed ^ 0x5eed);
            for (int i = 0; i < n; i++)
                JitterRing(_transport, NodeId.CacheServer(i), NodeId.CacheServer((i + 1) % n), options.RingJitter, new Random(jitter.Next()));
        }
        _engine = new CausalWorkflowEngine(options, scheduler, nodes, client, n, workflows, store, Identity);
    }

    private static void JitterRing(ITransport transport, NodeId from, NodeId to, TimeSpan jitter, Random random)
    {
        switch (transport)
        {
            case InprocTransport inproc: inproc.Jitter(from, to, jitter, random, static m => m is IRingMessage); break;
            case SerialisingInprocTransport serialising: serialising.Jitter(from, to, jitter, random, static type => type.IsAssignableTo(typeof(IRingMessage))); break;
            default: throw new NotSupportedException($"{transport.GetType().Name} cannot delay the ring's links");
        }
    }

    /// <summary>The servers are never rolled back: one incarnation for the cluster's life.</summary>
    private static readonly Incarnation ServersIncarnation = new(0);

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
    /// <summary>Every message sent between two nodes: ring traffic, workflow hops, results, commits.</summary>
    public long Messages => _transport.Messages;
    /// <summary>The transport the nodes talk over (tests: how many bytes crossed the codec).</summary>
    internal ITransport Transport => _transport;
    /// <summary>Ring messages sent (a ring of one server sends them to itself; they count here, not in <see cref="Messages"/>).</summary>
    public long RingMessages => _servers.Sum(s => s.RingSent);
    /// <summary>Fan-ins waiting for a parent's hop, over all servers (tests: none once every attempt ended; read when quiet).</summary>
    internal int WaitingFanIns => _nodes.Sum(n => n.WaitingFanIns);
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

    public void Register(WorkflowDefinition workflow)
    {
        _engine.Register(workflow);
        // Deployment, before any transaction runs: the servers start keeping the versions snapshots read.
        if (workflow.Consistency == Consistency.TransactionalCausal)
            foreach (var server in CacheServers) server.ServeTransactions();
    }

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
