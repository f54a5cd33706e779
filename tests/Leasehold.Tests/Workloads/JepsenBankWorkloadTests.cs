using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;
using Leasehold.Workloads;
using Leasehold.Workloads.JepsenBank;

namespace Leasehold.Tests.Workloads;

/// <summary>
/// Jepsen's bank on the engine (every committed full read and the final state sum to 100, none negative;
/// nocc must break it) and the invariant logic itself on hand-built wrong states and reads.
/// </summary>
public class JepsenBankWorkloadTests
{
    private const int Requests = 300;

    [Theory]
    [InlineData(1, false)]
    [InlineData(4, false)]
    [InlineData(4, true)]
    public async Task Under_lease_every_committed_read_and_the_final_state_sum_to_100(int workers, bool spread)
    {
        long crossWorker = 0;
        for (int seed = 1; seed <= 10; seed++)
        {
            var workload = new JepsenBankWorkload();
            // 12 clients over batches of 8: batches close by size and by delay, so answers interleave with submissions.
            var sim = ClosedLoopWorkloadRun.Run(workload, seed, ClosedLoopWorkloadRun.Options(ProtocolKind.Lease, workers, spread), Requests, clients: 12);
            Assert.All(sim.Submitted, s => Assert.True(s.Result!.Status is WorkflowStatus.Committed or WorkflowStatus.Aborted, $"seed {seed}: {s.Workflow} {s.Args}: {s.Result}"));
            var invariant = await workload.CheckAsync(sim.Store);
            Assert.True(invariant.Ok, $"seed {seed}: {invariant.Detail}");
            Assert.True(workload.CommittedTransfers > 0 && workload.ReadsChecked > 0, $"seed {seed}: no meaningful work: {invariant.Detail}");
            crossWorker += ClosedLoopWorkloadRun.CrossWorker(sim);
        }
        // On 4 workers the reads' two halves and the transfers' accounts must really cross workers.
        Assert.True(workers == 1 || crossWorker > 0, "no access crossed workers in any run on 4 workers");
    }

    [Fact]
    public async Task Nocc_under_contention_breaks_the_invariant_on_seed_1()
    {
        const int seed = 1;
        var workload = new JepsenBankWorkload();
        var sim = ClosedLoopWorkloadRun.Run(workload, seed, ClosedLoopWorkloadRun.Options(ProtocolKind.NoCC, 4), Requests, clients: 64);
        var invariant = await workload.CheckAsync(sim.Store);
        Assert.False(invariant.Ok, $"seed {seed}: nocc kept the bank invariant, so the negative control shows nothing: {invariant.Detail}");
        Assert.True(workload.BadReads > 0, $"seed {seed}: nocc broke the total but no read saw it: {invariant.Detail}");
    }

    [Fact]
    public void The_initial_state_splits_100_as_evenly_as_possible()
    {
        var balances = new JepsenBankWorkload().InitialState().Select(kv => Value.ToLong(kv.Value)).ToArray();
        Assert.Equal([13, 13, 13, 13, 12, 12, 12, 12], balances);
    }

    [Fact]
    public void Next_is_seeded_and_transfers_move_1_to_5_between_distinct_accounts()
    {
        var a = new JepsenBankWorkload(transferShare: 0.5);
        var b = new JepsenBankWorkload(transferShare: 0.5);
        var ra = new Random(7);
        var rb = new Random(7);
        int transfers = 0;
        for (int i = 0; i < 2000; i++)
        {
            var (wf, args) = a.Next(ra);
            var (wf2, args2) = b.Next(rb);
            Assert.Equal(wf, wf2);
            Assert.Equal(args.ToString(), args2.ToString());
            if (wf != JepsenBankWorkload.Transfer) continue;
            transfers++;
            Assert.InRange(args.GetLong("amount"), 1, JepsenBankWorkload.MaxAmount);
            Assert.NotEqual(args.GetString("src"), args.GetString("dst"));
        }
        Assert.InRange(transfers, 850, 1150);
    }

    [Theory]
    [InlineData(new long[] { 13, 13, 13, 13, 12, 12, 12, 11 }, "final total 99")]
    [InlineData(new long[] { 13, 13, 13, 13, 12, 12, 26, -2 }, "1 negative")]
    [InlineData(new long[] { 13, 13, 13, 13, 12, 12, 24 }, "over 7 accounts")]
    public async Task A_wrong_final_state_is_reported(long[] balances, string named)
    {
        var store = new MemoryStateStore();
        store.Load(balances.Select((b, i) => new KeyValuePair<StateKey, byte[]>(new(JepsenBankWorkload.Table, JepsenBankWorkload.AccountKey(i)), Value.FromLong(b))));
        var invariant = await new JepsenBankWorkload().CheckAsync(store);
        Assert.False(invariant.Ok, invariant.Detail);
        Assert.Contains(named, invariant.Detail);
    }

    [Theory]
    [InlineData(new long[] { 13, 13, 13, 13, 12, 12, 12, 11 }, "sums to 99")]
    [InlineData(new long[] { 13, 13, 13, 13, 12, 12, 26, -2 }, "negative")]
    [InlineData(new long[] { 13, 13, 13, 13 }, "malformed")]
    public async Task A_bad_committed_read_is_counted_and_breaks_the_invariant(long[] balances, string named)
    {
        var workload = new JepsenBankWorkload();
        workload.Observe(JepsenBankWorkload.FullRead, Args.Empty, ReadResult(workload, WorkflowStatus.Committed, [13, 13, 13, 13, 12, 12, 12, 12]));
        workload.Observe(JepsenBankWorkload.FullRead, Args.Empty, ReadResult(workload, WorkflowStatus.Committed, balances));
        Assert.Equal(2, workload.ReadsChecked);
        Assert.Equal(1, workload.BadReads);

        var store = new MemoryStateStore();
        store.Load(workload.InitialState());
        var invariant = await workload.CheckAsync(store);
        Assert.False(invariant.Ok, invariant.Detail);
        Assert.Contains(named, invariant.Detail);
    }

    [Fact]
    public void A_read_that_did_not_commit_is_not_checked()
    {
        var workload = new JepsenBankWorkload();
        workload.Observe(JepsenBankWorkload.FullRead, Args.Empty, ReadResult(workload, WorkflowStatus.Failed, [1, 1, 1, 1, 1, 1, 1, 1]));
        Assert.Equal(0, workload.ReadsChecked);
        Assert.Equal(0, workload.BadReads);
    }

    private static WorkflowResult ReadResult(JepsenBankWorkload workload, WorkflowStatus status, long[] balances)
    {
        var read = workload.Workflows.Single(w => w.Name == JepsenBankWorkload.FullRead);
        var outputs = new byte[]?[read.Functions.Count];
        outputs[read.IndexOf(JepsenBankWorkload.Balances)] = Longs.Encode(balances);
        return new WorkflowResult(status, 42, status == WorkflowStatus.Committed ? null : "test", outputs, read);
    }
}
