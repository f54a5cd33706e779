using Leasehold.Runtime.Hosting;
using Leasehold.Runtime.Scheduling;
using Leasehold.Runtime.Serializable;
using Leasehold.Runtime.Storage;
using Leasehold.Tests.Support;
using Leasehold.Workloads;
using Leasehold.Workloads.JepsenBank;
using Leasehold.Workloads.Cycle;

namespace Leasehold.Tests.Workloads;

/// <summary>
/// The bank and the cycle as the bench drives them: real threads, many clients calling Next and Observe
/// at once (not replayable; it checks the workloads' own thread safety as much as the engine).
/// </summary>
public class CorrectnessWorkloadsOnThreadsTests
{
    [Fact]
    public async Task Bank_holds_with_16_concurrent_clients_on_real_threads()
    {
        var workload = new JepsenBankWorkload();
        var invariant = await Run(workload);
        Assert.True(invariant.Ok, invariant.Detail);
        Assert.True(workload.CommittedTransfers > 0 && workload.ReadsChecked > 0, invariant.Detail);
    }

    [Fact]
    public async Task Cycle_holds_with_16_concurrent_clients_on_real_threads()
    {
        var workload = new CycleWorkload();
        var invariant = await Run(workload);
        Assert.True(invariant.Ok, invariant.Detail);
        Assert.True(workload.CommittedSwaps > 0 && workload.ReadsChecked > 0, invariant.Detail);
    }

    private static async Task<InvariantResult> Run(IWorkload workload, int clients = 16, int requestsPerClient = 40)
    {
        using var scheduler = new ThreadPoolScheduler();
        var store = new MemoryStateStore();
        store.Load(workload.InitialState());
        var cluster = new SerializableCluster(ClosedLoopWorkloadRun.Options(ProtocolKind.Lease, 4, spread: true), scheduler, store);
        foreach (var w in workload.Workflows) cluster.Register(w);
        await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var random = new Random(1000 + c);
            for (int i = 0; i < requestsPerClient; i++)
            {
                var (workflow, args) = workload.Next(random);
                var result = await cluster.InvokeAsync(workflow, args);
                Assert.True(result.Status is WorkflowStatus.Committed or WorkflowStatus.Aborted, $"client {c}: {workflow} {args}: {result}");
                workload.Observe(workflow, args, result);
            }
        })));
        Assert.Null(scheduler.Fault);
        return await workload.CheckAsync(store);
    }
}
