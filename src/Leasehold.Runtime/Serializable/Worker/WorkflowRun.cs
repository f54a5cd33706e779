using Leasehold.Runtime.Serializable.Messages;

namespace Leasehold.Runtime.Serializable.Worker;

/// <summary>
/// A workflow as its routed worker runs it: built from the plan's <see cref="PlannedWorkflow"/>, owned by
/// the worker's mailbox, and reported to the driver as a <see cref="WorkflowOutcome"/> once the batch is
/// executed. The driver's half of the request never leaves the driver.
/// </summary>
internal sealed class WorkflowRun(WorkflowDefinition workflow, long ts, long batch, Args args, ResolvedAccess[][] accesses)
{
    public WorkflowDefinition Workflow { get; } = workflow;
    public long Ts { get; } = ts;
    public long Batch { get; } = batch;
    public Args Args { get; } = args;
    /// <summary>Per function (by index): its distinct accesses, keys resolved by the driver.</summary>
    public ResolvedAccess[][] Accesses { get; } = accesses;

    /// <summary>One per function, built by the worker once the batch's lease table says who holds each key.</summary>
    public Operation[] Operations = [];
    public readonly byte[]?[] Outputs = new byte[]?[workflow.Functions.Count];
    public WorkflowStatus? Outcome;
    public string? Reason;
    public int OperationsOutstanding = workflow.Functions.Count;
    public int FunctionsRemaining = workflow.Functions.Count;
    /// <summary>The failure (abort or error) at the lowest position so far; the workflow is decided with it once nothing before it is pending.</summary>
    public (int Position, WorkflowStatus Status, string? Reason)? PendingFailure;
    /// <summary>Functions declared MayAbort that have not finished.</summary>
    public int MayAbortRemaining = workflow.MayAbortCount;
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

    /// <summary>What the driver hears of this workflow: a reported run must have an outcome.</summary>
    public WorkflowOutcome ToOutcome() => new(Ts, Outcome ?? WorkflowStatus.Failed, Reason, Outputs);

    public override string ToString() => $"{Workflow.Name}@{Ts}";
}
