using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Persistence;

/// <summary>§6: both durability modes persist every write; synchronous delivers a result only once its writes are durable.</summary>
public class CausalDurabilityTests
{
    public static TheoryData<int, CausalDurability> Seeds()
    {
        var data = new TheoryData<int, CausalDurability>();
        for (int s = 1; s <= 16; s++) data.Add(s, s % 2 == 0 ? CausalDurability.WriteBehind : CausalDurability.Synchronous);
        return data;
    }

    /// <summary>After quiescence every server holds, per key, the merge of all writes (eager integration); the store must hold exactly that.</summary>
    [Theory]
    [MemberData(nameof(Seeds))]
    public void After_quiescence_the_store_holds_the_merge_of_every_write(int seed, CausalDurability durability)
    {
        var memory = new MemoryStateStore();
        var run = StoreRuns.RunMicro(seed, StoreRuns.Micro(seed, durability), memory, workflows: 120, checkEveryStep: true);
        var store = run.Cluster.Store!;
        Assert.True(store.Idle, $"seed {seed}: the store is not idle at quiescence");
        var stored = StoreRuns.Stored(memory, CausalMicroWorkload.Table, run.Cluster.Options.Servers);
        var written = run.Records.SelectMany(r => r.Ops).Where(o => o.IsWrite).Select(o => o.Key).ToHashSet();
        Assert.Equal(written.OrderBy(k => k.Key), stored.Keys.OrderBy(k => k.Key));
        foreach (var server in run.Cluster.CacheServers)
            foreach (var (key, version) in stored)
            {
                var held = server.CCache[key];
                Assert.True(held.Clock.Equals(version.Clock) && held.Writer.Equals(version.Writer) && Value.SameBytes(held.Value, version.Value),
                    $"seed {seed}: server {server.Id} holds {key} at {held.Clock} (writer {held.Writer}), the store {version.Clock} (writer {version.Writer})");
            }
        long writes = run.Records.Sum(r => r.Ops.Count(o => o.IsWrite));
        Assert.True(store.Batches < writes, $"seed {seed}: {store.Batches} batches for {writes} writes: no group commit");
    }

    /// <summary>
    /// Synchronous: when a result arrives, every version its session wrote is in the store (the store's
    /// merged version is at or above it in the merge order). Write-behind on the same run breaks that,
    /// which shows the check can fail.
    /// </summary>
    [Theory]
    [InlineData(CausalDurability.Synchronous, true)]
    [InlineData(CausalDurability.WriteBehind, false)]
    public void A_synchronous_result_arrives_only_after_its_writes_are_durable(CausalDurability durability, bool expectDurable)
    {
        var memory = new MemoryStateStore();
        var workload = new CausalMicroWorkload(keys: 8, theta: 0.6, length: 3);
        var options = StoreRuns.Micro(4, durability) with { StoreLatency = TimeSpan.FromMicroseconds(300) };
        var run = new CausalRun(4, options, store: StoreRuns.Open(memory));
        run.Cluster.Register(workload.Workflow);
        int notDurable = 0;
        run.Run(processes: 4, workflows: 80, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: false,
            observe: (_, _, _) =>
            {
                var result = run.Results[^1];
                var stored = StoreRuns.Stored(memory, CausalMicroWorkload.Table, options.Servers);
                foreach (var (key, mine) in result.Token!.Open().Local)
                    if (!stored.TryGetValue(key, out var s) || !mine.Clock.LessOrEqual(s.Clock) || VectorClock.CompareArbitration(mine.Writer, s.Writer) > 0) notDurable++;
            });
        if (expectDurable) Assert.Equal(0, notDurable);
        else Assert.True(notDurable > 0, "write-behind never answered before persisting: the check would not catch a broken synchronous mode");
    }
}
