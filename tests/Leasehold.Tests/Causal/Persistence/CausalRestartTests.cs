using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Persistence;

/// <summary>§6: a cluster restarted on the same store serves what was persisted, causally, and fences the old owner out.</summary>
public class CausalRestartTests
{
    private static WorkflowDefinition ReadAll(int keys) => new WorkflowBuilder("read-all").WithConsistency(Consistency.Causal)
        .Function("read", f =>
        {
            for (int k = 0; k < keys; k++)
            {
                string key = "k" + k;
                f.Reads(CausalMicroWorkload.Table, _ => key);
            }
            f.Body(ctx =>
            {
                var all = new List<byte>();
                for (int k = 0; k < keys; k++) all.AddRange(ctx.Read(CausalMicroWorkload.Table, "k" + k) ?? []);
                return [.. all];
            });
        })
        .Build();

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(7)]
    public void A_restarted_cluster_serves_the_persisted_values_causally(int seed)
    {
        var memory = new MemoryStateStore();
        var workload = new CausalMicroWorkload(keys: 6, theta: 0.6, length: 3); // one counter for both lives: written values stay unique
        var first = StoreRuns.RunMicro(seed, StoreRuns.Micro(seed, CausalDurability.WriteBehind), memory, workflows: 100, checkEveryStep: false, workload: workload);
        int servers = first.Cluster.Options.Servers;
        var stored = StoreRuns.Stored(memory, CausalMicroWorkload.Table, servers);
        Assert.NotEmpty(stored);

        // The second incarnation: a fresh scheduler and cluster, nothing cached; every key is a miss.
        var options = StoreRuns.Micro(seed, CausalDurability.Synchronous, capacity: 3);
        var second = new CausalRun(seed + 1000, options, store: StoreRuns.Open(memory));
        second.Cluster.Register(ReadAll(6));
        second.Cluster.Register(workload.Workflow);
        byte[]? snapshot = null;
        second.Run(processes: 1, workflows: 1, _ => ("read-all", Args.Empty), checkEveryStep: true, observe: (_, _, outputs) => snapshot = outputs[0]);
        var expected = Enumerable.Range(0, 6).SelectMany(k => stored.TryGetValue(new(CausalMicroWorkload.Table, "k" + k), out var v) ? v.Value ?? [] : []).ToArray();
        Assert.Equal(expected, snapshot);

        int firstLife = first.Records.Count, readAll = second.Records.Count;
        // More work on top, with evictions; the invariants every step and the checker over the whole second life.
        second.Run(processes: 6, workflows: 150, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: true);
        // One history: the first life, then the second's micro workflows as other processes (the checker needs every value's write).
        var result = StoreRuns.Check(first.Records.Concat(second.Records.Skip(readAll).Select(r => r with { Process = r.Process + 1000, Workflow = r.Workflow + 1_000_000 })));
        Assert.True(result.Valid, $"seed {seed}: {StoreRuns.Explain(result)}");
        Assert.True(second.Cluster.CacheServers.Sum(s => s.Misses) > 0);
    }

    [Fact]
    public void The_old_owner_is_fenced_out_once_a_new_one_claims_the_store()
    {
        var memory = new MemoryStateStore();
        var scheduler = new DeterministicScheduler(1);
        var old = new CausalCluster(new CausalOptions { Servers = 2, Durability = CausalDurability.WriteBehind }, scheduler, store: StoreRuns.Open(memory));
        var workload = new CausalMicroWorkload(keys: 4, theta: 0, length: 3);
        old.Register(workload.Workflow);
        _ = StoreRuns.Open(memory); // a new owner claims it
        old.Submit(CausalMicroWorkload.Name, workload.Next(new Random(1)), _ => { });
        scheduler.RunToQuiescence();
        Assert.IsType<StoreFencedException>(scheduler.Fault);
    }
}
