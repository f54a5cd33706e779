using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Hosting.Causal;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;

namespace Leasehold.Runtime.Hosting;

/// <summary>
/// N cache servers in a ring, each co-located with a worker, running causal workflows (causal.md), all in one
/// process: the composition of a <see cref="CausalServerHost"/> of every server and the <see cref="CausalClientHost"/>
/// over one transport created here. In several processes each process builds the part for the nodes it hosts over
/// its own transport (docs/causal-processes.md). The same code runs on real threads and in the deterministic mode.
/// </summary>
public sealed class CausalCluster : ICausalRuntime, IAsyncDisposable
{
    private readonly CausalClientHost _client;
    private readonly CausalServerHost _servers;
    private readonly ITransport _transport;
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
        int n = options.Servers;
        // Clocks have one entry per server: the codec refuses a larger one.
        _transport = Transports.Create(options.Transport, scheduler, options.LinkLatency, new WireLimits { MaxServers = n });
        var nodes = wrapTransport?.Invoke(_transport) ?? _transport;
        // Created before the servers' mailboxes, as it always was: the deterministic mode's schedule depends on the order.
        var client = scheduler.CreateMailbox("causal-clients");
        _servers = new CausalServerHost(options, scheduler, nodes, [.. Enumerable.Range(0, n)], initial, store, attachStore: false);
        CausalRingJitter.Apply(_transport, options, Enumerable.Range(0, n));
        _client = new CausalClientHost(options, scheduler, nodes, client, store);
    }

    public CausalOptions Options { get; }
    /// <summary>The store the cluster persists into (null: none).</summary>
    public CausalStore? Store => _store;
    /// <summary>Keys loaded from the store on a miss, and keys evicted, over all servers (read when the run is quiet).</summary>
    public long Misses => _servers.Misses;
    public long Evictions => _servers.Evictions;
    public IScheduler Scheduler { get; }
    /// <summary>Which cluster this is: it admits only session tokens it issued (or, with a store, that a cluster on the same store issued).</summary>
    public ClusterIdentity Identity => _client.Identity;
    /// <summary>The CausalMesh servers, for the invariant checks (empty under another protocol).</summary>
    internal IReadOnlyList<CacheServer> CacheServers => _servers.CacheServers;
    /// <summary>Every message sent between two nodes: ring traffic, workflow hops, results, commits.</summary>
    public long Messages => _transport.Messages;
    /// <summary>The transport the nodes talk over (tests: how many bytes crossed the codec).</summary>
    internal ITransport Transport => _transport;
    /// <summary>Ring messages sent (a ring of one server sends them to itself; they count here, not in <see cref="Messages"/>).</summary>
    public long RingMessages => _servers.RingMessages;
    /// <summary>Fan-ins waiting for a parent's hop, over all servers (tests: none once every attempt ended; read when quiet).</summary>
    internal int WaitingFanIns => _servers.WaitingFanIns;
    /// <summary>Modelled busy time of each server (deterministic mode with service times).</summary>
    public IReadOnlyList<TimeSpan> ServerBusy => _servers.ServerBusy;

    /// <summary>Result callbacks (Submit's onDone) that threw; the cluster caught them and went on.</summary>
    public long CallbackFailures => _client.CallbackFailures;
    /// <summary>The exception of the latest result callback that threw, or null.</summary>
    public Exception? LastCallbackFailure => _client.LastCallbackFailure;

    /// <summary>Called once per function execution when set (the history recorder); on the client's mailbox.</summary>
    public Action<CausalFunctionRecord>? OnFunction
    {
        get => _client.OnFunction;
        set => _client.OnFunction = value;
    }

    /// <summary>Deploys a workflow on the client and on every server, as each process of a cluster does.</summary>
    public void Register(WorkflowDefinition workflow)
    {
        _client.Register(workflow);
        _servers.Register(workflow);
    }

    /// <summary>
    /// Runs a workflow; the callback gets its result (with the session token for the next one). Thread-safe. If the
    /// callback throws, the exception is caught and counted (<see cref="CallbackFailures"/>); no other request is affected.
    /// </summary>
    public void Submit(string workflow, Args args, Action<CausalResult> onDone, CausalInvocation? invocation = null) =>
        _client.Submit(workflow, args, onDone, invocation);

    public Task<CausalResult> InvokeAsync(string workflow, Args args, CausalInvocation? invocation = null) =>
        _client.InvokeAsync(workflow, args, invocation);

    /// <summary>
    /// Stops the cluster; idempotent. Workflows submitted from now on are Rejected. Those in flight finish
    /// normally; any still running after <paramref name="drainTimeout"/> (30 s unless given) is answered
    /// Unknown, since the writes of its finished functions may already be visible. Completes once every
    /// caller is answered. The store, if any, belongs to the caller, who disposes it after this.
    /// </summary>
    public Task StopAsync(TimeSpan? drainTimeout = null) => _client.StopAsync(drainTimeout);

    /// <summary>
    /// A link of the cluster was lost (<see cref="CausalServerHost.OnLinkLost"/>): the cluster stops. Every workflow in flight
    /// is answered Failed and every later one Rejected, each with <paramref name="reason"/> and the link named.
    /// </summary>
    public void OnLinkLost(NodeId peer, string reason) => _servers.OnLinkLost(peer, reason);

    /// <summary>Why the cluster stopped on a lost link (null: it runs).</summary>
    public string? Halted => _client.Halted;
    /// <summary>Hops, ring messages and commits the servers refused after a stop (read when quiet).</summary>
    internal long RefusedAfterHalt => _servers.RefusedAfterHalt;

    /// <summary>As <see cref="StopAsync"/> with its default drain timeout.</summary>
    public ValueTask DisposeAsync() => new(StopAsync());
}
