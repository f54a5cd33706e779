using Leasehold.Checkers.Histories;

namespace Leasehold.Workloads;

/// <summary>A workload whose requests and results can be written as a checkable history.</summary>
public interface IHistoryWorkload : IWorkload
{
    /// <summary>The request as micro-operations, reads unknown (the invocation).</summary>
    MicroOp[] Describe(string workflow, Args args);

    /// <summary>The micro-operations as a committed result saw them (reads filled in).</summary>
    MicroOp[] Completed(string workflow, Args args, WorkflowResult result);
}
