namespace Leasehold;

public enum WorkflowStatus : byte
{
    /// <summary>The workflow committed: its writes are durable and its outputs are final.</summary>
    Committed,
    /// <summary>A function called Abort: nothing of the workflow took effect.</summary>
    Aborted,
    /// <summary>
    /// A function failed (threw, touched an undeclared key, ran past its time limit). Serializable and transactional
    /// causal workflows: nothing took effect. Plain causal workflows: the writes of the functions that ran before
    /// the failure stay visible (a causal write is visible when it is made), and the result's token carries them.
    /// </summary>
    Failed,
    /// <summary>The request was not admitted (queue full, unknown workflow, the cluster stopped or stopping): it never ran.</summary>
    Rejected,
    /// <summary>
    /// The cluster stopped (a store that kept failing, or a stop whose drain timeout passed) while the
    /// workflow's batch was in the log or its commit record was being written: the workflow may or may not
    /// have committed, and the next start re-executes it. Never treat it as failed; retry with the same
    /// idempotency key to learn the result. (A causal cluster's Unknown: the writes of its finished
    /// functions may be visible.)
    /// </summary>
    Unknown,
}

/// <summary>What a caller gets back. <see cref="Outputs"/> holds every function's output, by function index.</summary>
public sealed class WorkflowResult
{
    private readonly WorkflowDefinition? _workflow;

    public WorkflowResult(WorkflowStatus status, long timestamp, string? reason, byte[]?[] outputs, WorkflowDefinition? workflow)
    {
        Status = status;
        Timestamp = timestamp;
        Reason = reason;
        Outputs = outputs;
        _workflow = workflow;
    }

    public WorkflowStatus Status { get; }
    public long Timestamp { get; }
    /// <summary>The abort reason or the error, naming the function; null when committed.</summary>
    public string? Reason { get; }
    public byte[]?[] Outputs { get; }
    public bool IsCommitted => Status == WorkflowStatus.Committed;

    /// <summary>
    /// The output of <paramref name="functionName"/>. A result whose functions never ran (Rejected, or
    /// Failed before running, as when a key selector threw) has none: that throws an
    /// <see cref="InvalidOperationException"/> naming the status and the reason; <see cref="TryGetOutput"/>
    /// asks without throwing. A name the workflow does not have is a <see cref="KeyNotFoundException"/>.
    /// </summary>
    public byte[]? Output(string functionName)
    {
        if (TryGetOutput(functionName, out var output)) return output;
        throw new InvalidOperationException($"this {Status} result of {(_workflow is null ? "a request" : $"workflow '{_workflow.Name}'")} has no output of '{functionName}': its functions never ran ({Reason})");
    }

    /// <summary>
    /// The output of <paramref name="functionName"/>, or false when this result carries no outputs because
    /// its functions never ran. An unknown function name still throws <see cref="KeyNotFoundException"/>: it is a
    /// bug, not an outcome. (A rejected result carries no workflow to check the name against: it answers false.)
    /// </summary>
    public bool TryGetOutput(string functionName, out byte[]? output)
    {
        output = null;
        if (_workflow is null) return false;
        int index = _workflow.IndexOf(functionName);
        if (index >= Outputs.Length) return false;
        output = Outputs[index];
        return true;
    }

    public static WorkflowResult Rejected(string reason) => new(WorkflowStatus.Rejected, -1, reason, [], null);

    public override string ToString() => Status == WorkflowStatus.Committed ? $"committed@{Timestamp}" : $"{Status}@{Timestamp}: {Reason}";
}
