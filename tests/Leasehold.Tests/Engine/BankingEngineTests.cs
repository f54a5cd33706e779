using Leasehold.Runtime.Serializable;
using Leasehold.Tests.Support;
using Leasehold.Workloads.Banking;

namespace Leasehold.Tests.Engine;

public class BankingEngineTests
{
    [Theory]
    [InlineData(ProtocolKind.Lease, 1)]
    [InlineData(ProtocolKind.Lease, 4)]
    [InlineData(ProtocolKind.NoCC, 4)]
    public async Task Banking_runs_to_completion_and_the_lease_protocol_keeps_the_total(ProtocolKind protocol, int workers)
    {
        for (int seed = 1; seed <= 20; seed++)
        {
            var workload = new BankingWorkload(accounts: 50, initialBalance: 1000, theta: 0.99);
            var options = new ClusterOptions
            {
                Workers = workers, Protocol = protocol, MaxBatchSize = 16,
                RemoteOpLatency = TimeSpan.FromMicroseconds(7), LinkLatency = TimeSpan.FromMicroseconds(7),
            };
            var sim = new SimulatedCluster(seed, options, workload.InitialState(), [.. workload.Workflows]);
            var random = new Random(seed);
            for (int i = 0; i < 300; i++)
            {
                var (wf, args) = workload.Next(random);
                sim.Submit(wf, args);
            }
            sim.RunToCompletion();
            foreach (var (wf, args, result) in sim.Submitted) workload.Observe(wf, args, result!);
            Assert.All(sim.Submitted, s => Assert.True(s.Result!.Status is WorkflowStatus.Committed or WorkflowStatus.Aborted, $"seed {seed}: {s.Result}"));
            var invariant = await workload.CheckAsync(sim.Store);
            if (protocol == ProtocolKind.Lease) Assert.True(invariant.Ok, $"seed {seed}: {invariant.Detail}");
        }
    }
}
