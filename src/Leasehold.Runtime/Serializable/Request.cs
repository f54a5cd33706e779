using Leasehold.Runtime.Serializable.Messages;

namespace Leasehold.Runtime.Serializable;

/// <summary>One declared access of one function after key resolution: an object id and a mode.</summary>
internal readonly record struct ResolvedAccess(int KeyId, StateKey Key, AccessMode Mode);

/// <summary>
/// A workflow invocation as the driver admits it: the caller, the timestamp, the keys and the route. It
/// never leaves the driver; the routed worker gets a <see cref="Messages.PlannedWorkflow"/> and answers
/// with a <see cref="Messages.WorkflowOutcome"/>.
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

    /// <summary>How it ended on its worker, from the batch's executed message; null until then.</summary>
    public WorkflowOutcome? Outcome;

    public WorkflowResult ToResult() => Outcome is { } o
        ? new(o.Status, Ts, o.Reason, o.Outputs, Workflow)
        : new(WorkflowStatus.Failed, Ts, "the workflow has no outcome: its batch was not executed", [], Workflow);

    public override string ToString() => $"{Workflow.Name}@{Ts}";
}
