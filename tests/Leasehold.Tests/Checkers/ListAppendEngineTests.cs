using Leasehold.Checkers.Histories;
using Leasehold.Checkers.ListAppend;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Transport;
using Leasehold.Tests.Support;
using Leasehold.Workloads.ListAppend;

namespace Leasehold.Tests.Checkers;

/// <summary>The engine against the checker: lease histories are strictly serializable; nocc's are not (the negative control).</summary>
public class ListAppendEngineTests
{
    private static ClusterOptions Options(ProtocolKind protocol, int workers, int seed, TransportKind transport = TransportKind.Inproc) => new()
    {
        Workers = workers,
        Protocol = protocol,
        Transport = transport,
        MaxBatchSize = 1 + seed % 12,
        MaxBatchDelay = TimeSpan.FromMicroseconds(50),
        RemoteOpLatency = TimeSpan.FromMicroseconds(7),
        LinkLatency = TimeSpan.FromMicroseconds(7),
        // Weigh load in so the hot keys are spread over workers and their leases move.
        AffinityWeight = 0.2,
        LoadWeight = 3,
    };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public Task Lease_histories_check_strictly_serializable(int workers) => CheckLeaseHistories(workers, seeds: 25, TransportKind.Inproc);

    /// <summary>The same histories with every message through the wire codec: nothing the checker relies on is shared between nodes.</summary>
    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public Task Lease_histories_over_the_serialising_transport_check_strictly_serializable(int workers) =>
        CheckLeaseHistories(workers, seeds: 8, TransportKind.InprocSerialising);

    private static async Task CheckLeaseHistories(int workers, int seeds, TransportKind transport)
    {
        for (int seed = 1; seed <= seeds; seed++)
        {
            var workload = new ListAppendWorkload(activeKeys: 5, maxAppendsPerKey: 12);
            var (history, sim) = SimulatedHistoryRun.Run(seed, workload, Options(ProtocolKind.Lease, workers, seed, transport), processes: 12, transactions: 400, timerBias: seed % 2 == 0 ? 0.3 : 0);
            var result = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new MemoryHistory(history));
            Assert.True(result.Valid, $"seed {seed}, {workers} workers: {Describe(result)}");
            Assert.True(result.Committed > 300, $"seed {seed}: only {result.Committed} committed");
            Assert.True(result.GraphEdges > result.Committed, $"seed {seed}: the graph has only {result.GraphEdges} edges, so it checks little");
            var invariant = await workload.CheckAsync(sim.Store);
            Assert.True(invariant.Ok, $"seed {seed}: {invariant.Detail}");
        }
    }

    [Fact]
    public void Nocc_histories_are_flagged_on_a_fixed_seed()
    {
        const int seed = 7;
        var workload = new ListAppendWorkload(activeKeys: 3, maxAppendsPerKey: 30);
        var (history, _) = SimulatedHistoryRun.Run(seed, workload, Options(ProtocolKind.NoCC, 4, seed), processes: 16, transactions: 600, timerBias: 0.3);
        var result = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new MemoryHistory(history));
        Assert.False(result.Valid, $"seed {seed}: nocc produced a valid history; the negative control must fail");
        // Lost appends show up as cycles (and lost updates); name what was found for the log.
        long cycles = new[] { AnomalyKinds.G0, AnomalyKinds.G1c, AnomalyKinds.GSingle, AnomalyKinds.G2Item, AnomalyKinds.LostUpdate }
            .Sum(k => result.Counts[k]);
        Assert.True(cycles > 0, $"seed {seed}: {Describe(result)}");
    }

    [Fact]
    public void A_store_that_keeps_failing_gives_info_operations_retired_processes_and_a_valid_history()
    {
        const int seed = 4, processes = 12;
        int commits = 0;
        // From the sixth on, no commit record can be written: the cluster rolls back twice, then stops,
        // and the callers of batches whose input is logged learn that their outcome is unknown.
        var (history, sim) = SimulatedHistoryRun.Run(seed, new ListAppendWorkload(activeKeys: 5, maxAppendsPerKey: 12),
            Options(ProtocolKind.Lease, 4, seed) with { RecoveryAttempts = 2 }, processes, transactions: 300, timerBias: 0.3,
            wrapStore: store => new FaultyStore(store, op => op == "commit" && ++commits >= 6 ? new IOException("disk gone") : null));
        Assert.Equal(3, sim.Cluster.Counters.Rollbacks);
        var info = history.Where(o => o.Type == OpType.Info).ToList();
        Assert.NotEmpty(info);
        foreach (var op in info)
        {
            // Jepsen's rule: a process whose operation ended info never invokes again.
            Assert.DoesNotContain(history, later => later.Process == op.Process && later.Index > op.Index);
        }
        Assert.Contains(history, o => o.Type == OpType.Invoke && o.Process >= processes); // fresh processes took over
        Assert.Contains(history, o => o.Type == OpType.Ok);
        var result = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new MemoryHistory(history));
        Assert.True(result.Valid, $"seed {seed}: {Describe(result)}");
        Assert.Equal(info.Count, result.Unknown);
    }

    /// <summary>
    /// §7's rollback under fire: every store call fails with a small probability (a version write, a
    /// commit record, a load, the batch log, a recovery read), and some replies are lost after the write
    /// landed. Each failure rolls the cluster back to the
    /// last commit with fresh caches and re-executes the logged batches. Every request still gets a final
    /// answer, and the strict checker — which sees an append applied twice as a duplicate — finds nothing.
    /// </summary>
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(16)]
    public void Random_store_failures_are_rolled_back_and_re_executed_without_an_anomaly(int seed)
    {
        var faults = new Random(seed * 7919);
        var (history, sim) = SimulatedHistoryRun.Run(seed, new ListAppendWorkload(activeKeys: 6, maxAppendsPerKey: 20),
            Options(ProtocolKind.Lease, 1 + seed % 4, seed), processes: 10, transactions: 400, timerBias: 0.3,
            wrapStore: store => new FaultyStore(store,
                op => faults.NextDouble() < 0.03 ? new IOException($"injected failure of '{op}'") : null,
                // A commit record (or version write) that landed but whose reply was lost: recovery must find it committed.
                faultAfter: op => op is "commit" or "write" && faults.NextDouble() < 0.03 ? new IOException($"lost reply of '{op}'") : null));
        Assert.True(sim.Cluster.Counters.Rollbacks > 0, $"seed {seed}: no failure was injected");
        Assert.True(sim.Cluster.Counters.BatchesReexecuted > 0, $"seed {seed}: nothing was re-executed");
        Assert.DoesNotContain(history, o => o.Type == OpType.Info);
        var result = new ListAppendChecker(new CheckerOptions { Strict = true }).Check(new MemoryHistory(history));
        Assert.True(result.Valid, $"seed {seed}: {Describe(result)}");
        Assert.Equal(400, history.Count(o => o.Type == OpType.Ok));
    }

    [Fact]
    public void A_replayed_seed_records_the_same_history()
    {
        string Record() => string.Join("\n", SimulatedHistoryRun.Run(3, new ListAppendWorkload(), Options(ProtocolKind.Lease, 4, 3), 8, 200, 0.3)
            .History.Select(HistoryJson.ToLine));
        Assert.Equal(Record(), Record());
    }

    private static string Describe(CheckResult r) =>
        string.Join(", ", r.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key}={c.Value}")) + "\n" +
        string.Join("\n", r.Examples.Take(3).Select(a => a.Explanation));
}
