using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Causal.Persistence;

/// <summary>A key whose stored bytes are not a causal version fails the workflow that reads it, with the key and the cause; the cluster goes on.</summary>
public class UnreadableStoredVersionTests
{
    private const string T = "t";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Reading_a_key_the_serializable_engine_wrote_fails_that_workflow_and_the_cluster_keeps_serving(int seed)
    {
        var memory = new MemoryStateStore();
        // What the serializable engine stores: the raw value, not a causal version.
        await memory.LoadAsync([new(new StateKey(T, "serial"), Value.FromLong(42))]);
        var scheduler = new DeterministicScheduler(seed);
        var cluster = new CausalCluster(new CausalOptions { Servers = 3, Durability = CausalDurability.WriteBehind, CheckInvariants = true, Seed = seed },
            scheduler, store: StoreRuns.Open(memory));
        cluster.Register(new WorkflowBuilder("read").WithConsistency(Consistency.Causal)
            .Function("read", f => f.Reads(T, a => a.GetString("key")).Body(ctx => ctx.Read(T, ctx.Args.GetString("key"))))
            .Build());

        CausalResult? bad = null;
        cluster.Submit("read", Args.Create().Set("key", "serial").Build(), r => bad = r, new CausalInvocation { Placement = [seed % 3] });
        scheduler.RunToQuiescence();
        Assert.True(scheduler.Fault is null, $"seed {seed}: {scheduler.Fault}");
        Assert.NotNull(bad);
        Assert.Equal(WorkflowStatus.Failed, bad!.Status);
        Assert.Contains($"{T}/serial", bad.Reason);
        Assert.Contains("format 42 is not one this build reads", bad.Reason);

        CausalResult? good = null;
        cluster.Submit("read", Args.Create().Set("key", "other").Build(), r => good = r, new CausalInvocation { Placement = [seed % 3] });
        scheduler.RunToQuiescence();
        Assert.True(good?.Succeeded, $"seed {seed}: {good?.Reason}");
    }
}
