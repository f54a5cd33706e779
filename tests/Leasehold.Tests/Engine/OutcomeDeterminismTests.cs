using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// When two independent functions of one workflow would both end it (one aborts, one throws), the engine
/// must report the first in (ts, position) order, as the serial reference and any deterministic re-execution
/// do — not whichever finished first, which would make the same request on the same state Aborted under one
/// interleaving and Failed under another.
/// </summary>
public class OutcomeDeterminismTests
{
    [Fact]
    public void A_workflow_ending_in_two_parallel_functions_reports_the_same_outcome_under_every_interleaving()
    {
        var wf = new WorkflowBuilder("two-ends")
            .Function("buggy", f => f.Updates("t", a => "a").Body(ctx => throw new InvalidOperationException("bug")))
            .Function("broke", f => f.Updates("t", a => "b").MayAbort().Body(ctx => ctx.Abort("insufficient funds")))
            .Build();
        var seen = new Dictionary<string, int>();
        for (int seed = 1; seed <= 30; seed++)
        {
            var sim = new SimulatedCluster(seed, new ClusterOptions { Workers = 2, ExecutorsPerWorker = 2 }, [], wf);
            sim.Submit("two-ends", Args.Empty);
            sim.RunToCompletion();
            var r = sim.Result(0);
            string key = $"{r.Status}: {r.Reason}";
            seen[key] = seen.GetValueOrDefault(key) + 1;
        }
        Assert.True(seen.Count == 1, "outcomes over 30 seeds: " + string.Join(" | ", seen.Select(kv => $"{kv.Value}× {kv.Key}")));
    }
}
