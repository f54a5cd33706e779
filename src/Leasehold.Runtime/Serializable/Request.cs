namespace Leasehold.Runtime.Serializable;

/// <summary>One declared access of one function after key resolution: an object id and a mode.</summary>
internal readonly record struct ResolvedAccess(int KeyId, StateKey Key, AccessMode Mode);

/// <summary>
/// A workflow invocation as the driver admits it and the routed worker runs it. The driver fills the
/// first part (timestamp, keys, route); the routed worker owns the execution state.
/// </summary>
internal sealed class Request
{
    public Request(WorkflowDefinition workflow, Args args, Action<WorkflowResult> onDone, long admittedAt, string? idempotencyKey, bool holdsPermit)
    {
        Workflow = workflow;
        Args = args;
        OnDone = onDone;
        AdmittedAt = admittedAt;
        IdempotencyKey = idempotencyKey;
        HoldsPermit = holdsPermit;
    }

    /// <summary>A fresh request for re-executing this one (rollback, recovery): same input, same callers, no execution state.</summary>
    public Request Reincarnate() => new(Workflow, Args, OnDone, AdmittedAt, IdempotencyKey, HoldsPermit);

    public WorkflowDefinition Workflow { get; }
    public Args Args { get; }
    /// <summary>Everyone waiting for the result: the caller, and callers that retried with the same idempotency key.</summary>
    public Action<WorkflowResult> OnDone;
    public long AdmittedAt { get; }
    /// <summary>The caller's key for retries: a request with a key that already committed returns the first result.</summary>
    public string? IdempotencyKey { get; }
    /// <summary>The request holds one of the admission queue's permits (a re-executed logged request with no caller does not).</summary>
    public bool HoldsPermit { get; }

    // Filled by the driver at admission.
    public long Ts;
    public long Batch;
    public int Worker;
    /// <summary>Per function (by index): its distinct accesses, keys resolved from the parameters.</summary>
    public ResolvedAccess[][] Accesses = [];

    // Owned by the routed worker while it runs.
    public Operation[] Operations = [];
    public byte[]?[] Outputs = [];
    public WorkflowStatus? Outcome;
    public string? Reason;
    public int OperationsOutstanding;
    public int FunctionsRemaining;
    /// <summary>The failure (abort or error) at the lowest position so far; the workflow is decided with it once nothing before it is pending.</summary>
    public (int Position, WorkflowStatus Status, string? Reason)? PendingFailure;
    /// <summary>Functions declared MayAbort that have not finished.</summary>
    public int MayAbortRemaining;
    /// <summary>Some write became visible before the outcome was known (only under WriteGating.DeclaredAborts).</summary>
    public bool ExposedBeforeOutcome;
    /// <summary>Remote keys this workflow wrote before its outcome was known, released to their holders.</summary>
    public List<(int Holder, int KeyId)>? RemoteTentative;
    /// <summary>Remote releases issued but not yet landed; the outcome notice to holders waits for them.</summary>
    public int ReleasesInFlight;
    /// <summary>The outcome is known and the holders of <see cref="RemoteTentative"/> keys still need to hear it.</summary>
    public bool RemoteOutcomeDue;
    /// <summary>Local keys this workflow wrote before its outcome was known.</summary>
    public List<int>? LocalTentative;
    /// <summary>NoCC: values to put back, newest last, if the workflow does not commit.</summary>
    public List<(int Holder, int KeyId, byte[]? Before)>? Undo;

    public bool OutcomeKnown => Outcome is not null;

    public WorkflowResult ToResult() => new(Outcome ?? WorkflowStatus.Failed, Ts, Reason, Outputs, Workflow);

    public override string ToString() => $"{Workflow.Name}@{Ts}";
}
