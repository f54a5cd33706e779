namespace Leasehold.Runtime.Serializable.Recovery;

/// <summary>
/// The workers of a cluster whose workers run in other processes: the supervisor asks them to build each
/// incarnation's worker nodes and to retire them, through their processes' hosts. In one process the
/// supervisor builds the workers itself and needs none of this.
/// </summary>
internal interface IRemoteWorkers
{
    /// <summary>
    /// Has every worker process build its node of incarnation <paramref name="number"/>, starting at
    /// <paramref name="firstBatch"/>, and register its region. <paramref name="done"/> runs once: with null when
    /// all have, or with the reason one cannot (its process refused or lost, or it did not answer in time).
    /// </summary>
    void Start(int number, long firstBatch, ClusterOptions options, Action<string?> done);

    /// <summary>
    /// Retires every worker process's incarnation <paramref name="number"/> (its region key and its store calls);
    /// <paramref name="whenQuiet"/> runs once, when none of them has a store call running. A process whose link is
    /// lost counts as quiet: the cluster stops after it (static membership cannot replace it), and the batches it may
    /// still write for never committed, so recovery discards their versions.
    /// </summary>
    void Supersede(int number, Action whenQuiet);

    /// <summary>The driver is stopping for good: the worker processes retire and exit.</summary>
    void Shutdown(string reason);
}
