using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// Admission is bounded by MaxOutstanding: Submit refuses when the queue is full and admits again once
/// answers free room; InvokeAsync waits for room instead of refusing.
/// </summary>
public class AdmissionBackpressureTests
{
    private const string T = "t";

    private static WorkflowDefinition Count() => new WorkflowBuilder("count")
        .Function("inc", f => f.Updates(T, a => "n").Body(ctx =>
        {
            long n = ctx.ReadLong(T, "n") + 1;
            ctx.WriteLong(T, "n", n);
            return Value.FromLong(n);
        }))
        .Build();

    [Fact]
    public void Submit_beyond_max_outstanding_is_rejected_until_answers_free_room()
    {
        for (int seed = 1; seed <= 4; seed++)
        {
            var sim = new SimulatedCluster(seed, new ClusterOptions { Workers = 2, MaxOutstanding = 3 }, [], Count());
            var first = Enumerable.Range(0, 3).Select(_ => sim.Submit("count", Args.Empty)).ToArray();
            Assert.Equal(3, sim.Cluster.Outstanding);
            int refused = sim.Submit("count", Args.Empty);

            // Refused at once, before anything ran; the three admitted are still pending.
            var rejection = sim.Result(refused);
            Assert.Equal(WorkflowStatus.Rejected, rejection.Status);
            Assert.Contains("queue", rejection.Reason);
            Assert.All(first, i => Assert.Null(sim.Submitted[i].Result));

            sim.RunToCompletion();
            Assert.All(first, i => Assert.True(sim.Result(i).IsCommitted, sim.Result(i).ToString()));
            Assert.Equal(0, sim.Cluster.Outstanding);
            Assert.Equal(3, sim.CommittedLong(T, "n")); // the refused request never ran

            var next = Enumerable.Range(0, 3).Select(_ => sim.Submit("count", Args.Empty)).ToArray();
            sim.RunToCompletion();
            Assert.All(next, i => Assert.True(sim.Result(i).IsCommitted, sim.Result(i).ToString()));
            Assert.Equal(6, sim.CommittedLong(T, "n"));
        }
    }

    [Fact]
    public async Task InvokeAsync_waits_for_room_instead_of_refusing()
    {
        using var scheduler = new ThreadPoolScheduler();
        var store = new MemoryStateStore();
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 2, MaxOutstanding = 2 }, scheduler, store);
        cluster.Register(Count());

        const int Calls = 24;
        var calls = Enumerable.Range(0, Calls).Select(_ => Task.Run(() => cluster.InvokeAsync("count", Args.Empty))).ToArray();
        var results = await Task.WhenAll(calls).WaitAsync(TimeSpan.FromMinutes(2)); // a liveness bound, not a speed check

        Assert.Null(scheduler.Fault);
        Assert.All(results, r => Assert.True(r.IsCommitted, r.ToString()));
        // Each saw a distinct count: all 24 ran, one after another on the key.
        Assert.Equal(Enumerable.Range(1, Calls).Select(i => (long)i), results.Select(r => Value.ToLong(r.Output("inc"))).Order());
        Assert.Equal(Calls, Value.ToLong(await store.ReadCommittedAsync(new StateKey(T, "n"))));
        Assert.Equal(0, cluster.Outstanding);
    }
}
