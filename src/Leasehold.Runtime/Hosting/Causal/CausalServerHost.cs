using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Messages;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Causal.Workflows;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Hosting.Causal;

/// <summary>
/// The cache servers one process hosts (a worker process hosts server i, co-located with its functions, as in the
/// paper): each server with its modelled CPU and its transport node, registered on the process's transport, its ring
/// link going to <c>CacheServer((i + 1) % n)</c> wherever that lives. All it needs is the options, the deployed
/// workflows (<see cref="Register"/>: code, the same in every process) and the initial values (code too); all it
/// shares with the client, or with servers of other processes, is messages. Its metrics are this process's.
/// </summary>
public sealed class CausalServerHost
{
    private readonly ICacheServer[] _servers;
    private readonly ServerCpu[] _cpus;
    private readonly CausalServerNode[] _nodes;
    private readonly Endpoint[] _endpoints;
    private readonly CausalWorkflowTable _workflows = new();
    private readonly CacheServer[] _meshServers;

    /// <param name="servers">the indices (in 0..<see cref="CausalOptions.Servers"/>−1) of the servers this process hosts.</param>
    /// <param name="initial">the value of a key never written (the workload's, deployed with the code).</param>
    /// <param name="store">
    /// the store (§6), needs a durability other than None. A <see cref="CausalStore"/> is the cluster's one writer, fed by
    /// every tail, so a host with a store must host every server: the servers of one process only.
    /// </param>
    public CausalServerHost(CausalOptions options, IScheduler scheduler, ITransport transport, IReadOnlyList<int> servers,
        Func<StateKey, byte[]?>? initial = null, CausalStore? store = null)
        : this(options, scheduler, transport, servers, initial, store, attachStore: true)
    {
    }

    internal CausalServerHost(CausalOptions options, IScheduler scheduler, ITransport transport, IReadOnlyList<int> servers,
        Func<StateKey, byte[]?>? initial, CausalStore? store, bool attachStore)
    {
        options.Validate();
        int n = options.Servers;
        Check(servers, n);
        if ((store is null) != (options.Durability == CausalDurability.None))
            throw new ArgumentException(store is null ? $"durability {options.Durability} needs a store" : "a store needs durability write-behind or synchronous");
        if (store is not null && servers.Count != n)
            throw new ArgumentException($"a causal store is the cluster's one writer, fed by every server: a host with a store hosts all {n} servers, not {servers.Count}; " +
                "servers in several processes have no shared store yet (issue 16: PostgreSQL or Redis)");
        if (store is not null && attachStore) store.Attach(scheduler, options);
        Options = options;
        Indices = [.. servers];
        initial ??= static _ => null;
        if (options.Protocol == CausalProtocol.CausalMesh)
        {
            var mesh = servers.Select(i => new CacheServer(i, options, scheduler, initial)).ToArray();
            if (store is not null) foreach (var s in mesh) s.AttachStore(store);
            _meshServers = mesh;
            _servers = mesh;
        }
        else
        {
            _meshServers = [];
            _servers = [.. servers.Select(i => new EventualServer(i, n, scheduler, initial))];
        }
        _cpus = new ServerCpu[_servers.Length];
        _nodes = new CausalServerNode[_servers.Length];
        _endpoints = new Endpoint[_servers.Length];
        for (int s = 0; s < _servers.Length; s++)
        {
            var server = _servers[s];
            _cpus[s] = new ServerCpu(scheduler, server.Mailbox);
            var node = _nodes[s] = new CausalServerNode(server, _cpus[s], options, _workflows, scheduler.Time);
            var endpoint = _endpoints[s] = transport.Register(NodeId.CacheServer(server.Id), CausalNodes.Incarnation, server.Mailbox, node);
            node.Attach(endpoint);
            server.Connect(endpoint, CausalNodes.Successor(server.Id, n));
        }
    }

    private static void Check(IReadOnlyList<int> servers, int n)
    {
        if (servers.Count == 0) throw new ArgumentException("a server host hosts at least one server");
        foreach (int i in servers)
            if (i < 0 || i >= n) throw new ArgumentException($"server {i} is not one of the cluster's {n} (0..{n - 1})");
        if (servers.Distinct().Count() != servers.Count) throw new ArgumentException($"a server is named twice: [{string.Join(",", servers)}]");
    }

    public CausalOptions Options { get; }
    /// <summary>The servers this process hosts, in the order given.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>
    /// Deploys a workflow here: the servers run its functions by name. Every process registers the same workflows, before
    /// any runs. A transactional one makes the servers keep the versions snapshots read.
    /// </summary>
    public void Register(WorkflowDefinition workflow)
    {
        CausalWorkflowTable.RequireDeployable(workflow);
        _workflows.Add(workflow);
        if (workflow.Consistency == Consistency.TransactionalCausal)
            foreach (var server in _meshServers) server.ServeTransactions();
    }

    /// <summary>
    /// This process lost its link to <paramref name="peer"/> (the socket transport calls it). A CausalMesh ring needs reliable
    /// FIFO links, and until servers can leave a ring (a later issue) a broken link stops the causal cluster: this host's
    /// servers run nothing more, and the client is told, which fails every workflow in flight and every later one with
    /// <paramref name="reason"/> and the link named, and tells every other server. Idempotent; the first reason stays.
    /// </summary>
    public void OnLinkLost(NodeId peer, string reason)
    {
        var stopped = CausalNodes.HaltReason($"the link from {Local} to {peer} was lost: {reason}");
        for (int s = 0; s < _nodes.Length; s++)
        {
            var (node, endpoint) = (_nodes[s], _endpoints[s]);
            endpoint.Mailbox.Post(() =>
            {
                if (node.Halted is not null) return;
                node.Halt(stopped);
                // Sent even when the lost link is the client's: over a broken link it goes nowhere (the client's own hook stops
                // it), and in one process, where no link breaks, it is how the client hears.
                endpoint.Send(CausalNodes.Client, new CausalHaltMsg(stopped));
            });
        }
    }

    /// <summary>This process's servers, as a link's local end is named.</summary>
    private string Local => string.Join("+", _servers.Select(s => NodeId.CacheServer(s.Id)));

    /// <summary>Why this host's servers stopped (null: they run; read when quiet).</summary>
    public string? Halted => _nodes.Select(n => n.Halted).FirstOrDefault(h => h is not null);
    /// <summary>Hops, ring messages and commits this host's servers refused after the stop (read when quiet).</summary>
    public long RefusedAfterHalt => _nodes.Sum(n => n.RefusedAfterHalt);

    /// <summary>Hops refused because they named a workflow this process did not deploy, or did not fit it (read when quiet).</summary>
    public long Undeployed => _nodes.Sum(n => n.Undeployed);

    /// <summary>Keys loaded from the store on a miss, and keys evicted, over this host's servers (read when the run is quiet).</summary>
    public long Misses => _meshServers.Sum(s => s.Misses);
    public long Evictions => _meshServers.Sum(s => s.Evictions);
    /// <summary>Ring messages this host's servers sent.</summary>
    public long RingMessages => _servers.Sum(s => s.RingSent);
    /// <summary>Modelled busy time of each server of this host, in the order of <see cref="Indices"/>.</summary>
    public IReadOnlyList<TimeSpan> ServerBusy => [.. _cpus.Select(c => c.Busy)];
    /// <summary>Fan-ins waiting for a parent's hop on this host's servers (tests: none once every attempt ended; read when quiet).</summary>
    internal int WaitingFanIns => _nodes.Sum(n => n.WaitingFanIns);
    /// <summary>This host's CausalMesh servers, for the invariant checks (empty under another protocol).</summary>
    internal IReadOnlyList<CacheServer> CacheServers => _meshServers;
}
