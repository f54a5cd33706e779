using Leasehold.Runtime.Transport;
using Leasehold.Runtime.Transport.Wire;
using MemoryPack;

namespace Leasehold.Runtime.Serializable.Messages;

/// <summary>
/// The driver's plan for one batch, sent to every worker: the workflows routed to that worker and the
/// batch's whole lease table. Everything in it is data; the worker finds each workflow's code by name in
/// the workflows deployed with it.
/// </summary>
[MemoryPackable]
internal sealed partial record PlanMsg(long Batch, long FirstTs, [property: WireTime] DateTimeOffset Time, PlannedWorkflow[] Workflows, LeaseEntry[] Leases) : Message;

/// <summary>One admitted workflow as its routed worker runs it: per function, its accesses with keys resolved.</summary>
[MemoryPackable]
internal sealed partial record PlannedWorkflow(long Ts, string Workflow, [property: MemoryPackAllowSerialize] Args Args, ResolvedAccess[][] Accesses);

/// <summary>A worker executed its part of a batch and wrote the values it dirtied: the outcome of every workflow routed to it.</summary>
[MemoryPackable]
internal sealed partial record ExecutedMsg(long Batch, WorkflowOutcome[] Outcomes) : Message;

/// <summary>How one workflow ended on its worker: committed with its functions' outputs, or aborted or failed with the reason.</summary>
[MemoryPackable]
internal sealed partial record WorkflowOutcome(long Ts, [property: WireStatus] WorkflowStatus Status, string? Reason, byte[]?[] Outputs);

/// <summary>The store failed under a worker: the driver rolls the cluster back to the last commit (§7).</summary>
[MemoryPackable]
internal sealed partial record WorkerFailedMsg(string Reason) : Message;
