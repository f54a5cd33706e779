using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Hosting.Processes;

/// <summary>
/// The driver process's admission of worker processes when the driver builds no incarnations (the causal mode): the
/// host node <c>NodeId.DriverHost</c> on the process's transport, which admits each worker's join only if it deployed
/// exactly the driver's workflows (name and <see cref="WorkflowFingerprint"/>), marks lost workers, and shuts the
/// workers down at the end. The worker side is a join-only <see cref="WorkerProcessHost"/>.
/// </summary>
public sealed class WorkerMembership
{
    private readonly RemoteWorkerFleet _fleet;

    /// <param name="workflows">the driver's workflows: every worker must deploy exactly these.</param>
    /// <param name="joinTimeout">how long <see cref="JoinedAsync"/> waits for every worker (60 s unless given);
    /// <see cref="Timeout.InfiniteTimeSpan"/> in the deterministic mode, where time may pass while a join is on its way.</param>
    public WorkerMembership(int workers, IScheduler scheduler, ITransport transport, IEnumerable<WorkflowDefinition> workflows, TimeSpan? joinTimeout = null)
    {
        if (workers < 1) throw new ArgumentException($"a cluster of worker processes has at least one worker, not {workers}");
        var fingerprints = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var w in workflows)
            if (!fingerprints.TryAdd(w.Name, WorkflowFingerprint.Of(w))) throw new WorkflowDefinitionException($"a workflow named '{w.Name}' is deployed twice");
        Workers = workers;
        _fleet = new RemoteWorkerFleet(workers, scheduler, transport, () => fingerprints, joinTimeout ?? TimeSpan.FromSeconds(60), Timeout.InfiniteTimeSpan);
    }

    public int Workers { get; }

    /// <summary>Worker indexes that have joined (a copy; any thread).</summary>
    public IReadOnlyList<int> Joined => _fleet.Joined;

    /// <summary>
    /// Completes with null once every worker has joined, or with the reason at once when one is refused (naming it and every
    /// difference of its workflows), lost, or not joined within the join timeout.
    /// </summary>
    public Task<string?> JoinedAsync()
    {
        var joined = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _fleet.AwaitJoined(failure => joined.TrySetResult(failure));
        return joined.Task;
    }

    /// <summary>The link to the process of <paramref name="nodes"/> was lost: its workers are gone for good (static membership).</summary>
    public void Lost(IEnumerable<NodeId> nodes, string reason)
    {
        var workers = nodes.Where(n => n.Role == NodeRole.Worker).Select(n => (int)n.Index).ToArray();
        if (workers.Length > 0) _fleet.Lost(workers, reason);
    }

    /// <summary>Tells every joined worker that is not lost to stop: each exits cleanly. Idempotent.</summary>
    public void Shutdown(string reason) => _fleet.Shutdown(reason);

    /// <summary>Completes once the shutdown messages are sent: close the links after it.</summary>
    public Task ShutdownSent => _fleet.ShutdownSent;
}
