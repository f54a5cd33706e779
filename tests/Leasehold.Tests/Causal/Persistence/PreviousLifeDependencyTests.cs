using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Causal.Persistence;

public class PreviousLifeDependencyTests
{
    private const string T = "t";

    private static WorkflowDefinition Write(string key) => new WorkflowBuilder("w-" + key).WithConsistency(Consistency.Causal)
        .Function("w", f => f.Updates(T, a => key).Body(ctx => { ctx.WriteLong(T, key, ctx.Args.GetLong("v")); return null; }))
        .Build();

    /// <summary>
    /// A caller keeps its session token across a restart (a durable, synchronous write of k in life 1). In life 2
    /// its next write is of another key j; the write depends on k at life 1's clock. Nothing in life 2 loads or
    /// writes k, so the store never has k "queued or known stored". The dep must be recognised as an earlier
    /// life's (its clock is below this life's band) and read from the store, or the write of j would park
    /// forever, capping its head's durability, and the synchronous answer would never come.
    /// </summary>
    [Theory]
    [InlineData(41, 1)]
    [InlineData(42, 2)]
    [InlineData(43, 3)]
    public void A_write_depending_on_a_previous_lifes_version_is_answered_and_stored(int seed, int servers)
    {
        var memory = new MemoryStateStore();
        var first = new DeterministicScheduler(seed);
        var life1 = new CausalCluster(new CausalOptions { Servers = servers, Durability = CausalDurability.Synchronous, Seed = seed }, first, store: StoreRuns.Open(memory));
        life1.Register(Write("k"));
        var wrote = TransactionCornerCaseTests.Run(first, life1, "w-k", Args.Create().Set("v", 1).Build(), new CausalInvocation { Placement = [0] });
        Assert.True(wrote.Succeeded, $"seed {seed}: {wrote.Reason}");

        var second = new DeterministicScheduler(seed + 1000);
        var store2 = StoreRuns.Open(memory);
        var life2 = new CausalCluster(new CausalOptions { Servers = servers, Durability = CausalDurability.Synchronous, Seed = seed }, second, store: store2);
        life2.Register(Write("j"));
        CausalResult? result = null;
        life2.Submit("w-j", Args.Create().Set("v", 2).Build(), r => result = r, new CausalInvocation { Token = wrote.Token, Placement = [servers - 1] });
        second.RunUntil(() => result is not null, 1_000_000);
        second.RunToQuiescence();
        Assert.True(second.Fault is null, $"seed {seed}: {second.Fault}");
        Assert.True(result is not null, $"seed {seed}: the synchronous write of j (its session from life 1) was never answered: parked on k, which life 2 never queues");
        Assert.True(result!.Succeeded, $"seed {seed}: {result.Reason}");
        Assert.Equal(2, Value.ToLong(StoreRuns.Stored(memory, T, servers)[new StateKey(T, "j")].Value));
    }

    /// <summary>
    /// As above, but life 1 acknowledged the write of k write-behind and crashed before its batch committed: the
    /// token names k at a clock no store holds and above Base (nothing committed). Life 2's write of j with that
    /// token must not park on k waiting for a write no store will ever hold. Each life numbers its writes in its
    /// own band of clock entries ((epoch − 1)·2^32), so a dep from an earlier life is told apart from a write of
    /// this life still on its first lap, and the write of j is answered.
    /// </summary>
    [Theory]
    [InlineData(51, 1)]
    [InlineData(52, 2)]
    public async Task A_write_depending_on_a_lost_write_behind_version_is_answered(int seed, int servers)
    {
        var memory = new MemoryStateStore();
        var first = new DeterministicScheduler(seed);
        var crashing = new Leasehold.Tests.Support.FaultyStore(memory, op => op == "write" ? new IOException("crash") : null);
        var life1 = new CausalCluster(new CausalOptions { Servers = servers, Durability = CausalDurability.WriteBehind, Seed = seed }, first,
            store: await Leasehold.Runtime.Causal.Persistence.CausalStore.OpenAsync(crashing));
        life1.Register(Write("k"));
        CausalResult? wrote = null;
        life1.Submit("w-k", Args.Create().Set("v", 1).Build(), r => wrote = r, new CausalInvocation { Placement = [0] });
        first.RunUntil(() => wrote is not null, 1_000_000);
        Assert.True(wrote is { Succeeded: true }, $"seed {seed}: {wrote?.Reason}");

        var second = new DeterministicScheduler(seed + 1000);
        var life2 = new CausalCluster(new CausalOptions { Servers = servers, Durability = CausalDurability.Synchronous, Seed = seed }, second, store: StoreRuns.Open(memory));
        life2.Register(Write("j"));
        CausalResult? result = null;
        life2.Submit("w-j", Args.Create().Set("v", 2).Build(), r => result = r, new CausalInvocation { Token = wrote!.Token, Placement = [servers - 1] });
        second.RunUntil(() => result is not null, 1_000_000);
        second.RunToQuiescence();
        Assert.True(second.Fault is null, $"seed {seed}: {second.Fault}");
        Assert.True(result is not null, $"seed {seed}: the synchronous write of j was never answered: parked on k's lost version");
    }
}
