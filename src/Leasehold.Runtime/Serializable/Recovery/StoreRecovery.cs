using Leasehold.Runtime.Serializable.Driver;
using Leasehold.Runtime.Storage;

namespace Leasehold.Runtime.Serializable.Recovery;

/// <summary>What a new incarnation starts from: the last commit, and the logged batches after it, to re-execute in order.</summary>
internal sealed record RecoveredState(long LastCommitted, IReadOnlyList<BatchInput> Replay, long TsFloor, long Epoch, BatchClock.Reservation Time);

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
    public static async Task<RecoveredState> ReadAsync(IStateStore store, Func<string, WorkflowDefinition?> workflows, long epoch, DateTimeOffset now, CancellationToken cancellation)
    {
        if (epoch == 0)
        {
            await ReadLogAsync(store, workflows, cancellation).ConfigureAwait(false); // a refusal changes nothing, not even the epoch
            epoch = await store.ClaimAsync(cancellation).ConfigureAwait(false);
        }
        var (last, replay) = await ReadLogAsync(store, workflows, cancellation).ConfigureAwait(false);
        // Only once the log is known to be recoverable: a refusal leaves the store exactly as the crash did.
        await store.DiscardUncommittedAsync(cancellation).ConfigureAwait(false);
        var time = await BatchClock.ReserveAsync(store, now, cancellation).ConfigureAwait(false);
        return new RecoveredState(last, replay, (epoch - 1) << EpochShift, epoch, time);
    }

    /// <summary>
    /// Every logged request names a registered workflow whose keys, resolved from the logged parameters,
    /// are in the logged lease table. A workflow changed since (a key selector that now picks other keys)
    /// would replay a different batch than the one that ran, and could not be leased.
    /// </summary>
    private static void CheckReplayable(long batch, BatchInput input, Func<string, WorkflowDefinition?> workflows)
    {
        var leased = input.Leases.Select(l => l.Key).ToHashSet();
        var ids = new Dictionary<StateKey, int>();
        foreach (var request in input.Requests)
        {
            var workflow = workflows(request.Workflow)
                ?? throw new RecoveryException($"logged batch {batch} ran workflow '{request.Workflow}', which is not registered: register every workflow before the first request");
            var resolved = AccessResolver.Resolve(workflow, request.Args, k => ids.TryGetValue(k, out int id) ? id : ids[k] = ids.Count, out string? error)
                ?? throw new RecoveryException($"logged batch {batch}: workflow '{request.Workflow}' no longer resolves its keys from the logged parameters: {error}");
            foreach (var accesses in resolved)
                foreach (var access in accesses)
                    if (!leased.Contains(access.Key))
                        throw new RecoveryException($"logged batch {batch}: workflow '{request.Workflow}' now declares {access.Key}, which the batch never leased: the workflow changed since the batch was logged; restart with the definition it ran with, then deploy the change");
        }
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
            CheckReplayable(batch, input, workflows);
            replay.Add(input);
        }
        return (last, replay);
    }
}
