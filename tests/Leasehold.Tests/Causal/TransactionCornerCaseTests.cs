using Leasehold.Runtime.Causal;
using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;

namespace Leasehold.Tests.Causal;

/// <summary>Read-write transactions in corner cases: registered late, on one server or odd configurations, failing midway.</summary>
public class TransactionCornerCaseTests
{
    private const string T = "t";

    private static WorkflowDefinition Write(string name, Consistency consistency) => new WorkflowBuilder(name).WithConsistency(consistency)
        .Function("w", f => f.Updates(T, a => "k").Body(ctx => { ctx.WriteLong(T, "k", ctx.Args.GetLong("v")); return null; }))
        .Build();

    /// <summary>Runs one workflow to its result, then to quiescence (every lap and stable notice done); no fault allowed.</summary>
    internal static CausalResult Run(DeterministicScheduler scheduler, CausalCluster cluster, string workflow, Args args, CausalInvocation invocation)
    {
        CausalResult? result = null;
        cluster.Submit(workflow, args, r => result = r, invocation);
        scheduler.RunUntil(() => result is not null, 1_000_000);
        Assert.True(result is not null, $"seed {scheduler.Seed}: {workflow} never finished");
        scheduler.RunToQuiescence(); // every lap and stable notice done
        Assert.True(scheduler.Fault is null, $"seed {scheduler.Seed}: {scheduler.Fault}");
        return result!;
    }

    /// <summary>
    /// Kept versions start when a transactional workflow is registered. A key written (and merged into a
    /// C-cache) before that has no history. The history the first later merge starts must begin from the
    /// C-cache version it replaces, not the initial version: otherwise a snapshot that holds the first write
    /// but not the second reads the initial value (nobody's write, although a write ≤ the snapshot exists).
    /// </summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void A_transaction_registered_after_earlier_writes_still_reads_them_from_its_snapshot(int seed)
    {
        var scheduler = new DeterministicScheduler(seed);
        var cluster = new CausalCluster(new CausalOptions { Servers = 2, EagerIntegration = false, CheckInvariants = true, Seed = seed }, scheduler);
        cluster.Register(Write("w-plain", Consistency.Causal));
        cluster.Register(new WorkflowBuilder("spread").WithConsistency(Consistency.Causal)
            .Function("r0", f => f.Reads(T, a => "k").Body(ctx => Value.FromLong(ctx.ReadLong(T, "k"))))
            .Function("r1", f => f.After("r0").Reads(T, a => "k").Body(ctx => Value.FromLong(ctx.ReadLong(T, "k"))))
            .Build());
        // Write 1, head 1: visible at its tail, server 0; a read on 0 then on 1 merges it into server 1's C-cache too.
        Assert.True(Run(scheduler, cluster, "w-plain", Args.Create().Set("v", 1).Build(), new CausalInvocation { Placement = [1] }).Succeeded);
        var spread = Run(scheduler, cluster, "spread", Args.Empty, new CausalInvocation { Placement = [0, 1] });
        Assert.Equal(1, Value.ToLong(spread.Outputs[1]));

        // Now transactions are registered (versions start being kept), and write 2, head 0, becomes visible on server 1 only (no eager integration).
        cluster.Register(Write("w-tx", Consistency.TransactionalCausal));
        cluster.Register(new WorkflowBuilder("tx-read").WithConsistency(Consistency.TransactionalCausal)
            .Function("first", f => f.Body(_ => null))
            .Function("read", f => f.After("first").Reads(T, a => "k").Body(ctx => Value.FromLong(ctx.ReadLong(T, "k"))))
            .Build());
        Assert.True(Run(scheduler, cluster, "w-plain", Args.Create().Set("v", 2).Build(), new CausalInvocation { Placement = [0] }).Succeeded);
        Assert.Equal(2, Value.ToLong(cluster.CacheServers[1].Visible(new StateKey(T, "k")).Value));
        Assert.Equal(1, Value.ToLong(cluster.CacheServers[0].Visible(new StateKey(T, "k")).Value));

        // The snapshot is taken on server 0 (write 1, not write 2); the read runs on server 1, whose C-cache holds write 2.
        var read = Run(scheduler, cluster, "tx-read", Args.Empty, new CausalInvocation { Placement = [0, 1] });
        Assert.True(read.Succeeded, $"seed {seed}: {read.Reason}");
        Assert.True(Value.ToLong(read.Outputs[1]) == 1, $"seed {seed}: the transaction read {Value.ToLong(read.Outputs[1])}, not write 1 (its snapshot holds write 1 and not write 2)");
    }

    /// <summary>
    /// The pair and checker tests run transactions on 2–5 servers only. One server (its own tail, one ring
    /// hop to itself), and larger rings with eager integration off and no kept versions, with a store and a
    /// tiny cache: the invariants after every step and the causal checker with convergence.
    /// </summary>
    [Theory]
    [InlineData(1, 1, true, 4, 0)]
    [InlineData(2, 1, false, 0, 0)]
    [InlineData(3, 1, true, 2, 2)]
    [InlineData(4, 6, false, 1, 0)]
    [InlineData(5, 6, true, 0, 3)]
    [InlineData(6, 3, false, 2, 2)]
    [Trait("Category", "Long")]
    public void Transactions_stay_causal_on_one_server_and_odd_configurations(int seed, int servers, bool eager, int versions, int capacity)
    {
        var workload = new Leasehold.Workloads.Causal.CausalMicroWorkload(keys: 12, theta: 0.9, length: 3 + seed % 2, Consistency.TransactionalCausal);
        var store = capacity > 0 ? Persistence.StoreRuns.Open(new Leasehold.Runtime.Storage.MemoryStateStore()) : null;
        var run = new CausalRun(seed, new CausalOptions
        {
            Servers = servers, LinkLatency = TimeSpan.FromMicroseconds(20), RingJitter = TimeSpan.FromMicroseconds(300), EagerIntegration = eager,
            TransactionVersions = versions, CheckInvariants = true, TransactionAttempts = 1000,
            Durability = capacity > 0 ? (seed % 2 == 0 ? CausalDurability.Synchronous : CausalDurability.WriteBehind) : CausalDurability.None, Capacity = capacity,
        }, store: store);
        run.Cluster.Register(workload.Workflow);
        run.Run(processes: 8, workflows: 600, r => (Leasehold.Workloads.Causal.CausalMicroWorkload.Name, workload.Next(r)), checkEveryStep: true);
        Assert.All(run.Results, r => Assert.True(r.Succeeded, $"seed {seed}: {r.Reason}"));
        var result = Persistence.StoreRuns.Check(run.Records);
        Assert.True(result.Valid, $"seed {seed}: {Persistence.StoreRuns.Explain(result)}");
    }

    /// <summary>A transaction whose later function throws: failed, none of its buffered writes visible anywhere, its records not ok (held).</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void A_transaction_whose_function_throws_leaves_nothing_visible(int seed)
    {
        var scheduler = new DeterministicScheduler(seed);
        var cluster = new CausalCluster(new CausalOptions { Servers = 2, CheckInvariants = true, Seed = seed }, scheduler);
        var records = new List<CausalFunctionRecord>();
        cluster.OnFunction = records.Add;
        cluster.Register(new WorkflowBuilder("bad").WithConsistency(Consistency.TransactionalCausal)
            .Function("w", f => f.Updates(T, a => "k").Body(ctx => { ctx.WriteLong(T, "k", 5); return null; }))
            .Function("boom", f => f.After("w").Body(_ => throw new InvalidOperationException("boom")))
            .Build());
        cluster.Register(new WorkflowBuilder("read").WithConsistency(Consistency.Causal)
            .Function("r", f => f.Reads(T, a => "k").Body(ctx => Value.FromLong(ctx.ReadLong(T, "k"))))
            .Build());
        var bad = Run(scheduler, cluster, "bad", Args.Empty, new CausalInvocation { Placement = [seed % 2, 1 - seed % 2] });
        Assert.Equal(WorkflowStatus.Failed, bad.Status);
        Assert.Contains("boom", bad.Reason);
        Assert.Empty(bad.Token!.Open().Local);
        for (int s = 0; s < 2; s++)
            Assert.True(Value.ToLong(Run(scheduler, cluster, "read", Args.Empty, new CausalInvocation { Token = bad.Token, Placement = [s] }).Outputs[0]) == 0,
                $"seed {seed}: server {s} shows the failed transaction's write");
        Assert.All(records.Where(r => r.Transaction), r => Assert.False(r.Ok));
    }
}
