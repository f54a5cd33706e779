using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Engine;

/// <summary>
/// The watchdog replaces an executor stuck in a body that never returns, and work already posted to the
/// stuck executor's mailbox must move too: otherwise it never starts (StartedAt stays 0, so the watchdog
/// never fails it either), its batch never commits, and — commit records being in order — no later batch
/// ever commits: one runaway body would stall the whole cluster.
/// </summary>
public class WatchdogQueuedWorkTests
{
    /// <summary>A bound that turns a hang into a failure, generous for a loaded machine; nothing here asserts speed.</summary>
    private static readonly TimeSpan Liveness = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Work_queued_behind_a_body_that_never_returns_still_completes()
    {
        using var release = new ManualResetEventSlim(false);
        var stalling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var hang = new WorkflowBuilder("hang")
            .Function("stall", f => f.Body(ctx => { stalling.TrySetResult(); release.Wait(TimeSpan.FromMinutes(10)); }))
            .Build();
        var add = new WorkflowBuilder("add")
            .Function("add", f => f.Updates("t", a => a.GetString("k")).Body(ctx =>
                ctx.WriteLong("t", ctx.Args.GetString("k"), ctx.ReadLong("t", ctx.Args.GetString("k")) + 1)))
            .Build();
        var store = new MemoryStateStore();
        store.Load([new(new StateKey("t", "x"), Value.FromLong(10)), new(new StateKey("t", "y"), Value.FromLong(10))]);
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 1, ExecutorsPerWorker = 1, FunctionTimeLimit = TimeSpan.FromMilliseconds(1500) }, scheduler, store);
        cluster.Register(hang);
        cluster.Register(add);
        ThreadPool.GetMinThreads(out int minWorkers, out int minIo);
        ThreadPool.SetMinThreads(Math.Max(minWorkers, 16), minIo); // no thread-pool starvation delay: the point is the executor's queue
        try
        {
            var stuck = cluster.InvokeAsync("hang", Args.Empty);
            await stalling.Task.WaitAsync(Liveness); // the stall body now occupies the only executor
            var queued = cluster.InvokeAsync("add", Args.Create().Set("k", "x").Build()); // posted behind it
            await Task.WhenAny(stuck, Task.Delay(Liveness));
            Assert.True(stuck.IsCompleted, "the stuck workflow was not failed by the watchdog");
            var later = cluster.InvokeAsync("add", Args.Create().Set("k", "y").Build()); // an unrelated key, a fresh executor
            // Without the fix the queued work waits for the stalled body, which only the finally below releases.
            await Task.WhenAny(Task.WhenAll(queued, later), Task.Delay(Liveness));
            Assert.True(queued.IsCompleted && later.IsCompleted,
                $"queued behind the stuck body completed: {queued.IsCompleted}; later unrelated workflow completed: {later.IsCompleted}; outstanding={cluster.Outstanding}, last committed batch {cluster.LastCommittedBatch}");
        }
        finally
        {
            release.Set();
        }
    }
}
