using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;
using Leasehold.Workloads.Banking;

namespace Leasehold.Tests.Engine;

/// <summary>
/// Business aborts with small balances (§6): a transfer larger than the balance aborts with the reason,
/// nothing of it is visible, and later transfers of the same batch see the balances as they were.
/// </summary>
public class BankingAbortTests
{
    private static Args Transfer(int src, int dst, long amount) =>
        Args.Create().Set("src", $"acct-{src}").Set("dst", $"acct-{dst}").Set("amount", amount).Build();

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public async Task An_overdraft_aborts_and_later_transfers_in_the_batch_see_the_old_balances(int workers)
    {
        for (int seed = 1; seed <= 10; seed++)
        {
            var workload = new BankingWorkload(accounts: 4, initialBalance: 10, theta: 0);
            var options = new ClusterOptions
            {
                Workers = workers, AffinityWeight = 0, LoadWeight = 1,
                LinkLatency = TimeSpan.FromMicroseconds(seed % 3), RemoteOpLatency = TimeSpan.FromMicroseconds(seed % 4),
            };
            var sim = new SimulatedCluster(seed, options, workload.InitialState(), [.. workload.Workflows]);
            int overdraft = sim.Submit(BankingWorkload.Transfer, Transfer(0, 1, 15));
            int fits = sim.Submit(BankingWorkload.Transfer, Transfer(0, 2, 7));
            int drained = sim.Submit(BankingWorkload.Transfer, Transfer(0, 3, 5));
            int fromDst = sim.Submit(BankingWorkload.Transfer, Transfer(1, 0, 10));
            int deposit = sim.Submit(BankingWorkload.Deposit, Args.Create().Set("acct", "acct-3").Set("amount", 1).Build());
            sim.RunToCompletion();
            Assert.Equal(1, sim.Cluster.LastCommittedBatch); // all five in one batch

            var aborted = sim.Result(overdraft);
            Assert.True(aborted.Status == WorkflowStatus.Aborted, $"seed {seed}: {aborted}");
            Assert.Contains("insufficient balance", aborted.Reason);
            Assert.Contains("10 < 15", aborted.Reason);

            var ok = sim.Result(fits);
            Assert.True(ok.IsCommitted, $"seed {seed}: {ok}");
            Assert.Equal(10, Value.ToLong(ok.Output("check"))); // the overdraft withdrew nothing
            Assert.Equal(3, Value.ToLong(ok.Output("withdraw")));
            Assert.Equal(17, Value.ToLong(ok.Output("deposit")));

            var second = sim.Result(drained);
            Assert.Equal(WorkflowStatus.Aborted, second.Status);
            Assert.Contains("insufficient balance: 3 < 5", second.Reason);

            var back = sim.Result(fromDst);
            Assert.True(back.IsCommitted, $"seed {seed}: {back}");
            Assert.Equal(10, Value.ToLong(back.Output("check"))); // the overdraft deposited nothing into acct-1
            Assert.Equal(13, Value.ToLong(back.Output("deposit")));
            Assert.True(sim.Result(deposit).IsCommitted);

            Assert.Equal(13, sim.CommittedLong(BankingWorkload.Table, "acct-0"));
            Assert.Equal(0, sim.CommittedLong(BankingWorkload.Table, "acct-1"));
            Assert.Equal(17, sim.CommittedLong(BankingWorkload.Table, "acct-2"));
            Assert.Equal(11, sim.CommittedLong(BankingWorkload.Table, "acct-3"));

            foreach (var (wf, args, result) in sim.Submitted) workload.Observe(wf, args, result!);
            Assert.Equal(2, workload.AbortedTransfers);
            Assert.Equal(2, workload.CommittedTransfers);
            var invariant = await workload.CheckAsync(sim.Store);
            Assert.True(invariant.Ok, invariant.Detail);
        }
    }
}
