using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Transport;

namespace Leasehold.Tests.Causal;

/// <summary>
/// Read-write transactions (TCC) in the deterministic mode. Every transaction writes the same value to a
/// pair of keys x_k and y_k from two different functions, so any reader that sees one half of a
/// transaction without the other — a fractured read, or reads from two snapshots — reads x_k ≠ y_k.
/// Readers read the two keys in two functions on (usually) different servers.
/// </summary>
public class TransactionTests
{
    private const string T = "pairs";

    private static WorkflowDefinition PairWrite(Consistency consistency) => new WorkflowBuilder("pair-write").WithConsistency(consistency)
        .Function("x", f => f.Updates(T, a => "x" + a.GetLong("k")).Body(ctx => { ctx.WriteLong(T, "x" + ctx.Args.GetLong("k"), ctx.Args.GetLong("v")); return null; }))
        .Function("y", f => f.Updates(T, a => "y" + a.GetLong("k")).Body(ctx => { ctx.WriteLong(T, "y" + ctx.Args.GetLong("k"), ctx.Args.GetLong("v")); return null; }))
        .Function("check", f => f.After("x").After("y").Reads(T, a => "x" + a.GetLong("k")).Reads(T, a => "y" + a.GetLong("k"))
            .Body(ctx => Value.FromLong(ctx.ReadLong(T, "x" + ctx.Args.GetLong("k")) - ctx.ReadLong(T, "y" + ctx.Args.GetLong("k")))))
        .Build();

    /// <summary>Reads x_k, then y_k in a child function; also a second pair j in parallel roots.</summary>
    private static WorkflowDefinition PairRead(Consistency consistency) => new WorkflowBuilder("pair-read").WithConsistency(consistency)
        .Function("rx", f => f.Reads(T, a => "x" + a.GetLong("k")).Body(ctx => Value.FromLong(ctx.ReadLong(T, "x" + ctx.Args.GetLong("k")))))
        .Function("ry", f => f.After("rx").Reads(T, a => "y" + a.GetLong("k")).Body(ctx => Value.FromLong(ctx.ReadLong(T, "y" + ctx.Args.GetLong("k")))))
        .Function("rxj", f => f.Reads(T, a => "x" + a.GetLong("j")).Body(ctx => Value.FromLong(ctx.ReadLong(T, "x" + ctx.Args.GetLong("j")))))
        .Function("ryj", f => f.Reads(T, a => "y" + a.GetLong("j")).Body(ctx => Value.FromLong(ctx.ReadLong(T, "y" + ctx.Args.GetLong("j")))))
        .Build();

    private sealed record Outcome(CausalRun Run, int Fractured, int Committed, int Failed, long Aborts, List<string> Reasons);

    private static Outcome RunPairs(int seed, Consistency consistency, int versions = 4, int workflows = 1200, int keys = 3,
        CausalDurability durability = CausalDurability.None, int capacity = 0, CausalProtocol protocol = CausalProtocol.CausalMesh,
        TransportKind transport = TransportKind.Inproc)
    {
        var options = new CausalOptions
        {
            Protocol = protocol,
            Servers = 2 + seed % 4, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMicroseconds(300),
            EagerIntegration = seed % 3 != 0, CheckInvariants = true, TransactionVersions = versions,
            Durability = durability, Capacity = capacity, StoreLatency = durability == CausalDurability.None ? TimeSpan.Zero : TimeSpan.FromMicroseconds(30),
            Transport = transport,
        };
        var store = durability == CausalDurability.None ? null : Persistence.StoreRuns.Open(new Leasehold.Runtime.Storage.MemoryStateStore());
        var run = new CausalRun(seed, options, store: store);
        run.Cluster.Register(PairWrite(consistency));
        run.Cluster.Register(PairRead(consistency));
        int fractured = 0, committed = 0, failed = 0;
        var reasons = new List<string>();
        long value = 0;
        run.Run(processes: 8, workflows: workflows, r =>
        {
            long k = r.Next(keys);
            return r.Next(2) == 0
                ? ("pair-write", Args.Create().Set("k", k).Set("v", ++value).Build())
                : ("pair-read", Args.Create().Set("k", k).Set("j", (k + 1) % keys).Build());
        }, checkEveryStep: true, observe: (workflow, status, outputs) =>
        {
            if (status != WorkflowStatus.Committed) { failed++; return; }
            committed++;
            if (workflow == "pair-write" && Value.ToLong(outputs[2]) != 0) fractured++; // read-your-writes inside the transaction
            if (workflow == "pair-read" && (Value.ToLong(outputs[0]) != Value.ToLong(outputs[1]) || Value.ToLong(outputs[2]) != Value.ToLong(outputs[3]))) fractured++;
        });
        foreach (var r in run.Results.Where(r => !r.Succeeded)) reasons.Add(r.Reason ?? "");
        return new Outcome(run, fractured, committed, failed, run.Results.Sum(r => (long)r.Aborts), reasons);
    }

    public static IEnumerable<object[]> Seeds => Enumerable.Range(1, 16).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    [Trait("Category", "Long")]
    public void Transactions_read_one_snapshot_and_become_visible_together(int seed)
    {
        var o = RunPairs(seed, Consistency.TransactionalCausal);
        Assert.True(o.Fractured == 0, $"seed {seed}: {o.Fractured} readers saw half a transaction");
        Assert.True(o.Failed == 0, $"seed {seed}: {o.Failed} failed: {string.Join("; ", o.Reasons.Take(3))}");
    }

    /// <summary>
    /// The same over the wire codec, shorter and on fewer seeds (CI's budget): snapshots, buffered writes and commits
    /// cross as bytes; without older versions kept, a stale snapshot aborts and its hint crosses too.
    /// </summary>
    [Theory]
    [InlineData(1, 4)]
    [InlineData(2, 4)]
    [InlineData(5, 0)]
    public void Transactions_read_one_snapshot_and_become_visible_together_over_the_serialising_transport(int seed, int versions)
    {
        var o = RunPairs(seed, Consistency.TransactionalCausal, versions: versions, workflows: 300, keys: versions == 0 ? 2 : 3, transport: TransportKind.InprocSerialising);
        Assert.True(o.Fractured == 0, $"seed {seed}: {o.Fractured} readers saw half a transaction");
        Assert.True(o.Committed > 0, $"seed {seed}: nothing committed");
        if (versions > 0) Assert.True(o.Failed == 0, $"seed {seed}: {o.Failed} failed: {string.Join("; ", o.Reasons.Take(3))}");
        else Assert.True(o.Aborts > 0, $"seed {seed}: no transaction aborted although no older versions are kept");
        Assert.True(o.Run.BytesEncoded > 0, $"seed {seed}: nothing crossed the codec");
    }

    [Theory]
    [InlineData(1, CausalDurability.WriteBehind)]
    [InlineData(2, CausalDurability.Synchronous)]
    [InlineData(3, CausalDurability.WriteBehind)]
    [InlineData(4, CausalDurability.Synchronous)]
    [Trait("Category", "Long")]
    public void Transactions_stay_atomic_through_a_store_with_eviction(int seed, CausalDurability durability)
    {
        // Four pairs, two keys per cache: keys are evicted and loaded again under the transactions' feet.
        var o = RunPairs(seed, Consistency.TransactionalCausal, workflows: 800, keys: 4, durability: durability, capacity: 2);
        Assert.True(o.Fractured == 0, $"seed {seed}: {o.Fractured} readers saw half a transaction");
        Assert.True(o.Failed == 0, $"seed {seed}: {o.Failed} failed: {string.Join("; ", o.Reasons.Take(3))}");
        Assert.True(o.Run.Cluster.Evictions > 0, "nothing was evicted: the test shows nothing about eviction");
    }

    [Fact]
    [Trait("Category", "Long")]
    public void Snapshots_older_than_the_C_cache_are_read_from_the_versions_kept()
    {
        long older = Enumerable.Range(1, 4).Sum(seed => RunPairs(seed, Consistency.TransactionalCausal).Run.Cluster.CacheServers.Sum(s => s.OlderReads));
        Assert.True(older > 0, "no read needed an older version: the pair test never exercised the kept versions");
    }

    [Fact]
    public void The_same_workflows_without_transactions_are_seen_half_done()
    {
        // The negative control: as plain causal workflows, the two writes are two events, and a reader on
        // another server sees one before the other.
        int fractured = 0;
        for (int seed = 1; seed <= 6 && fractured == 0; seed++) fractured += RunPairs(seed, Consistency.Causal).Fractured;
        Assert.True(fractured > 0, "plain causal workflows were never seen half done: the pair check cannot fail");
    }

    [Fact]
    public void Without_older_versions_a_stale_snapshot_aborts_and_the_retry_commits()
    {
        var o = RunPairs(5, Consistency.TransactionalCausal, versions: 0, keys: 2);
        Assert.True(o.Aborts > 0, "no transaction aborted although no older versions are kept");
        Assert.Equal(0, o.Fractured);
        Assert.All(o.Reasons, r => Assert.Contains("aborted", r));
        Assert.True(o.Committed > o.Failed, $"{o.Committed} committed, {o.Failed} failed");
    }

    [Fact]
    [Trait("Category", "Long")]
    public void Older_versions_make_aborts_rarer()
    {
        long none = Enumerable.Range(1, 4).Sum(seed => RunPairs(seed, Consistency.TransactionalCausal, versions: 0, keys: 2).Aborts);
        long eight = Enumerable.Range(1, 4).Sum(seed => RunPairs(seed, Consistency.TransactionalCausal, versions: 8, keys: 2).Aborts);
        Assert.True(eight < none, $"{eight} aborts with 8 versions kept, {none} with none");
    }

    [Fact]
    public void The_checker_flags_transactions_on_the_eventual_control()
    {
        // Eventual gives a transaction no snapshot and applies its writes one by one: its history must be flagged.
        var o = RunPairs(3, Consistency.TransactionalCausal, protocol: CausalProtocol.Eventual);
        Assert.True(o.Fractured > 0, "the eventual control never showed half a transaction on this seed");
        var result = new Leasehold.Checkers.Causal.CausalChecker(new Leasehold.Checkers.Causal.CausalCheckerOptions())
            .Check(new Leasehold.Checkers.Causal.CausalMemoryHistory([.. o.Run.Records.Select(Leasehold.Cli.Bench.Causal.CausalHistoryWriter.ToChecker)]));
        Assert.False(result.Valid);
        Assert.True(result.Counts.GetValueOrDefault("FracturedRead") + result.Counts.GetValueOrDefault("NonSnapshotRead") > 0, string.Join(", ", result.Counts));
    }

    [Fact]
    public void A_retried_transaction_is_recorded_once_and_the_history_is_causal()
    {
        var o = RunPairs(7, Consistency.TransactionalCausal, versions: 0, keys: 2, workflows: 600);
        Assert.True(o.Aborts > 0);
        var records = o.Run.Records;
        Assert.All(records, r => Assert.True(r.Transaction));
        // Aborted attempts leave no record (they had no effect); a workflow whose attempts ran out is recorded by none.
        Assert.Equal(o.Committed, records.Select(r => r.Workflow).Distinct().Count());
        var result = new Leasehold.Checkers.Causal.CausalChecker(new Leasehold.Checkers.Causal.CausalCheckerOptions { Convergence = true })
            .Check(new Leasehold.Checkers.Causal.CausalMemoryHistory([.. records.Select(Leasehold.Cli.Bench.Causal.CausalHistoryWriter.ToChecker)]));
        Assert.True(result.Valid, string.Join("; ", result.Examples.Take(2).Select(e => $"{e.Kind}: {e.Explanation}")));
    }
}

/// <summary>Transactional microbenchmark histories through the causal checker: sessions carried across transactions keep causality.</summary>
public class TransactionCheckerTests
{
    public static IEnumerable<object[]> Seeds => Enumerable.Range(1, 12).Select(s => new object[] { s });

    [Theory]
    [MemberData(nameof(Seeds))]
    [Trait("Category", "Long")]
    public void Transactional_micro_histories_are_causal_with_convergence(int seed)
    {
        var workload = new Leasehold.Workloads.Causal.CausalMicroWorkload(keys: 40 + 20 * (seed % 3), theta: 1.0, length: 3 + seed % 2, Consistency.TransactionalCausal);
        var run = new CausalRun(seed, new CausalOptions
        {
            Servers = 2 + seed % 4, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMilliseconds(1),
            EagerIntegration = seed % 3 != 0, TransactionVersions = seed % 4,
        });
        run.Cluster.Register(workload.Workflow);
        run.Run(processes: 16, workflows: 3000, r => (Leasehold.Workloads.Causal.CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: false);
        var result = new Leasehold.Checkers.Causal.CausalChecker(new Leasehold.Checkers.Causal.CausalCheckerOptions { Convergence = true })
            .Check(new Leasehold.Checkers.Causal.CausalMemoryHistory([.. run.Records.Select(Leasehold.Cli.Bench.Causal.CausalHistoryWriter.ToChecker)]));
        Assert.True(result.Valid, $"seed {seed}: " + string.Join("; ", result.Examples.Take(2).Select(e => $"{e.Kind}: {e.Explanation}")));
    }
}

/// <summary>Regression: a real-thread run's checker found transactions reading below their own session's writes.</summary>
public class TransactionPruningTests
{
    [Fact]
    public void A_stable_own_write_outside_the_snapshot_stays_in_the_session()
    {
        var scheduler = new Leasehold.Runtime.Scheduling.DeterministicScheduler(3);
        var cluster = new Leasehold.Runtime.Hosting.CausalCluster(new CausalOptions { Servers = 3, LinkLatency = TimeSpan.FromMicroseconds(10) }, scheduler);
        var write = new WorkflowBuilder("w").WithConsistency(Consistency.TransactionalCausal)
            .Function("w", f => f.Updates("t", a => "k").Body(ctx => { ctx.WriteLong("t", "k", 5); return null; })).Build();
        cluster.Register(write);
        CausalResult? first = null, second = null;
        cluster.Submit("w", Args.Empty, r => first = r, new CausalInvocation { Placement = [0] });
        scheduler.RunUntil(() => false, 1_000_000);
        cluster.Submit("w", Args.Empty, r => second = r, new CausalInvocation { Placement = [1] }); // spreads the stable vector
        scheduler.RunUntil(() => false, 1_000_000);
        Assert.True(first!.Succeeded && second!.Succeeded);

        int prunedWithout = 0;
        foreach (var server in cluster.CacheServers)
        {
            var session = first.Token!.Open();
            Assert.True(session.Local.ContainsKey(new StateKey("t", "k")));
            prunedWithout += server.Prune(session.Clone());
            session.Snapshot = VectorClock.Zero(3); // a transaction that started before the write was visible
            server.Prune(session);
            Assert.True(session.Local.ContainsKey(new StateKey("t", "k")), $"server {server.Id} pruned an own write the snapshot does not hold");
        }
        Assert.True(prunedWithout > 0, "no server knew the write stable: the test shows nothing");
    }
}
