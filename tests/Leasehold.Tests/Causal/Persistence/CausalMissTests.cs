using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;

namespace Leasehold.Tests.Causal.Persistence;

/// <summary>§6: a miss loads the key from the store, and integrates it only once its deps are covered, loading them first.</summary>
public class CausalMissTests
{
    private const string T = "t";
    private static readonly StateKey A = new(T, "a"), B = new(T, "b");

    private static CausalVersion Version(string value, VectorClock clock, params (StateKey Key, VectorClock Clock)[] deps) =>
        new(System.Text.Encoding.UTF8.GetBytes(value), clock, deps.ToDictionary(d => d.Key, d => d.Clock));

    /// <summary>Commits versions straight into the store, as a previous owner would have.</summary>
    private static void Put(MemoryStateStore store, long batch, params (StateKey Key, CausalVersion Version)[] versions)
    {
        store.WriteVersionsAsync(batch, [.. versions.Select(v => new KeyValuePair<StateKey, byte[]?>(v.Key, CausalVersionCodec.Encode(v.Version)))]);
        store.CommitAsync(batch);
    }

    private static WorkflowDefinition Read(string name, params string[] keys) => new WorkflowBuilder(name).WithConsistency(Consistency.Causal)
        .Function("read", f =>
        {
            foreach (var k in keys) f.Reads(T, _ => k);
            f.Body(ctx => System.Text.Encoding.UTF8.GetBytes(string.Join(",", keys.Select(k => System.Text.Encoding.UTF8.GetString(ctx.Read(T, k) ?? [])))));
        })
        .Build();

    private static string Run(DeterministicScheduler scheduler, CausalCluster cluster, string workflow)
    {
        CausalResult? result = null;
        cluster.Submit(workflow, Args.Empty, r => result = r, new CausalInvocation { Placement = [0] });
        scheduler.RunUntil(() => result is not null, 100_000);
        if (scheduler.Fault is { } fault) throw fault;
        Assert.True(result!.Succeeded, result.Reason);
        return System.Text.Encoding.UTF8.GetString(result.Outputs[0]!);
    }

    private static (DeterministicScheduler, CausalCluster) Cluster(MemoryStateStore store, bool unsafeLoad)
    {
        var scheduler = new DeterministicScheduler(1);
        var cluster = new CausalCluster(new CausalOptions
        {
            Servers = 2, Durability = CausalDurability.WriteBehind, CheckInvariants = true, UnsafeLoadWithoutDeps = unsafeLoad,
        }, scheduler, store: StoreRuns.Open(store));
        cluster.Register(Read("read-a", "a"));
        cluster.Register(Read("read-b", "b"));
        return (scheduler, cluster);
    }

    [Fact]
    public void A_miss_loads_the_deps_that_are_not_cached_first()
    {
        var store = new MemoryStateStore();
        Put(store, 1, (B, Version("b1", VectorClock.Of(0, 1))), (A, Version("a1", VectorClock.Of(0, 2), (B, VectorClock.Of(0, 1)))));
        var (scheduler, cluster) = Cluster(store, unsafeLoad: false);
        Assert.Equal("a1", Run(scheduler, cluster, "read-a"));
        var server = cluster.CacheServers[0];
        Assert.True(server.IsLoaded(B), "b, a's dep, was loaded with it");
        Assert.Equal(VectorClock.Of(0, 1), server.CCache[B].Clock);
        Assert.Equal(2, cluster.Store!.Reads);
        Invariants.CheckAll(cluster.CacheServers, []);
    }

    /// <summary>
    /// The server has b at an old version; the store then gains a newer a that depends on a newer b. The
    /// load must reload b; the negative control (load a alone) leaves a served over the old b, and the
    /// invariant checks catch the broken cut — which the function would then read: a2 with b1.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_dep_cached_at_an_older_version_is_loaded_again(bool unsafeLoad)
    {
        var store = new MemoryStateStore();
        Put(store, 1, (B, Version("b1", VectorClock.Of(0, 1))));
        var (scheduler, cluster) = Cluster(store, unsafeLoad);
        Assert.Equal("b1", Run(scheduler, cluster, "read-b"));
        Put(store, 2, (B, Version("b2", VectorClock.Of(0, 3))), (A, Version("a2", VectorClock.Of(0, 4), (B, VectorClock.Of(0, 3)))));
        if (unsafeLoad)
        {
            var e = Assert.Throws<CausalInvariantException>(() => Run(scheduler, cluster, "read-a"));
            Assert.Contains("not a causal cut", e.Message);
            return;
        }
        Assert.Equal("a2", Run(scheduler, cluster, "read-a"));
        Assert.Equal("b2", Run(scheduler, cluster, "read-b"));
        Invariants.CheckAll(cluster.CacheServers, []);
    }
}
