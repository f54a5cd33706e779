using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Engine;

/// <summary>
/// On real threads, a body that runs past ClusterOptions.FunctionTimeLimit fails its workflow with a
/// reason naming the limit, and what it wrote does not take effect. A behaviour test, not a timing one:
/// the margins (50 ms limit, 300 ms body) are wide.
/// </summary>
public class FunctionTimeLimitTests
{
    private const string T = "t";

    [Fact]
    public async Task A_body_past_its_time_limit_fails_and_its_write_does_not_take_effect()
    {
        using var scheduler = new ThreadPoolScheduler();
        // The slow body outlasts any limit (it waits for the finally), and the limit is far above what the
        // quick body needs even on a loaded machine, so neither outcome depends on how fast the machine is.
        using var release = new ManualResetEventSlim(false);
        var store = new MemoryStateStore();
        store.Load([new(new StateKey(T, "slow"), Value.FromLong(1)), new(new StateKey(T, "fast"), Value.FromLong(1))]);
        var cluster = new SerializableCluster(
            new ClusterOptions { Workers = 2, FunctionTimeLimit = TimeSpan.FromSeconds(2) }, scheduler, store);
        cluster.Register(new WorkflowBuilder("sleepy")
            .Function("dawdle", f => f.Updates(T, a => "slow").Body(ctx =>
            {
                ctx.WriteLong(T, "slow", 42);
                release.Wait(TimeSpan.FromMinutes(10));
            }))
            .Build());
        cluster.Register(new WorkflowBuilder("brisk")
            .Function("hurry", f => f.Updates(T, a => "fast").Body(ctx => ctx.WriteLong(T, "fast", 42)))
            .Build());

        try
        {
            var slow = cluster.InvokeAsync("sleepy", Args.Empty);
            var fast = cluster.InvokeAsync("brisk", Args.Empty);
            var results = await Task.WhenAll(slow, fast).WaitAsync(TimeSpan.FromMinutes(2));

            Assert.Null(scheduler.Fault);
            Assert.True(results[0].Status == WorkflowStatus.Failed, results[0].ToString());
            Assert.Contains("'dawdle'", results[0].Reason);
            Assert.Contains("time limit", results[0].Reason);
            Assert.Equal(1, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "slow"))));

            // The control: a quick body under the same limit commits and its write lands.
            Assert.True(results[1].IsCommitted, results[1].ToString());
            Assert.Equal(42, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "fast"))));

            // A later reader sees the old value of the key the slow body wrote.
            cluster.Register(new WorkflowBuilder("peek")
                .Function("look", f => f.Reads(T, a => "slow").Body(ctx => ctx.Read(T, "slow")))
                .Build());
            var peek = await cluster.InvokeAsync("peek", Args.Empty).WaitAsync(TimeSpan.FromMinutes(2));
            Assert.True(peek.IsCommitted, peek.ToString());
            Assert.Equal(1, Value.ToLong(peek.Output("look")));
        }
        finally
        {
            release.Set();
        }
    }
}
