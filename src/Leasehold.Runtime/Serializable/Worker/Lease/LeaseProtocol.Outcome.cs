using Leasehold.Runtime.Serializable.Messages;
using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Worker.Lease;

/// <summary>
/// The outcome barrier: a write made before its workflow is decided is tentative, its key gated from
/// later workflows with the value from before it kept aside, until the outcome keeps or restores it.
/// </summary>
internal sealed partial class LeaseProtocol
{
    /// <summary>A write of this workflow must still be held back from later workflows (the outcome barrier).</summary>
    private bool HoldsWrites(WorkflowRun run) =>
        run.Outcome is null
        && (_options.WriteGating == WriteGating.Strict || run.MayAbortRemaining > 0 || run.PendingFailure is not null);

    private void SetLocalTentative(KeyState key, WorkflowRun run, long batch)
    {
        if (key.TentativeTs == run.Ts) return;
        SetTentative(key, run.Ts, batch, Region.Read(key.Id).Value);
        (run.LocalTentative ??= []).Add(key.Id);
    }

    /// <summary>The workflow is decided: lift its barriers here and at the holders of keys it wrote remotely.</summary>
    public void OnResolved(WorkflowRun run, bool committed)
    {
        if (run.LocalTentative is { } local)
        {
            run.LocalTentative = null;
            foreach (int id in local) ResolveTentative(_worker.KeyOf(id), run.Ts, committed);
        }
        // A write still in flight could land after an early notice and undo the restore: the notice waits for it.
        run.RemoteOutcomeDue = true;
        if (run.ReleasesInFlight == 0) SendRemoteOutcome(run);
    }

    private void SendRemoteOutcome(WorkflowRun run)
    {
        run.RemoteOutcomeDue = false;
        if (run.RemoteTentative is not { } remote) return;
        run.RemoteTentative = null;
        bool committed = run.Outcome == WorkflowStatus.Committed;
        foreach (var group in remote.GroupBy(r => r.Holder))
            _endpoint.Send(NodeId.Worker(group.Key), new OutcomeMsg(run.Ts, committed, group.Select(r => r.KeyId).Distinct().ToArray()));
    }

    /// <summary>The outcome of a workflow whose writes to our keys were pending.</summary>
    private void OnOutcome(OutcomeMsg outcome)
    {
        foreach (int id in outcome.KeyIds) ResolveTentative(_worker.KeyOf(id), outcome.Ts, outcome.Committed);
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
        if (!committed) Region.WriteValue(key.Id, key.BeforeImage);
        key.TentativeTs = -1;
        key.BeforeImage = null;
        _worker.Retire(key.TentativeBatch);
        Pump(key);
    }
}
