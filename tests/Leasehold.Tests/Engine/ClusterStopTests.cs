using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Recovery;
using Leasehold.Tests.Support;

namespace Leasehold.Tests.Engine;

/// <summary>
/// Both clusters can be stopped: requests after the stop are refused naming it, requests admitted
/// before it finish (or, past the drain timeout, are answered with a status that says what may have
/// happened), the stop is idempotent, and the store is disposed only when the cluster owns it.
/// </summary>
public class ClusterStopTests
{
    private static readonly WorkflowDefinition Add = new WorkflowBuilder("add")
        .Function("add", f => f.Updates("t", a => a.GetString("k")).Body(ctx =>
            ctx.WriteLong("t", ctx.Args.GetString("k"), ctx.ReadLong("t", ctx.Args.GetString("k")) + 1)))
        .Build();

    private static Args Key(string k) => Args.Create().Set("k", k).Build();

    /// <summary>Passes every call through and counts disposals.</summary>
    private sealed class DisposalCountingStore(IStateStore inner) : DelegatingStore(inner)
    {
        public int Disposals;

        public override ValueTask DisposeAsync()
        {
            Disposals++;
            return base.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public async Task A_stopped_serializable_cluster_finishes_what_it_admitted_and_refuses_the_rest(int seed, bool ownsStore)
    {
        var scheduler = new DeterministicScheduler(seed);
        var store = new DisposalCountingStore(new MemoryStateStore());
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 2 }, scheduler, store, ownsStore);
        cluster.Register(Add);
        var admitted = new WorkflowResult?[4];
        for (int i = 0; i < admitted.Length; i++)
        {
            int index = i;
            cluster.Submit("add", Key($"k{i % 2}"), r => admitted[index] = r);
        }
        var stop = cluster.StopAsync();
        Assert.Same(stop, cluster.StopAsync());
        WorkflowResult? late = null;
        cluster.Submit("add", Key("k0"), r => late = r);
        Assert.Equal(WorkflowStatus.Rejected, late?.Status);
        Assert.Contains("stopped", late!.Reason);

        scheduler.RunUntil(() => stop.IsCompleted || scheduler.Fault is not null);
        Assert.True(scheduler.Fault is null, $"seed {seed}: {scheduler.Fault}");
        Assert.True(stop.IsCompleted, $"seed {seed}: the stop never completed; outstanding {cluster.Outstanding}");
        await stop;
        await cluster.DisposeAsync(); // idempotent
        Assert.All(admitted, r => Assert.True(r is { IsCommitted: true }, $"seed {seed}: {r}"));
        Assert.Equal(2, Value.ToLong(await store.ReadCommittedAsync(new StateKey("t", "k0"))));
        Assert.Equal(ownsStore ? 1 : 0, store.Disposals);
        Assert.Contains("stopped", cluster.StopReason);
        var after = await cluster.InvokeAsync("add", Key("k1"));
        Assert.Equal(WorkflowStatus.Rejected, after.Status);
        Assert.Contains("stopped", after.Reason);
    }

    [Fact]
    public async Task Requests_still_running_past_the_drain_timeout_are_answered_unknown_and_the_stop_completes()
    {
        var scheduler = new DeterministicScheduler(5);
        // The commit record never comes back: the batch cannot finish, so only the drain timeout ends it.
        var store = new StallingStore(new MemoryStateStore(), (op, _) => op == "commit" ? Stall.BeforeEffect : Stall.No);
        var cluster = new SerializableCluster(new ClusterOptions
        {
            Workers = 1,
            StopDrainTimeout = TimeSpan.FromSeconds(1),
            StoreCallDeadline = TimeSpan.FromSeconds(2),
        }, scheduler, store);
        cluster.Register(Add);
        WorkflowResult? result = null;
        cluster.Submit("add", Key("x"), r => result = r);
        scheduler.RunUntil(() => store.Calls.Any(c => c.Op == "commit"));
        var stop = cluster.StopAsync();
        scheduler.RunUntil(() => stop.IsCompleted || scheduler.Fault is not null);
        Assert.Null(scheduler.Fault);
        Assert.True(stop.IsCompleted, $"the stop never completed; answered: {result}");
        await stop;
        Assert.Equal(WorkflowStatus.Unknown, result?.Status); // its input is in the batch log: the next start re-executes it
        Assert.Contains("stopped", result!.Reason);
    }

    [Fact]
    public async Task A_stopped_causal_cluster_finishes_what_it_admitted_and_refuses_the_rest()
    {
        var scheduler = new DeterministicScheduler(3);
        var cluster = new CausalCluster(new CausalOptions { Servers = 3, Seed = 3 }, scheduler);
        cluster.Register(new WorkflowBuilder("post")
            .WithConsistency(Consistency.Causal)
            .Function("write", f => f.Updates("posts", a => a.GetString("k")).Body(ctx => ctx.WriteLong("posts", ctx.Args.GetString("k"), 1)))
            .Function("read", f => f.After("write").Reads("posts", a => a.GetString("k")).Body(ctx => ctx.Read("posts", ctx.Args.GetString("k"))))
            .Build());
        var admitted = new CausalResult?[3];
        for (int i = 0; i < admitted.Length; i++)
        {
            int index = i;
            cluster.Submit("post", Key($"p{i}"), r => admitted[index] = r);
        }
        var stop = cluster.StopAsync();
        Assert.Same(stop, cluster.StopAsync());
        CausalResult? late = null;
        cluster.Submit("post", Key("p9"), r => late = r);
        Assert.Equal(WorkflowStatus.Rejected, late?.Status);
        Assert.Contains("stopped", late!.Reason);

        scheduler.RunUntil(() => stop.IsCompleted || scheduler.Fault is not null);
        Assert.Null(scheduler.Fault);
        Assert.True(stop.IsCompleted, "the stop never completed");
        await stop;
        await cluster.DisposeAsync();
        Assert.All(admitted, r => Assert.True(r is { Succeeded: true }, $"{r}"));
        var after = await cluster.InvokeAsync("post", Key("p8"));
        Assert.Equal(WorkflowStatus.Rejected, after.Status);

        // A refusal hands back the caller's own token: a client doing `token = result.Token` keeps its session.
        var token = admitted[0]!.Token;
        Assert.NotNull(token);
        CausalResult? refused = null;
        cluster.Submit("post", Key("p7"), r => refused = r, new CausalInvocation { Token = token });
        Assert.Equal(WorkflowStatus.Rejected, refused?.Status);
        Assert.Same(token, refused!.Token);
    }
}
