using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Engine;

/// <summary>A body that never returns must not stall the keys it holds: the watchdog fails its workflow and the rest go on.</summary>
public class WatchdogTests
{
    [Fact]
    public async Task A_body_that_never_returns_fails_its_workflow_and_later_workflows_proceed()
    {
        using var release = new ManualResetEventSlim(false);
        var hang = new WorkflowBuilder("hang")
            .Function("write", f => f.Updates("t", a => a.GetString("k")).Body(ctx => ctx.WriteLong("t", ctx.Args.GetString("k"), 99)))
            .Function("stall", f => f.After("write").Body(ctx => { release.Wait(TimeSpan.FromMinutes(10)); }))
            .Build();
        var add = new WorkflowBuilder("add")
            .Function("add", f => f.Updates("t", a => a.GetString("k")).Body(ctx =>
            {
                long v = ctx.ReadLong("t", ctx.Args.GetString("k")) + 1;
                ctx.WriteLong("t", ctx.Args.GetString("k"), v);
                return Value.FromLong(v);
            }))
            .Build();
        var store = new MemoryStateStore();
        store.Load([new(new StateKey("t", "x"), Value.FromLong(10))]);
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 2, ExecutorsPerWorker = 1, FunctionTimeLimit = TimeSpan.FromSeconds(2) }, scheduler, store);
        cluster.Register(hang);
        cluster.Register(add);
        try
        {
            var x = Args.Create().Set("k", "x").Build();
            var stuck = cluster.InvokeAsync("hang", x);
            var after = cluster.InvokeAsync("add", x);
            // A liveness bound, generous for a loaded machine: without the watchdog both wait for the stall, which only the finally releases.
            await Task.WhenAny(Task.WhenAll(stuck, after), Task.Delay(TimeSpan.FromMinutes(2)));
            Assert.True(stuck.IsCompleted && after.IsCompleted, $"fault={scheduler.Fault} stuck={stuck.IsCompleted} after={after.IsCompleted} outstanding={cluster.Outstanding} lastBatch={cluster.LastCommittedBatch} workerBatches={cluster.WorkerBatchesInFlight} driverBatches={cluster.DriverBatchesInFlight}");
            var results = await Task.WhenAll(stuck, after);
            Assert.Equal(WorkflowStatus.Failed, results[0].Status);
            Assert.Contains("time limit", results[0].Reason);
            Assert.Contains("stall", results[0].Reason);
            Assert.Equal(WorkflowStatus.Committed, results[1].Status);
            Assert.Equal(11, Value.ToLong(results[1].Outputs[0])); // the failed workflow's write of 99 never took effect
            Assert.Null(scheduler.Fault);
        }
        finally
        {
            release.Set();
        }
    }
}
