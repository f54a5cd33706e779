using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Recovery;

/// <summary>
/// A store whose write-back keeps failing (a disk error, a lost connection) is rolled back from a few
/// times, then stops the cluster: the requests in flight are answered (Unknown: their batch's input is
/// logged, so the next start re-executes it) and new ones are refused, naming the cause. A store error is an
/// expected event, so it must not fault the mailbox and leave callers waiting.
/// </summary>
public class StoreFailureTests
{
    [Fact]
    public async Task A_failed_store_write_answers_the_requests_in_flight_and_refuses_new_ones()
    {
        using var scheduler = new ThreadPoolScheduler();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 2, RecoveryAttempts = 3 }, scheduler, new FaultyStore(new MemoryStateStore(), op => op == "write" ? new IOException("disk full") : null));
        cluster.Register(new WorkflowBuilder("put")
            .Function("put", f => f.Updates("t", a => "k").Body(ctx => ctx.WriteLong("t", "k", 1)))
            .Build());
        var call = cluster.InvokeAsync("put", Args.Empty);
        var first = await Task.WhenAny(call, Task.Delay(TimeSpan.FromMinutes(2))); // a liveness bound, generous for a loaded machine
        Assert.True(first == call, $"the caller was never answered after the store failed: fault = {scheduler.Fault?.Message}");
        var result = await call;
        Assert.Equal(WorkflowStatus.Unknown, result.Status); // logged, never committed: the next start re-executes it
        Assert.Equal(4, cluster.Counters.Rollbacks);
        Assert.Contains("disk full", result.Reason);
        var later = await cluster.InvokeAsync("put", Args.Empty);
        Assert.Equal(WorkflowStatus.Rejected, later.Status);
        Assert.Contains("disk full", later.Reason);
        Assert.Contains("disk full", cluster.StopReason);
        Assert.Null(scheduler.Fault); // a store error is an expected event, not a protocol fault
    }
}
