namespace Leasehold.Runtime.Serializable;

/// <summary>Counters the bench reports; updated with interlocked adds from any thread.</summary>
public sealed class ClusterCounters
{
    private long _localAccesses;
    private long _remoteAccesses;
    private long _leaseTransfers;
    private long _batches;
    private long _outcomeBarriers;

    public long LocalAccesses => Interlocked.Read(ref _localAccesses);
    public long RemoteAccesses => Interlocked.Read(ref _remoteAccesses);
    public long LeaseTransfers => Interlocked.Read(ref _leaseTransfers);
    public long BatchesCommitted => Interlocked.Read(ref _batches);
    /// <summary>Times a key was held back from later workflows until a workflow's outcome was known.</summary>
    public long OutcomeBarriers => Interlocked.Read(ref _outcomeBarriers);

    /// <summary>Share of accesses that ran on the key's leaseholder.</summary>
    public double LocalRatio
    {
        get
        {
            long l = LocalAccesses, r = RemoteAccesses;
            return l + r == 0 ? 1 : (double)l / (l + r);
        }
    }

    internal void Access(bool local) => Interlocked.Increment(ref local ? ref _localAccesses : ref _remoteAccesses);
    internal void LeaseTransferred() => Interlocked.Increment(ref _leaseTransfers);
    internal void BatchCommitted() => Interlocked.Increment(ref _batches);
    internal void OutcomeBarrier() => Interlocked.Increment(ref _outcomeBarriers);
}
