using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Storage;

namespace Leasehold.Runtime.Serializable.Recovery;

/// <summary>What a new incarnation starts from: the last commit, and the logged batches after it, to re-execute in order.</summary>
internal sealed record RecoveredState(long LastCommitted, long DiscardedVersions, IReadOnlyList<BatchInput> Replay, long TsFloor, long Epoch);

/// <summary>The store's contents cannot be recovered from (a corrupted log, a workflow that is not registered): retrying will not help.</summary>
public sealed class RecoveryException(string message) : Exception(message);

/// <summary>
/// §7's recovery, read from the store: the last committed batch, the logged inputs of the batches
/// after it, and — once those are known to be re-executable — the versions of every later batch
/// discarded (found through the write index, not by scanning). The callers of the logged batches never
/// saw a result, so re-executing them changes nothing anyone observed. Used on start (after a crash)
/// and after a failed commit (rollback).
/// </summary>
internal static class StoreRecovery
{
    /// <summary>Timestamps of each start begin above every earlier start's (2^40 per start).</summary>
    private const int EpochShift = 40;

    /// <summary>
    /// On start (<paramref name="epoch"/> 0) the store is first checked without changing it, then claimed —
    /// a new epoch that fences every earlier owner's commit records and log appends — and then read again,
    /// since the earlier owner may have moved on in between. After a rollback the epoch stays.
    /// </summary>
    public static async Task<RecoveredState> ReadAsync(IStateStore store, Func<string, WorkflowDefinition?> workflows, long epoch, CancellationToken cancellation)
    {
        if (epoch == 0)
        {
            await ReadLogAsync(store, workflows, cancellation).ConfigureAwait(false); // a refusal changes nothing, not even the epoch
            epoch = await store.ClaimAsync(cancellation).ConfigureAwait(false);
        }
        var (last, replay) = await ReadLogAsync(store, workflows, cancellation).ConfigureAwait(false);
        // Only once the log is known to be recoverable: a refusal leaves the store exactly as the crash did.
        long discarded = await store.DiscardUncommittedAsync(cancellation).ConfigureAwait(false);
        return new RecoveredState(last, discarded, replay, (epoch - 1) << EpochShift, epoch);
    }

    private static async Task<(long Last, List<BatchInput> Replay)> ReadLogAsync(IStateStore store, Func<string, WorkflowDefinition?> workflows, CancellationToken cancellation)
    {
        long last = await store.LastCommittedAsync(cancellation).ConfigureAwait(false);
        var replay = new List<BatchInput>();
        await foreach (var (batch, record) in store.ReadBatchInputsAsync(last, cancellation).ConfigureAwait(false))
        {
            if (batch <= last) continue;
            long expected = last + 1 + replay.Count;
            if (batch != expected) throw new RecoveryException($"the batch log holds batch {batch} where batch {expected} should come next: the log has a gap");
            BatchInput input;
            try { input = BatchInputCodec.Decode(record); }
            catch (FormatException e) { throw new RecoveryException($"the batch log's record of batch {batch} cannot be read: {e.Message}"); }
            if (input.Batch != batch) throw new RecoveryException($"the batch log's record under batch {batch} says it is batch {input.Batch}: corrupted");
            foreach (var request in input.Requests)
                if (workflows(request.Workflow) is null)
                    throw new RecoveryException($"logged batch {batch} ran workflow '{request.Workflow}', which is not registered: register every workflow before the first request");
            replay.Add(input);
        }
        return (last, replay);
    }
}
