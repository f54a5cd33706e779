using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Causal.Persistence;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Causal;

namespace Leasehold.Tests.Causal.Persistence;

/// <summary>Helpers for causal runs on a memory store, whose calls complete synchronously (the deterministic mode needs that).</summary>
internal static class StoreRuns
{
    public static CausalStore Open(MemoryStateStore store)
    {
        var opening = CausalStore.OpenAsync(store);
        Assert.True(opening.IsCompleted, "the memory store completes synchronously");
        return opening.GetAwaiter().GetResult();
    }

    /// <summary>Every version the store holds in <paramref name="table"/>, decoded.</summary>
    public static Dictionary<StateKey, CausalVersion> Stored(MemoryStateStore store, string table, int servers) =>
        store.ScanCommittedAsync(table).ToBlockingEnumerable()
            .ToDictionary(row => new StateKey(table, row.Key), row => CausalVersionCodec.Decode(row.Value, servers));

    public static CausalOptions Micro(int seed, CausalDurability durability, int capacity = 0) => new()
    {
        Servers = 1 + seed % 4,
        LinkLatency = TimeSpan.FromMicroseconds(20),
        RingJitter = TimeSpan.FromMicroseconds(200),
        StoreLatency = TimeSpan.FromMicroseconds(seed % 3 * 40),
        EagerIntegration = true,
        CheckInvariants = true,
        Durability = durability,
        Capacity = capacity,
    };

    /// <summary>A micro run on <paramref name="store"/>; every step checks the §7 invariants when asked.</summary>
    public static CausalRun RunMicro(int seed, CausalOptions options, MemoryStateStore store, int workflows, bool checkEveryStep, int keys = 8,
        CausalMicroWorkload? workload = null)
    {
        workload ??= new CausalMicroWorkload(keys: keys, theta: 0.6, length: 3 + seed % 2);
        var run = new CausalRun(seed, options, store: Open(store));
        run.Cluster.Register(workload.Workflow);
        run.Run(processes: 6, workflows: workflows, r => (CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep);
        Assert.All(run.Results, r => Assert.True(r.Succeeded, $"seed {seed}: {r.Reason}"));
        return run;
    }

    public static Leasehold.Checkers.Causal.CausalCheckResult Check(IEnumerable<CausalFunctionRecord> records) =>
        new Leasehold.Checkers.Causal.CausalChecker(new Leasehold.Checkers.Causal.CausalCheckerOptions { Convergence = true })
            .Check(new Leasehold.Checkers.Causal.CausalMemoryHistory([.. records.Select(Leasehold.Cli.Bench.Causal.CausalHistoryWriter.ToChecker)]));

    public static string Explain(Leasehold.Checkers.Causal.CausalCheckResult result) =>
        string.Join("; ", result.Examples.Take(2).Select(e => $"{e.Kind}: {e.Explanation}"));
}
