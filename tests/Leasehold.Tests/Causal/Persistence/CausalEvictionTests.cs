using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Persistence;

/// <summary>§5: a bounded C-cache evicts only keys the store holds, and the §7 invariants and causality still hold.</summary>
public class CausalEvictionTests
{
    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void A_small_cache_keeps_the_invariants_after_every_step(int seed)
    {
        var durability = seed % 2 == 0 ? CausalDurability.WriteBehind : CausalDurability.Synchronous;
        var run = StoreRuns.RunMicro(seed, StoreRuns.Micro(seed, durability, capacity: 2 + seed % 3), new MemoryStateStore(), workflows: 80, checkEveryStep: true, keys: 10);
        Assert.True(run.Cluster.CacheServers.Sum(s => s.Evictions) > 0, $"seed {seed}: nothing was evicted; the test would prove nothing");
        Assert.All(run.Cluster.CacheServers, s => Assert.True(s.CCache.Count <= 12, $"seed {seed}: server {s.Id} holds {s.CCache.Count} keys"));
    }

    [Theory]
    [MemberData(nameof(CheckerSeeds))]
    public void Histories_with_eviction_are_causal_with_convergence(int seed)
    {
        var options = StoreRuns.Micro(seed, CausalDurability.WriteBehind, capacity: 3) with { CheckInvariants = false, EagerIntegration = seed % 3 != 0 };
        var run = StoreRuns.RunMicro(seed, options, new MemoryStateStore(), workflows: 600, checkEveryStep: false, keys: 12);
        var result = StoreRuns.Check(run.Records);
        Assert.True(result.Valid, $"seed {seed}: {StoreRuns.Explain(result)}");
    }

    public static TheoryData<int> CheckerSeeds() => [.. Enumerable.Range(1, 12)];

    /// <summary>The media application reads review ids it learns at run time (ReadsAny): misses there discard the attempt and run it again.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(8)]
    [Trait("Category", "Long")]
    public void Any_key_reads_that_miss_are_run_again_and_leave_no_dangling_reference(int seed)
    {
        var media = new MediaWorkload(movies: 3, users: 3);
        var run = new CausalRun(seed, new CausalOptions
        {
            Servers = 2 + seed % 3, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMicroseconds(300), CheckInvariants = true,
            Durability = seed % 2 == 0 ? CausalDurability.WriteBehind : CausalDurability.Synchronous, Capacity = 4, StoreLatency = TimeSpan.FromMicroseconds(30),
        }, media.Initial, StoreRuns.Open(new MemoryStateStore()));
        foreach (var w in media.Workflows) run.Cluster.Register(w);
        run.Run(processes: 6, workflows: 300, media.Next, checkEveryStep: false, observe: media.Observe);
        Assert.True(media.Check().Ok, $"seed {seed}: {media.Check().Detail}");
        Assert.True(run.Cluster.CacheServers.Sum(s => s.Evictions) > 0 && run.Cluster.CacheServers.Sum(s => s.Misses) > 0);
        var result = StoreRuns.Check(run.Records);
        Assert.True(result.Valid, $"seed {seed}: {StoreRuns.Explain(result)}");
    }

    /// <summary>The negative control: evicting keys whose versions are not persisted yet is caught by the invariant checks.</summary>
    [Fact]
    public void Evicting_unpersisted_keys_is_caught()
    {
        var failures = 0;
        foreach (int seed in new[] { 1, 2, 3, 4, 5, 6 })
        {
            var options = StoreRuns.Micro(seed, CausalDurability.WriteBehind, capacity: 2) with { UnsafeEvictUnpersisted = true, StoreLatency = TimeSpan.FromMicroseconds(200) };
            var e = Record.Exception(() => StoreRuns.RunMicro(seed, options, new MemoryStateStore(), workflows: 80, checkEveryStep: true, keys: 10));
            if (e is not null && e.Message.Contains("invariant") || e?.Message.Contains("causal cut") == true) failures++;
        }
        Assert.True(failures > 0, "evicting unpersisted keys was never caught");
    }
}
