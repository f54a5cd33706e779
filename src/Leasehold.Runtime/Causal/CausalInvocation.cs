namespace Leasehold.Runtime.Causal;

/// <summary>
/// How one causal workflow is invoked: the caller's session token (read-your-writes from its previous
/// workflow), where each function runs (null: the cluster places them at random), and, for histories,
/// the caller's process id and its workflow counter.
/// </summary>
public sealed record CausalInvocation
{
    public SessionToken? Token { get; init; }
    /// <summary>The server of each function, by index; null places each at random (so the workflow roams).</summary>
    public int[]? Placement { get; init; }
    public long Process { get; init; }
    public long Seq { get; init; }
}

/// <summary>
/// A finished causal workflow: its status, its functions' outputs, the token for the caller's next
/// workflow, and how many of its attempts aborted and were retried (transactions and baselines only).
/// </summary>
public sealed record CausalResult(WorkflowStatus Status, long WorkflowId, string? Reason, byte[]?[] Outputs, SessionToken? Token, int Aborts = 0)
{
    public bool Succeeded => Status == WorkflowStatus.Committed;
}

/// <summary>One function execution as a history records it (the causal checker's unit): who, where, after which parents, and its operations.</summary>
public sealed record CausalFunctionRecord(long Process, long Seq, long Workflow, int Function, int[] Parents, bool Ok, int Server, IReadOnlyList<CausalOp> Ops)
{
    /// <summary>The workflow is a read-write transaction (TCC): all its reads come from one snapshot, its writes are visible together.</summary>
    public bool Transaction { get; init; }
}
