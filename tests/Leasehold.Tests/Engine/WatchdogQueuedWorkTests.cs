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
    [Fact]
    public async Task Work_queued_behind_a_body_that_never_returns_still_completes()
    {
        using var release = new ManualResetEventSlim(false);
        var hang = new WorkflowBuilder("hang")
            .Function("stall", f => f.Body(ctx => { release.Wait(TimeSpan.FromMinutes(2)); }))
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
            await Task.Delay(300); // the stall body now occupies the only executor
            var queued = cluster.InvokeAsync("add", Args.Create().Set("k", "x").Build()); // posted behind it
            await Task.Delay(2500); // the watchdog has failed 'stall' and replaced the executor
            var later = cluster.InvokeAsync("add", Args.Create().Set("k", "y").Build()); // an unrelated key, a fresh executor
            await Task.WhenAny(Task.WhenAll(stuck, queued, later), Task.Delay(6000));
            Assert.True(stuck.IsCompleted, "the stuck workflow was not failed by the watchdog");
            Assert.True(queued.IsCompleted && later.IsCompleted,
                $"queued behind the stuck body completed: {queued.IsCompleted}; later unrelated workflow completed: {later.IsCompleted}; outstanding={cluster.Outstanding}, last committed batch {cluster.LastCommittedBatch}");
        }
        finally
        {
            release.Set();
        }
    }
}
