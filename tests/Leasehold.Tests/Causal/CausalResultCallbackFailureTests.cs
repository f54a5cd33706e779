using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Causal;

/// <summary>
/// A causal Submit callback is user code: one that throws is caught and counted, every other caller is still
/// answered, the cluster goes on serving, and a stop still completes.
/// </summary>
public class CausalResultCallbackFailureTests
{
    private static Args Key(string k) => Args.Create().Set("k", k).Build();

    private static CausalCluster NewCluster(DeterministicScheduler scheduler, int seed, TimeSpan linkLatency)
    {
        var cluster = new CausalCluster(new CausalOptions { Servers = 3, Seed = seed, LinkLatency = linkLatency }, scheduler);
        cluster.Register(new WorkflowBuilder("post").WithConsistency(Consistency.Causal)
            .Function("write", f => f.Updates("posts", a => a.GetString("k")).Body(ctx => ctx.WriteLong("posts", ctx.Args.GetString("k"), 1)))
            .Build());
        return cluster;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task A_throwing_callback_leaves_the_other_callers_answered_and_the_cluster_serving(int seed)
    {
        var scheduler = new DeterministicScheduler(seed);
        var cluster = NewCluster(scheduler, seed, TimeSpan.Zero);
        var answers = new CausalResult?[4];
        for (int i = 0; i < answers.Length; i++)
        {
            int index = i;
            cluster.Submit("post", Key($"p{i}"), r =>
            {
                answers[index] = r;
                if (index == 1) throw new InvalidOperationException("the application's callback is broken");
            });
        }
        scheduler.RunUntil(() => answers.All(a => a is not null) || scheduler.Fault is not null, 1_000_000);
        Assert.True(scheduler.Fault is null, $"seed {seed}: {scheduler.Fault}");
        Assert.All(answers, a => Assert.True(a is { Succeeded: true }, $"seed {seed}: {a}"));
        Assert.Equal(1, cluster.CallbackFailures);
        Assert.Contains("broken", cluster.LastCallbackFailure!.Message);

        var later = cluster.InvokeAsync("post", Key("p9"));
        scheduler.RunUntil(() => later.IsCompleted || scheduler.Fault is not null, 1_000_000);
        Assert.True(scheduler.Fault is null, $"seed {seed}: {scheduler.Fault}");
        Assert.True((await later.WaitAsync(TimeSpan.FromSeconds(30))).Succeeded, $"seed {seed}");
    }

    [Fact]
    public async Task A_callback_that_throws_when_a_stop_ends_it_leaves_the_other_callers_answered_and_the_stop_complete()
    {
        var scheduler = new DeterministicScheduler(5);
        // Messages take 100 s: both workflows are still running when the 1 s drain timeout ends them.
        var cluster = NewCluster(scheduler, 5, TimeSpan.FromSeconds(100));
        CausalResult? first = null, second = null;
        cluster.Submit("post", Key("a"), r =>
        {
            first = r;
            throw new InvalidOperationException("the application's callback is broken");
        });
        cluster.Submit("post", Key("b"), r => second = r);
        var stop = cluster.StopAsync(TimeSpan.FromSeconds(1));
        scheduler.RunUntil(() => stop.IsCompleted || scheduler.Fault is not null, 1_000_000);
        Assert.Null(scheduler.Fault);
        Assert.True(stop.IsCompleted, $"the stop never completed; second caller got {second?.ToString() ?? "nothing"}");
        await stop;
        Assert.Equal(WorkflowStatus.Unknown, first?.Status);
        Assert.Equal(WorkflowStatus.Unknown, second?.Status);
        Assert.Equal(1, cluster.CallbackFailures);
    }
}
