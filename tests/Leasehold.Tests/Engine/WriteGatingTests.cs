using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;
using Leasehold.Workloads.Banking;

namespace Leasehold.Tests.Engine;

/// <summary>
/// When writes become visible. Strict: only once nothing can still end the workflow, so a bug cannot
/// leave half a workflow behind. Declared (§6): once every MayAbort function finished, so banking —
/// whose writers all follow its only aborter — never waits.
/// </summary>
public class WriteGatingTests
{
    private static SimulatedCluster Banking(int seed, WriteGating gating, BankingWorkload workload) =>
        new(seed, new ClusterOptions { Workers = 3, MaxBatchSize = 8, WriteGating = gating, RemoteOpLatency = TimeSpan.FromMicroseconds(5) },
            workload.InitialState(), [.. workload.Workflows]);

    [Theory]
    [InlineData(WriteGating.Strict, true)]
    [InlineData(WriteGating.DeclaredAborts, false)]
    public async Task Banking_waits_for_outcomes_only_under_strict_gating(WriteGating gating, bool expectBarriers)
    {
        var workload = new BankingWorkload(accounts: 20, initialBalance: 50, theta: 0.9);
        var sim = Banking(7, gating, workload);
        var random = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            var (wf, args) = workload.Next(random);
            sim.Submit(wf, args);
        }
        sim.RunToCompletion();
        foreach (var (wf, args, result) in sim.Submitted) workload.Observe(wf, args, result!);
        Assert.True(workload.AbortedTransfers > 0, "no business abort happened: the test proves nothing");
        Assert.Equal(expectBarriers, sim.Cluster.Counters.OutcomeBarriers > 0);
        var invariant = await workload.CheckAsync(sim.Store);
        Assert.True(invariant.Ok, invariant.Detail);
    }

    [Theory]
    [InlineData(WriteGating.Strict)]
    [InlineData(WriteGating.DeclaredAborts)]
    public void A_failure_after_a_write_is_atomic_under_strict_and_reported_as_not_atomic_under_declared(WriteGating gating)
    {
        var workflow = new WorkflowBuilder("write-then-fail")
            .Function("write", f => f.Updates("t", a => "a").Body(ctx => ctx.WriteLong("t", "a", 2)))
            .Function("fail", f => f.After("write").Body(ctx => throw new InvalidOperationException("bug")))
            .Build();
        var sim = new SimulatedCluster(3, new ClusterOptions { Workers = 2, WriteGating = gating },
            [new(new StateKey("t", "a"), Value.FromLong(1))], workflow);
        int i = sim.Submit("write-then-fail", Args.Empty);
        sim.RunToCompletion();
        var result = sim.Result(i);
        Assert.Equal(WorkflowStatus.Failed, result.Status);
        Assert.Contains("bug", result.Reason);
        if (gating == WriteGating.Strict)
        {
            Assert.Equal(1, sim.CommittedLong("t", "a"));
            Assert.DoesNotContain("NOT ATOMIC", result.Reason);
        }
        else
        {
            Assert.Equal(2, sim.CommittedLong("t", "a"));
            Assert.Contains("NOT ATOMIC", result.Reason);
        }
    }
}
