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
    /// <summary>The request was not admitted (queue full, unknown workflow, shutting down): it never ran.</summary>
    Rejected,
    /// <summary>
    /// The cluster stopped while the batch's commit record was being written: the workflow may or may not
    /// have committed. Never treat it as failed.
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

    public byte[]? Output(string functionName)
    {
        if (_workflow is null) throw new InvalidOperationException("this result carries no workflow");
        return Outputs[_workflow.IndexOf(functionName)];
    }

    public static WorkflowResult Rejected(string reason) => new(WorkflowStatus.Rejected, -1, reason, [], null);

    public override string ToString() => Status == WorkflowStatus.Committed ? $"committed@{Timestamp}" : $"{Status}@{Timestamp}: {Reason}";
}
