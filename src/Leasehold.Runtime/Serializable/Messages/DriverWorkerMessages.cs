using Leasehold.Runtime.Transport;

namespace Leasehold.Runtime.Serializable.Messages;

/// <summary>
/// The driver's plan for one batch, sent to every worker: the workflows routed to that worker and the
/// batch's whole lease table. Everything in it is data; the worker finds each workflow's code by name in
/// the workflows deployed with it.
/// </summary>
internal sealed record PlanMsg(long Batch, long FirstTs, DateTimeOffset Time, PlannedWorkflow[] Workflows, LeaseEntry[] Leases) : Message;

/// <summary>One admitted workflow as its routed worker runs it: per function, its accesses with keys resolved.</summary>
internal sealed record PlannedWorkflow(long Ts, string Workflow, Args Args, ResolvedAccess[][] Accesses);

/// <summary>A worker executed its part of a batch and wrote the values it dirtied: the outcome of every workflow routed to it.</summary>
internal sealed record ExecutedMsg(long Batch, WorkflowOutcome[] Outcomes) : Message;

/// <summary>How one workflow ended on its worker: committed with its functions' outputs, or aborted or failed with the reason.</summary>
internal sealed record WorkflowOutcome(long Ts, WorkflowStatus Status, string? Reason, byte[]?[] Outputs);

/// <summary>The store failed under a worker: the driver rolls the cluster back to the last commit (§7).</summary>
internal sealed record WorkerFailedMsg(string Reason) : Message;
