namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// The outcome barrier: a write made before its workflow is decided is tentative, its key gated from
/// later workflows with the value from before it kept aside, until the outcome keeps or restores it.
/// </summary>
internal sealed partial class LeaseProtocol
{
    /// <summary>A write of this workflow must still be held back from later workflows (the outcome barrier).</summary>
    private bool HoldsWrites(Request request) =>
        request.Outcome is null
        && (_options.WriteGating == WriteGating.Strict || request.MayAbortRemaining > 0 || request.PendingFailure is not null);

    private void SetLocalTentative(KeyState key, Request request, long batch)
    {
        if (key.TentativeTs == request.Ts) return;
        SetTentative(key, request.Ts, batch, Region[key.Id].Read().Value);
        (request.LocalTentative ??= []).Add(key.Id);
    }

    /// <summary>The workflow is decided: lift its barriers here and at the holders of keys it wrote remotely.</summary>
    public void OnResolved(Request request, bool committed)
    {
        if (request.LocalTentative is { } local)
        {
            request.LocalTentative = null;
            foreach (int id in local) ResolveTentative(_worker.KeyOf(id), request.Ts, committed);
        }
        // A write still in flight could land after an early notice and undo the restore: the notice waits for it.
        request.RemoteOutcomeDue = true;
        if (request.ReleasesInFlight == 0) SendRemoteOutcome(request);
    }

    private void SendRemoteOutcome(Request request)
    {
        request.RemoteOutcomeDue = false;
        if (request.RemoteTentative is not { } remote) return;
        request.RemoteTentative = null;
        bool committed = request.Outcome == WorkflowStatus.Committed;
        foreach (var group in remote.GroupBy(r => r.Holder))
        {
            var holder = _peers[group.Key];
            var keys = group.Select(r => r.KeyId).Distinct().ToArray();
            long ts = request.Ts;
            _network.Send(Mailbox, holder.Mailbox, () => holder.OnOutcome(ts, committed, keys));
        }
    }

    /// <summary>The outcome of a workflow whose writes to our keys were pending.</summary>
    public void OnOutcome(long ts, bool committed, int[] keyIds)
    {
        foreach (int id in keyIds) ResolveTentative(_worker.KeyOf(id), ts, committed);
    }

    private void SetTentative(KeyState key, long ts, long batch, byte[]? beforeImage)
    {
        if (key.TentativeTs == ts) return; // the workflow wrote here before: keep the value from before it
        if (key.TentativeTs >= 0) throw new InvalidOperationException($"worker {Id}: key {key.Id} has two pending outcomes ({key.TentativeTs}, {ts})");
        _counters.OutcomeBarrier();
        key.TentativeTs = ts;
        key.TentativeBatch = batch;
        key.BeforeImage = beforeImage;
        _worker.Batch(batch).Open++;
    }

    private void ResolveTentative(KeyState key, long ts, bool committed)
    {
        if (key.TentativeTs != ts) return;
        if (!committed) Region[key.Id].WriteValue(key.BeforeImage);
        key.TentativeTs = -1;
        key.BeforeImage = null;
        _worker.Retire(key.TentativeBatch);
        Pump(key);
    }
}
