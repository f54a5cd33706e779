using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;
using Leasehold.Workloads.ListAppend;

namespace Leasehold.Tests.Recovery;

/// <summary>Admission permits across rollbacks and a stop: once everything is answered, nothing is outstanding.</summary>
public class AdmissionPermitTests
{
    private static ClusterOptions Options(int workers, int seed) => new()
    {
        Workers = workers, MaxBatchSize = 1 + seed % 12, MaxBatchDelay = TimeSpan.FromMicroseconds(50),
        RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
        AffinityWeight = 0.2, LoadWeight = 3, RecoveryBackoff = TimeSpan.FromMilliseconds(1),
    };

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    [InlineData(23)]
    [InlineData(24)]
    public void Random_store_failures_leave_no_permit_outstanding(int seed)
    {
        var faults = new Random(seed * 7919);
        var (_, sim) = SimulatedHistoryRun.Run(seed, new ListAppendWorkload(activeKeys: 6, maxAppendsPerKey: 20),
            Options(1 + seed % 4, seed), processes: 10, transactions: 400, timerBias: 0.3,
            wrapStore: store => new FaultyStore(store,
                op => faults.NextDouble() < 0.05 ? new IOException($"injected failure of '{op}'") : null,
                faultAfter: op => op is "commit" or "write" or "log" && faults.NextDouble() < 0.05 ? new IOException($"lost reply of '{op}'") : null));
        sim.Scheduler.RunToQuiescence();
        Assert.True(sim.Cluster.Counters.Rollbacks > 0);
        Assert.Equal(0, sim.Cluster.Outstanding);
    }

    [Fact]
    public void A_stop_leaves_no_permit_outstanding()
    {
        const int seed = 4;
        int commits = 0;
        var (_, sim) = SimulatedHistoryRun.Run(seed, new ListAppendWorkload(activeKeys: 5, maxAppendsPerKey: 12),
            Options(4, seed) with { RecoveryAttempts = 2 }, processes: 12, transactions: 300, timerBias: 0.3,
            wrapStore: store => new FaultyStore(store, op => op == "commit" && ++commits >= 6 ? new IOException("disk gone") : null));
        sim.Scheduler.RunToQuiescence();
        Assert.NotNull(sim.Cluster.StopReason);
        Assert.Equal(0, sim.Cluster.Outstanding);
    }
}

public class IdempotencyUnderStoreFailuresTests
{
    private static readonly string[] Keys = ["k0", "k1", "k2", "k3"];

    /// <summary>
    /// Every request is submitted two or three times with one key, at different moments, while store calls
    /// fail at random (lookups included) and some replies are lost after the write landed. Each submission gets
    /// exactly one answer, every committed one the same result; each request's effect is in the state once; no permit leaks.
    /// </summary>
    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    [InlineData(34)]
    [InlineData(35)]
    [InlineData(36)]
    public void Keyed_retries_under_random_store_failures_apply_once_and_answer_once(int seed)
    {
        var lists = new Leasehold.Tests.Recovery.Lists();
        var memory = new Leasehold.Runtime.Storage.MemoryStateStore();
        var faults = new Random(seed * 31);
        var faulty = new FaultyStore(memory,
            op => faults.NextDouble() < 0.04 ? new IOException($"injected failure of '{op}'") : null,
            faultAfter: op => op is "commit" or "write" or "log" && faults.NextDouble() < 0.04 ? new IOException($"lost reply of '{op}'") : null);
        var options = new ClusterOptions
        {
            Workers = 1 + seed % 3, MaxBatchSize = 3, RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
            RecoveryBackoff = TimeSpan.FromMilliseconds(1), RecoveryAttempts = 50,
        };
        var node = new Leasehold.Tests.Recovery.Node(seed, faulty, options, lists.Workflows);
        var random = new Random(seed);
        var byId = new Dictionary<long, List<int>>();
        for (int id = 1; id <= 60; id++)
        {
            var args = Leasehold.Tests.Recovery.Lists.AppendArgs(Keys[random.Next(Keys.Length)], id);
            int copies = 2 + random.Next(2);
            byId[id] = [];
            for (int c = 0; c < copies; c++)
            {
                byId[id].Add(node.Submit(Leasehold.Tests.Recovery.Lists.Append, args, $"req-{id}"));
                for (int s = 0; s < random.Next(40) && node.Scheduler.Step(); s++) { }
            }
        }
        node.RunUntil(() => node.AllAnswered, "answered every request");
        node.Quiesce();
        Assert.Null(node.Cluster.StopReason);
        var state = Keys.SelectMany(k => Leasehold.Tests.Recovery.Lists.Decode(Leasehold.Tests.Recovery.StoreView.Committed(memory, Leasehold.Tests.Recovery.Lists.Table, k))).ToList();
        foreach (var (id, subs) in byId)
        {
            var results = subs.Select(node.Result).ToList(); // exactly one answer each
            Assert.All(results, r => Assert.True(r.IsCommitted, $"seed {seed}: request {id}: {r}"));
            Assert.Single(results.Select(r => r.Timestamp).Distinct());
            Assert.True(state.Count(x => x == id) == 1, $"seed {seed}: request {id} is in the state {state.Count(x => x == id)} times");
        }
        Assert.True(node.Cluster.Counters.Rollbacks > 0, $"seed {seed}: no failure injected");
        Assert.Equal(0, node.Cluster.Outstanding);
    }
}
