using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Storage;

namespace Leasehold.Runtime.Serializable.Recovery;

/// <summary>What a new incarnation starts from: the last commit, and the logged batches after it, to re-execute in order.</summary>
internal sealed record RecoveredState(long LastCommitted, long DiscardedVersions, IReadOnlyList<BatchInput> Replay, long TsFloor);

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
    private const int IncarnationShift = 40;
    private const string IncarnationRecord = "leasehold.incarnation";

    public static async Task<RecoveredState> ReadAsync(IStateStore store, Func<string, WorkflowDefinition?> workflows, bool onStart, CancellationToken cancellation)
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
        // Only once the log is known to be recoverable: a refusal leaves the store exactly as the crash did.
        long discarded = await store.DiscardUncommittedAsync(cancellation).ConfigureAwait(false);
        long floor = onStart ? await NextIncarnationAsync(store, cancellation).ConfigureAwait(false) << IncarnationShift : 0;
        return new RecoveredState(last, discarded, replay, floor);
    }

    /// <summary>Counts this start in the store, so its timestamps never repeat an earlier start's.</summary>
    private static async Task<long> NextIncarnationAsync(IStateStore store, CancellationToken cancellation)
    {
        for (int attempt = 0; attempt < 8; attempt++)
        {
            var current = await store.ReadRecordAsync(IncarnationRecord, cancellation).ConfigureAwait(false);
            if (current is { Length: not 8 }) throw new RecoveryException($"the store's '{IncarnationRecord}' record holds {current.Length} bytes, not 8: it is not a Leasehold store, or it is corrupted");
            long n = current is null ? 0 : BitConverter.ToInt64(current) + 1;
            if (await store.CompareAndSetAsync(IncarnationRecord, current, BitConverter.GetBytes(n), cancellation).ConfigureAwait(false)) return n;
        }
        throw new StoreConflictException("another process keeps starting on this store: two nodes must not share one store");
    }
}
