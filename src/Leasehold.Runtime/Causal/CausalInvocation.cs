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
/// <para>What each status means, by consistency level:</para>
/// <list type="bullet">
/// <item><see cref="WorkflowStatus.Committed"/>: every function ran; its writes are visible (with a store and
/// synchronous durability, also durable). The token carries the whole workflow.</item>
/// <item><see cref="WorkflowStatus.Failed"/>, plain causal: a function failed, and the workflow stopped there. The
/// writes of the functions that ran before it stay visible — a causal write is visible when it is made — and under
/// CausalMesh the token carries them, so the next workflow still reads its own writes (the baselines hand back the
/// caller's token). Transactional causal: nothing took
/// effect (its writes were buffered), and the token is the caller's. Also Failed: a transaction that aborted
/// <see cref="CausalOptions.TransactionAttempts"/> times, and a function whose key the store holds in a form the
/// causal store cannot read.</item>
/// <item><see cref="WorkflowStatus.Rejected"/>: the request was not admitted (unknown workflow, a malformed placement,
/// a session token of another cluster or size); nothing ran, and the token is the caller's, unchanged.</item>
/// </list>
/// <see cref="Token"/> is never null for a workflow that ran (Committed, Failed); a rejected one hands back the caller's
/// token as it was (null only if it passed none). So a client may always keep <c>result.Token</c>.
/// </summary>
public sealed record CausalResult(WorkflowStatus Status, long WorkflowId, string? Reason, byte[]?[] Outputs, SessionToken? Token, int Aborts = 0)
{
    public bool Succeeded => Status == WorkflowStatus.Committed;

    /// <summary>The workflow that ran (null when the request named none registered): what <see cref="Output"/> finds functions by.</summary>
    public WorkflowDefinition? Workflow { get; init; }

    /// <summary>
    /// The output of <paramref name="functionName"/>, as <see cref="WorkflowResult.Output"/> gives it: a result whose
    /// functions never ran (Rejected, or Unknown after a stop) has none, which throws an
    /// <see cref="InvalidOperationException"/> naming the status and the reason; a Failed one gives what the functions
    /// that ran returned (null for the others). A name the workflow does not have is a <see cref="KeyNotFoundException"/>.
    /// </summary>
    public byte[]? Output(string functionName)
    {
        if (TryGetOutput(functionName, out var output)) return output;
        throw new InvalidOperationException($"this {Status} result of {(Workflow is null ? "a request" : $"workflow '{Workflow.Name}'")} has no output of '{functionName}': its functions never ran ({Reason})");
    }

    /// <summary>
    /// The output of <paramref name="functionName"/>, or false when this result carries no outputs because its
    /// functions never ran. An unknown function name still throws <see cref="KeyNotFoundException"/>: it is a bug,
    /// not an outcome. (A result that names no registered workflow has nothing to check the name against: false.)
    /// </summary>
    public bool TryGetOutput(string functionName, out byte[]? output)
    {
        output = null;
        if (Workflow is null) return false;
        int index = Workflow.IndexOf(functionName);
        if (index >= Outputs.Length) return false;
        output = Outputs[index];
        return true;
    }
}

/// <summary>One function execution as a history records it (the causal checker's unit): who, where, after which parents, and its operations.</summary>
public sealed record CausalFunctionRecord(long Process, long Seq, long Workflow, int Function, int[] Parents, bool Ok, int Server, IReadOnlyList<CausalOp> Ops)
{
    /// <summary>The workflow is a read-write transaction (TCC): all its reads come from one snapshot, its writes are visible together.</summary>
    public bool Transaction { get; init; }
}
