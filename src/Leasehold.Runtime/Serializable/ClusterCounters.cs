namespace Leasehold.Runtime.Serializable;

/// <summary>Counters the bench reports; updated with interlocked adds from any thread.</summary>
public sealed class ClusterCounters
{
    private long _localAccesses;
    private long _remoteAccesses;
    private long _leaseTransfers;
    private long _batches;
    private long _outcomeBarriers;
    private long _rollbacks;
    private long _reexecuted;
    private long _deduplicated;

    public long LocalAccesses => Interlocked.Read(ref _localAccesses);
    public long RemoteAccesses => Interlocked.Read(ref _remoteAccesses);
    public long LeaseTransfers => Interlocked.Read(ref _leaseTransfers);
    public long BatchesCommitted => Interlocked.Read(ref _batches);
    /// <summary>Times a key was held back from later workflows until a workflow's outcome was known.</summary>
    public long OutcomeBarriers => Interlocked.Read(ref _outcomeBarriers);

    /// <summary>Times the cluster rolled back to the last commit and rebuilt its caches after a store failure.</summary>
    public long Rollbacks => Interlocked.Read(ref _rollbacks);
    /// <summary>Batches re-executed from the batch log (after a rollback, or on start after a crash).</summary>
    public long BatchesReexecuted => Interlocked.Read(ref _reexecuted);
    /// <summary>Requests answered from an earlier request with the same idempotency key instead of running.</summary>
    public long Deduplicated => Interlocked.Read(ref _deduplicated);

    /// <summary>Result callbacks (Submit's onDone) that threw; the cluster caught them and went on.</summary>
    public long CallbackFailures => Callbacks.Failures;
    /// <summary>The exception of the latest result callback that threw, or null.</summary>
    public Exception? LastCallbackFailure => Callbacks.LastFailure;
    /// <summary>Every result reaches its callbacks through this, so a throwing one is counted here.</summary>
    internal ResultCallbacks Callbacks { get; } = new();

    /// <summary>Share of accesses that ran on the key's leaseholder.</summary>
    public double LocalRatio
    {
        get
        {
            long l = LocalAccesses, r = RemoteAccesses;
            return l + r == 0 ? 1 : (double)l / (l + r);
        }
    }

    /// <summary>Where committed batches spent their time, summed over the batches closed by this driver.</summary>
    public BatchPhases Phases { get; } = new();

    internal void Access(bool local) => Interlocked.Increment(ref local ? ref _localAccesses : ref _remoteAccesses);
    internal void LeaseTransferred() => Interlocked.Increment(ref _leaseTransfers);
    internal void BatchCommitted() => Interlocked.Increment(ref _batches);
    internal void RolledBack() => Interlocked.Increment(ref _rollbacks);
    internal void Reexecuted(int batches) => Interlocked.Add(ref _reexecuted, batches);
    internal void Deduplicate() => Interlocked.Increment(ref _deduplicated);
    internal void OutcomeBarrier() => Interlocked.Increment(ref _outcomeBarriers);
}
