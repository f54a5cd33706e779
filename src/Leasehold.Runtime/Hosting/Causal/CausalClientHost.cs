using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Causal.Workflows;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Hosting.Causal;

/// <summary>
/// The causal client, in the driver process: admission, placement, sessions and every attempt's result, as the node
/// <c>NodeId.Client(0)</c> on the process's transport. It reaches the servers by address only (they may live in
/// other processes); what it needs is the options, the deployed workflows (<see cref="Register"/>) and the cluster's
/// identity, which only the client uses (it issues and admits session tokens), so no other process derives it.
/// </summary>
public sealed class CausalClientHost
{
    private readonly CausalWorkflowEngine _engine;

    /// <summary>A client whose servers may live anywhere. Its identity is drawn here (<see cref="ClusterIdentity.Draw"/>).</summary>
    public CausalClientHost(CausalOptions options, IScheduler scheduler, ITransport transport)
        : this(options, scheduler, transport, scheduler.CreateMailbox("causal-clients"), store: null)
    {
    }

    /// <param name="client">the client's mailbox (the one-process cluster creates it before the servers' ones: the deterministic schedule depends on the order).</param>
    /// <param name="store">
    /// the store of a cluster in one process: it names the cluster (a token outlives a restart) and tells synchronous
    /// durability when writes are durable. A client in its own process has none yet (no shared store).
    /// </param>
    internal CausalClientHost(CausalOptions options, IScheduler scheduler, ITransport transport, Mailbox client, CausalStore? store)
    {
        options.Validate();
        if (store is null && options.Durability == CausalDurability.Synchronous)
            throw new ArgumentException("synchronous durability answers once writes are in the store: the client needs the cluster's store, which only a cluster in one process shares yet");
        Options = options;
        Scheduler = scheduler;
        Identity = new ClusterIdentity(store?.ClusterId ?? ClusterIdentity.Draw(options.Seed, scheduler.Time), options.Servers);
        _engine = new CausalWorkflowEngine(options, scheduler, transport, client, options.Servers, new CausalWorkflowTable(), store, Identity);
    }

    public CausalOptions Options { get; }
    public IScheduler Scheduler { get; }
    /// <summary>Which cluster this is: it admits only session tokens it issued (or, with a store, that a cluster on the same store issued).</summary>
    public ClusterIdentity Identity { get; }

    /// <summary>Result callbacks (Submit's onDone) that threw; the client caught them and went on.</summary>
    public long CallbackFailures => _engine.Callbacks.Failures;
    /// <summary>The exception of the latest result callback that threw, or null.</summary>
    public Exception? LastCallbackFailure => _engine.Callbacks.LastFailure;
    /// <summary>Why the cluster stopped on a lost link (null: it runs).</summary>
    public string? Halted => _engine.Halted;

    /// <summary>Called once per function execution when set (the history recorder); on the client's mailbox.</summary>
    public Action<CausalFunctionRecord>? OnFunction
    {
        get => _engine.OnFunction;
        set => _engine.OnFunction = value;
    }

    /// <summary>Deploys a workflow on the client: it admits requests for it. Every process registers the same workflows.</summary>
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
    /// caller is answered.
    /// </summary>
    public Task StopAsync(TimeSpan? drainTimeout = null) => _engine.StopAsync(drainTimeout);

    /// <summary>
    /// The driver process lost its link to <paramref name="peer"/> (the socket transport calls it): the causal cluster stops.
    /// Every workflow in flight is answered Failed, every later one Rejected, each with <paramref name="reason"/> and the
    /// link named, and every server reachable is told to run nothing more. Idempotent; the first reason stays.
    /// </summary>
    public void OnLinkLost(NodeId peer, string reason) => _engine.OnLinkLost(peer, reason);
}
