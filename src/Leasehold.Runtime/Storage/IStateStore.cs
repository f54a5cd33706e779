namespace Leasehold.Runtime.Storage;

/// <summary>
/// The durable store behind the caches. Values are versioned by the batch that wrote them; a batch's
/// versions count only once its commit record exists, and commit records are written in batch order,
/// so the commit record is the single atomic point even on stores without multi-key transactions.
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Engine name as the bench reports it ("memory", "rocksdb", …).</summary>
    string Name { get; }

    /// <summary>Writes one worker's versions for <paramref name="batch"/> in one atomic write. A null value is a delete.</summary>
    ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken cancellation = default);

    /// <summary>Writes the commit record of <paramref name="batch"/>; batches commit strictly in order.</summary>
    ValueTask CommitAsync(long batch, CancellationToken cancellation = default);

    /// <summary>The newest version of <paramref name="key"/> tagged with a committed batch; null when absent.</summary>
    ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default);

    /// <summary>The last committed batch, or 0 when only the initial load is there.</summary>
    ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default);

    /// <summary>Every committed object of <paramref name="table"/>, in key order.</summary>
    IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, CancellationToken cancellation = default);
}
