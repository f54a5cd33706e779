using Leasehold.Checkers.Histories;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads;

namespace Leasehold.Tests.Support;

/// <summary>
/// Runs a history workload in the deterministic mode with closed-loop Jepsen processes (one request in
/// flight each, a fresh process after an unknown outcome) and records the history in virtual time.
/// </summary>
public static class SimulatedHistoryRun
{
    public static (IReadOnlyList<HistoryOp> History, SimulatedCluster Sim) Run(int seed, IHistoryWorkload workload, ClusterOptions options,
        int processes, int transactions, double timerBias = 0, Func<MemoryStateStore, IStateStore>? wrapStore = null)
    {
        var sim = new SimulatedCluster(seed, timerBias, options, workload.InitialState(), wrapStore, [.. workload.Workflows]);
        using var recorder = new HistoryRecorder(null, () => sim.Scheduler.VirtualTime.Nanoseconds, keepInMemory: true, firstFreshProcess: processes);
        var random = new Random(seed ^ 0x1157);
        int issued = 0, answered = 0;

        void Issue(long process)
        {
            if (issued >= transactions) return;
            issued++;
            var (workflow, args) = workload.Next(random);
            recorder.Invoke(process, workload.Describe(workflow, args));
            sim.Cluster.Submit(workflow, args, result =>
            {
                answered++;
                workload.Observe(workflow, args, result);
                switch (result.Status)
                {
                    case WorkflowStatus.Committed: recorder.Complete(process, OpType.Ok, workload.Completed(workflow, args, result)); break;
                    case WorkflowStatus.Unknown: recorder.Complete(process, OpType.Info, workload.Describe(workflow, args)); process = recorder.FreshProcess(); break;
                    default: recorder.Complete(process, OpType.Fail, workload.Describe(workflow, args)); break;
                }
                Issue(process);
            });
        }

        for (int p = 0; p < processes; p++) Issue(p);
        sim.Scheduler.RunUntil(() => answered == transactions || sim.Scheduler.Fault is not null, 50_000_000);
        if (sim.Scheduler.Fault is { } fault) throw new Xunit.Sdk.XunitException($"seed {seed}: protocol fault: {fault}");
        if (answered != transactions) throw new Xunit.Sdk.XunitException($"seed {seed}: {transactions - answered} of {transactions} requests never answered");
        return (recorder.Ops, sim);
    }
}
