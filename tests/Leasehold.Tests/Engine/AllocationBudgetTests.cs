using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Workloads.Banking;

namespace Leasehold.Tests.Engine;

/// <summary>
/// Garbage collection is the engine's largest CPU cost, so allocation per transaction is held to a budget.
/// Counted, not timed: the deterministic mode runs everything on this thread, so the bytes this thread
/// allocates are the engine's (and this loop's) for the same seeded work on any machine.
/// </summary>
public class AllocationBudgetTests
{
    /// <summary>The steady state of banking at θ 0.99, 4 workers × 2 executors, 64 requests a batch (4.4 KB/txn before the cuts).</summary>
    private const double BudgetBytesPerCommit = 3_600;

    [Fact]
    public void Banking_allocates_within_its_budget_per_committed_transaction()
    {
        const int seed = 1;
        var workload = new BankingWorkload(accounts: 100_000, initialBalance: 1_000_000, theta: 0.99);
        var store = new MemoryStateStore();
        store.Load(workload.InitialState());
        var scheduler = new DeterministicScheduler(seed);
        var cluster = new SerializableCluster(new ClusterOptions { Workers = 4, ExecutorsPerWorker = 2, MaxBatchSize = 64 }, scheduler, store);
        foreach (var w in workload.Workflows) cluster.Register(w);
        var random = new Random(seed);
        var requests = Enumerable.Range(0, 20_000).Select(_ => workload.Next(random)).ToArray();
        long answered = 0, committed = 0;
        Action<WorkflowResult> onDone = r =>
        {
            answered++;
            if (r.Status == WorkflowStatus.Committed) committed++;
        };
        int cursor = 0;
        void Round()
        {
            long target = answered + 1_000;
            for (int i = 0; i < 1_000; i++, cursor = (cursor + 1) % requests.Length) cluster.Submit(requests[cursor].Workflow, requests[cursor].Args, onDone);
            scheduler.RunUntil(() => answered >= target);
            scheduler.RunToQuiescence();
            Assert.True(scheduler.Fault is null, $"seed {seed}: {scheduler.Fault}");
        }

        for (int r = 0; r < 20; r++) Round(); // warm: keys, chains and statistics exist, the JIT has run
        long before = committed, allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 20; r++) Round();
        double perCommit = (double)(GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / (committed - before);

        Assert.True(committed - before > 15_000, $"seed {seed}: only {committed - before} of 20,000 committed");
        Assert.True(perCommit <= BudgetBytesPerCommit, $"seed {seed}: {perCommit:F0} bytes allocated per committed transaction, over the budget of {BudgetBytesPerCommit:F0}");
    }
}
