namespace Leasehold.Runtime.Storage;

/// <summary>
/// The durable store behind the caches. Values are versioned by the batch that wrote them; a batch's
/// versions count only once its commit record exists, and commit records are written in batch order,
/// so the commit record is the single atomic point even on stores without multi-key transactions
/// (a Redis Cluster). Every engine passes one conformance suite (tests/…/Storage/Conformance).
/// </summary>
public interface IStateStore : IAsyncDisposable
{
    /// <summary>Engine name as the bench reports it ("memory", "rocksdb", …).</summary>
    string Name { get; }

    /// <summary>
    /// Loads initial state as batch 0, committed. Only into a store that has never committed a batch:
    /// loading over live data would silently replace it.
    /// </summary>
    ValueTask LoadAsync(IEnumerable<KeyValuePair<StateKey, byte[]>> objects, CancellationToken cancellation = default);

    /// <summary>
    /// Writes one worker's versions for <paramref name="batch"/> in one write (atomic where the engine
    /// offers it). A null value is a delete. Refused for a batch that is already committed.
    /// </summary>
    ValueTask WriteVersionsAsync(long batch, IReadOnlyList<KeyValuePair<StateKey, byte[]?>> writes, CancellationToken cancellation = default);

    /// <summary>
    /// Writes the commit record of <paramref name="batch"/>, durably, before it returns. Conditional:
    /// only <c>last committed + 1</c> may commit (a <see cref="StoreConflictException"/> otherwise), so
    /// batches commit strictly in order even with two writers. The batch's logged input is dropped with
    /// it (recovery re-executes only batches that did not commit), so the log stays as short as the pipeline.
    /// </summary>
    ValueTask CommitAsync(long batch, CancellationToken cancellation = default) => CommitAsync(batch, epoch: 0, cancellation);

    /// <summary>
    /// As <see cref="CommitAsync(long, CancellationToken)"/>, fenced: refused with a
    /// <see cref="StoreFencedException"/> unless <paramref name="epoch"/> is still the store's latest
    /// claim (<see cref="ClaimAsync"/>), checked atomically with the commit. 0 checks nothing.
    /// </summary>
    ValueTask CommitAsync(long batch, long epoch, CancellationToken cancellation = default);

    /// <summary>
    /// Claims the store for a new owner and returns its epoch (1, 2, …): from then on, commit records and
    /// batch-log appends fenced with an older epoch are refused, so a node that another node has replaced
    /// (two nodes pointed at one schema, an overlapping deploy) can never commit behind its back.
    /// </summary>
    ValueTask<long> ClaimAsync(CancellationToken cancellation = default);

    /// <summary>The newest version of <paramref name="key"/> tagged with a committed batch; null when absent.</summary>
    ValueTask<byte[]?> ReadCommittedAsync(StateKey key, CancellationToken cancellation = default);

    /// <summary>The last committed batch, or 0 when only the initial load is there.</summary>
    ValueTask<long> LastCommittedAsync(CancellationToken cancellation = default);

    /// <summary>Every committed object of <paramref name="table"/>, in key order (ordinal).</summary>
    IAsyncEnumerable<KeyValuePair<string, byte[]>> ScanCommittedAsync(string table, CancellationToken cancellation = default);

    /// <summary>Makes a batch's input (its requests and lease table) durable before it executes.</summary>
    ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, CancellationToken cancellation = default) =>
        AppendBatchInputAsync(batch, input, epoch: 0, cancellation);

    /// <summary>As <see cref="AppendBatchInputAsync(long, ReadOnlyMemory{byte}, CancellationToken)"/>, fenced like a commit record.</summary>
    ValueTask AppendBatchInputAsync(long batch, ReadOnlyMemory<byte> input, long epoch, CancellationToken cancellation = default);

    /// <summary>
    /// Group commit: makes the <paramref name="inputs"/> (batch number and input, in batch order) durable and
    /// writes the commit records of batches <paramref name="commitFrom"/>..<paramref name="commitThrough"/>
    /// (none when <paramref name="commitThrough"/> &lt; <paramref name="commitFrom"/>), fenced by
    /// <paramref name="epoch"/> as each of them is, in one durable write where the engine allows it: the driver
    /// keeps one such write in flight, so in a busy pipeline one sync carries the commit of batch b and the input
    /// of a later one instead of each paying its own. The rules of the single calls hold (commits in batch
    /// order, from <c>last committed + 1</c>). On failure any part of it may have been applied, as with the single
    /// calls: recovery reads what the store holds. This default makes the single calls, commits first.
    /// </summary>
    async ValueTask WriteLogAsync(IReadOnlyList<KeyValuePair<long, ReadOnlyMemory<byte>>> inputs, long commitFrom, long commitThrough, long epoch, CancellationToken cancellation = default)
    {
        for (long batch = commitFrom; batch <= commitThrough; batch++) await CommitAsync(batch, epoch, cancellation).ConfigureAwait(false);
        foreach (var (batch, input) in inputs) await AppendBatchInputAsync(batch, input, epoch, cancellation).ConfigureAwait(false);
    }

    /// <summary>The logged inputs of the batches after <paramref name="after"/>, in batch order.</summary>
    IAsyncEnumerable<KeyValuePair<long, byte[]>> ReadBatchInputsAsync(long after, CancellationToken cancellation = default);

    /// <summary>
    /// Forgets every version of a batch after the last committed one (recovery, rollback), finding them
    /// through the batches' write index rather than by scanning the store. Returns how many were removed.
    /// </summary>
    ValueTask<long> DiscardUncommittedAsync(CancellationToken cancellation = default);

    /// <summary>
    /// A conditional write of an unversioned record (idempotency keys, leadership): sets
    /// <paramref name="name"/> to <paramref name="value"/> only if it now holds <paramref name="expected"/>
    /// (null: absent), durably. True when it did.
    /// </summary>
    ValueTask<bool> CompareAndSetAsync(string name, byte[]? expected, byte[] value, CancellationToken cancellation = default);

    /// <summary>An unversioned record written by <see cref="CompareAndSetAsync"/>; null when absent.</summary>
    ValueTask<byte[]?> ReadRecordAsync(string name, CancellationToken cancellation = default);
}

/// <summary>A conditional write found the store in another state than it expected.</summary>
public sealed class StoreConflictException(string message) : Exception(message);

/// <summary>Another owner has claimed the store since this one did: this one must stop, not retry.</summary>
public sealed class StoreFencedException(string message) : Exception(message);

/// <summary>The store cannot be used: unreachable, misconfigured, or its data is not a Leasehold store. The message names the cause.</summary>
public sealed class StoreUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
