using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// The function time limit measures the body's own running time. In the deterministic mode with time
/// passing while work is queued (timer bias, link latency), a body that takes no time can finish and
/// then wait in the worker's queue past the limit: it must still commit. A body that really runs past
/// its limit (it moves virtual time while it runs) still fails.
/// </summary>
public class TimeLimitMeasuresBodyTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMilliseconds(1);

    private static ClusterOptions Options => new()
    {
        Workers = 2,
        ExecutorsPerWorker = 1,
        FunctionTimeLimit = Limit,
        LinkLatency = TimeSpan.FromMilliseconds(3),
        MaxBatchDelay = TimeSpan.FromMilliseconds(1),
    };

    private static readonly WorkflowDefinition Chain = new WorkflowBuilder("chain")
        .Function("first", f => f.Updates("t", a => a.GetString("a")).Body(ctx =>
            ctx.WriteLong("t", ctx.Args.GetString("a"), ctx.ReadLong("t", ctx.Args.GetString("a")) + 1)))
        .Function("second", f => f.After("first").Updates("t", a => a.GetString("b")).Body(ctx =>
            ctx.WriteLong("t", ctx.Args.GetString("b"), ctx.ReadLong("t", ctx.Args.GetString("b")) + 1)))
        .Build();

    [Fact]
    public void Bodies_that_take_no_time_are_never_failed_for_time_their_notice_spent_queued()
    {
        for (int seed = 0; seed < 40; seed++)
        {
            var sim = new SimulatedCluster(seed, timerBias: 0.3, Options, []);
            sim.Cluster.Register(Chain);
            var random = new Random(seed);
            for (int i = 0; i < 60; i++)
                sim.Submit("chain", Args.Create().Set("a", $"k{random.Next(6)}").Set("b", $"k{random.Next(6)}").Build());
            sim.RunToCompletion();
            for (int i = 0; i < 60; i++)
                Assert.True(sim.Result(i).IsCommitted, $"seed {seed}, request {i}: {sim.Result(i)} (virtual time {sim.Scheduler.VirtualTime.Nanoseconds / 1_000_000} ms)");
        }
    }

    /// <summary>A clock that moves on by a fixed step each time it is read: a body between two readings takes one step.</summary>
    private sealed class SteppingClock(TimeSpan step) : TimeProvider
    {
        private long _now;
        public override long TimestampFrequency => TimeSpan.TicksPerSecond;
        public override long GetTimestamp() => _now += step.Ticks;
    }

    [Fact]
    public void A_body_that_runs_past_its_limit_still_fails()
    {
        // In the deterministic mode a body cannot take time, so the executor's judgement is checked with a
        // clock on which the body takes twice the limit; the real-thread case is FunctionTimeLimitTests.
        var workflow = new WorkflowBuilder("slow")
            .Function("crawl", f => f.Body(ctx => Value.FromLong(1)))
            .Build();
        var function = workflow.Functions[0];
        var context = new OperationContext(workflow, function, Args.Empty, 1, default, [], [], new byte[]?[1]);
        var slow = FunctionRunner.Run(context, function, new SteppingClock(2 * Limit), Limit);
        Assert.Equal(WorkflowStatus.Failed, slow.Status);
        Assert.Contains("'crawl'", slow.Reason);
        Assert.Contains("time limit", slow.Reason);

        var quick = FunctionRunner.Run(context, function, new SteppingClock(Limit / 2), Limit);
        Assert.True(quick.Succeeded, quick.Reason);
    }
}
